"""The AMI connection: panoramisk's ``Manager`` with reconnect backoff and a health state.

panoramisk reconnects after a fixed ``reconnect_timeout`` and starts its connect tasks
without keeping a reference; here every (re)connect waits a capped exponential delay,
the task and timer are kept, and ``stop()`` ends the loop of retries for good. The
connection's state (``connected`` / ``retrying`` / ``disconnected``), the attempts
since the last success and the age of the last event feed ``/health``.

panoramisk also trusts the peer to speak: it writes Login and waits for the answer
forever, and its pings never check for a reply, so a peer that accepts TCP and says
nothing (a hung Asterisk, a wrong port behind a proxy) left the bridge "connected" for
good, with no retry. Here a watchdog gives the login ``login_timeout`` seconds and the
logged-in connection ``read_timeout`` seconds without a byte (pings answer every
``ping_delay``), then drops the connection and the backoff goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from panoramisk import Manager

from callcenter.ami.backoff import Backoff
from callcenter.ami.protocol import BridgeAMIProtocol
from callcenter.ami.validation import check_value

log = logging.getLogger(__name__)


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"  # not started, or stopped
    CONNECTING = "connecting"  # first attempt under way
    CONNECTED = "connected"  # TCP up (see ``authenticated`` for the login)
    RETRYING = "retrying"  # lost or refused; waiting to try again


class BridgeManager(Manager):
    """A panoramisk Manager that backs off, reports its state and never orphans a task."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str,
        secret: str,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_login: Callable[[BridgeManager], None] | None = None,
        ping_delay: int = 10,
        login_timeout: float = 10.0,
        read_timeout: float = 30.0,
        loop: asyncio.AbstractEventLoop | None = None,
        events: str = "on",
    ) -> None:
        # The login is sent from panoramisk's connect callback: refuse a bad credential
        # here, where the caller sees it, not in a callback nobody awaits.
        check_value("Username", username)
        check_value("Secret", secret)
        super().__init__(
            host=host,
            port=port,
            username=username,
            secret=secret,
            ping_delay=ping_delay,
            ping_interval=ping_delay,
            protocol_factory=BridgeAMIProtocol,
            loop=loop,
            encoding="utf8",
            forgetable_actions=("ping", "login"),
            # "off": a connection for actions only (a standby instance's, issue 19).
            events=events,
        )
        # panoramisk re-sends "awaiting actions" on FullyBooted from an unreferenced task;
        # nothing awaits here any more (BridgeAMIProtocol fails them), so drop that hook.
        self.callbacks["FullyBooted"].remove(self.send_awaiting_actions)
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._login_hook = on_login
        self.state = ConnectionState.DISCONNECTED
        self.last_error: str | None = None
        self.last_event_at: float | None = None
        self.events_received = 0
        self.events_skipped = 0
        self.dispatch_errors = 0
        self._wanted: dict[str, bool | tuple[Callable[[str, str], bool], ...]] = {}
        self._stopped = True
        self._connect_task: asyncio.Task[Any] | None = None
        self._retry_timer: asyncio.TimerHandle | None = None
        self.login_timeout = login_timeout
        self.read_timeout = read_timeout
        self._watchdog: asyncio.TimerHandle | None = None
        self._connected_at = 0.0

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Connect (and keep reconnecting) until ``stop()``. Call from the running loop."""
        self._stopped = False
        self.loop = asyncio.get_running_loop()
        self.state = ConnectionState.CONNECTING
        self.connect()

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self._stopped:
            return None
        self._retry_timer = None
        self._connect_task = super().connect()
        return self._connect_task

    async def stop(self) -> None:
        """Close the connection and cancel any pending retry or connect task."""
        self._stopped = True
        self._disarm()
        if self._retry_timer is not None:
            self._retry_timer.cancel()
            self._retry_timer = None
        task, self._connect_task = self._connect_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.close()
        self.state = ConnectionState.DISCONNECTED

    # -- panoramisk callbacks -----------------------------------------------------------

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled():
            return
        exc = f.exception()
        if self._stopped:
            if exc is None:
                f.result()[0].close()
            return
        if exc is not None:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("AMI connect failed: %s", self.last_error)
            self._retry()
            return
        if getattr(f.result()[1], "lost", False):  # closed before we could adopt it
            self.last_error = "connection closed by the server at once"
            log.warning("AMI %s", self.last_error)
            self._retry()
            return
        super().connection_made(f)
        self.state = ConnectionState.CONNECTED
        self._connected_at = time.monotonic()
        self._arm()

    def login(self, future: asyncio.Future[Any]) -> bool:
        if future.cancelled() or future.exception() is not None:
            self.authenticated = False
            return False
        ok = bool(super().login(future))
        if ok:
            self.backoff.reset()
            self.last_error = None
            if self._login_hook is not None:
                self._login_hook(self)
        else:
            log.error("AMI login refused for user %s", self.config.get("username"))
            self._give_up("AMI login refused")
        return ok

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._connected = False
        self.authenticated = False
        self._cancel_pinger()
        if self._stopped:
            return
        self.last_error = f"connection lost: {exc}" if exc else "connection lost"
        log.error("AMI %s", self.last_error)
        self._retry()

    # -- watchdog: total deadlines on the login and on silence --------------------------

    def _arm(self) -> None:
        tick = min(self.login_timeout, self.read_timeout) / 4
        self._watchdog = self.loop.call_later(tick, self._check_alive)

    def _disarm(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _check_alive(self) -> None:
        self._watchdog = None
        protocol = self.protocol
        if self._stopped or protocol is None or protocol.closed:
            return
        now = time.monotonic()
        if not self.authenticated and now - self._connected_at > self.login_timeout:
            self._give_up(f"no answer to the AMI login within {self.login_timeout:g} s")
        elif self.authenticated and now - protocol.last_read_at > self.read_timeout:
            self._give_up(f"AMI silent for {self.read_timeout:g} s (pings unanswered)")
        else:
            self._arm()

    def _give_up(self, reason: str) -> None:
        """Drop a connection that cannot be used and try again after the backoff."""
        self._disarm()
        self.last_error = reason
        log.error("AMI %s; reconnecting", reason)
        self.authenticated = False
        self._connected = False
        self._cancel_pinger()
        if self.protocol is not None:
            # Our own close: the protocol will not call connection_lost, so retry here.
            self.protocol.close()
        if not self._stopped:
            self._retry()

    def _cancel_pinger(self) -> None:
        pinger: asyncio.TimerHandle | None = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
            self.pinger = None

    def _retry(self) -> None:
        if self._retry_timer is not None:  # the loss and a refused login both ask for it
            return
        self.state = ConnectionState.RETRYING
        delay = self.backoff.next_delay()
        log.info("AMI reconnect attempt %d in %.1f s", self.backoff.attempts, delay)
        self._retry_timer = self.loop.call_later(delay, self.connect)

    # -- which events are read at all ------------------------------------------------

    def register_event(self, pattern: str, callback: Any = None) -> Any:
        # panoramisk's own __init__ registers before ours has run
        getattr(self, "_wanted", {}).clear()
        return super().register_event(pattern, callback)

    def wants_event(self, name: str, frame: str = "") -> bool:
        """Whether any callback would see this event (``name``, raw ``frame``). A callback
        may narrow its pattern (``"*"``) with a ``wants(name, frame)`` method
        (``EventRouter`` does); one without it wants everything its pattern matches.
        Which callbacks a name reaches is worked out once per name."""
        plan = self._wanted.get(name)
        if plan is None:
            plan = self._plan(name)
            if len(self._wanted) < 2000:  # event names are a small set; never unbounded
                self._wanted[name] = plan
        if isinstance(plan, bool):
            return plan
        return any(wants(name, frame) for wants in plan)

    def _plan(self, name: str) -> bool | tuple[Callable[[str, str], bool], ...]:
        if name.lower() == "shutdown":
            return True
        narrowed: list[Callable[[str, str], bool]] = []
        for pattern, regexp in self.patterns:
            if regexp.match(name) is None:
                continue
            for callback in self.callbacks.get(pattern, ()):
                wants = getattr(callback, "wants", None)
                if wants is None:
                    return True
                narrowed.append(wants)
        return tuple(narrowed) if narrowed else False

    def event_skipped(self) -> None:
        """An event nobody wants arrived (the protocol dropped it unparsed)."""
        self.last_event_at = self._clock()
        self.events_received += 1
        self.events_skipped += 1

    def dispatch(self, event: Any) -> list[str]:
        self.last_event_at = self._clock()
        self.events_received += 1
        try:
            return list(super().dispatch(event))
        except Exception:
            # An exception here would reach asyncio's data_received and close the socket.
            self.dispatch_errors += 1
            log.exception("AMI event handler failed on %s", event.get("Event"))
            return []

    # -- health -------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        """Connected and logged in: actions can be sent."""
        return self.state is ConnectionState.CONNECTED and bool(self.authenticated)

    def health(self) -> dict[str, Any]:
        """What ``/health`` shows about AMI."""
        age = None if self.last_event_at is None else self._clock() - self.last_event_at
        return {
            "state": self.state.value,
            "authenticated": bool(self.authenticated),
            "attempts": self.backoff.attempts,
            "last_event_age_seconds": None if age is None else round(age, 3),
            "events_received": self.events_received,
            "events_skipped": self.events_skipped,
            "dispatch_errors": self.dispatch_errors,
            "frames_dropped": getattr(self.protocol, "frames_dropped", 0),
            "last_error": self.last_error,
        }
