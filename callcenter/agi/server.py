"""The FastAGI server: Asterisk's ``AGI(agi://127.0.0.1:4573/<script>)`` lands here.

Built on asyncio streams rather than panoramisk's ``fast_agi`` (which reads
``b''`` forever when Asterisk closes before the blank line, and breaks on
non-async routes).  Every read is bounded in time and length, every session
has a deadline, and every session task is kept so shutdown can cancel it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

from callcenter.agi.channel import AgiChannel, StreamTransport
from callcenter.agi.protocol import (
    MAX_HEADER_LINES,
    AgiEnvironment,
    AgiProtocolError,
    parse_environment_line,
)
from callcenter.agi.session import Handler, SessionOutcome, run_handler
from ivr_flows.channel import ChannelHangup

__all__ = ["FastAgiServer", "FastAgiState"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FastAgiState:
    """A snapshot for ``/health`` and the supervisor page."""

    listening: bool
    host: str
    port: int
    active_sessions: int
    sessions_total: int
    """Connections accepted since start."""
    outcomes: Mapping[str, int]
    """Finished sessions by :class:`SessionOutcome` value, plus ``rejected`` (bad
    headers, unknown script, over capacity)."""


class FastAgiServer:
    """Routes FastAGI sessions by ``agi_network_script`` to async handlers.

    ``routes`` maps a script name (``main``, ``survey``) to a handler.  Use as
    ``async with FastAgiServer(routes) as server:`` or ``start()`` / ``stop()``.
    """

    def __init__(
        self,
        routes: Mapping[str, Handler],
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        session_deadline: float = 30 * 60,
        command_timeout: float = 60.0,
        header_timeout: float = 10.0,
        max_line: int = 16 * 1024,
        max_sessions: int = 4000,
    ) -> None:
        """``command_timeout``: how long Asterisk may take to answer a command, on
        top of the wait the command asks for (a ``GET DATA`` timeout, a recording's
        length); it must cover the longest prompt.  ``max_line`` bounds every line
        read.  Connections beyond ``max_sessions`` are closed at once (Asterisk
        then sets ``AGISTATUS=FAILURE`` and the dialplan goes on)."""
        self._routes = dict(routes)
        self._host = host
        self._port = port
        self._session_deadline = session_deadline
        self._command_timeout = command_timeout
        self._header_timeout = header_timeout
        self._max_line = max_line
        self._max_sessions = max_sessions
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._sessions_total = 0
        self._outcomes: dict[str, int] = {o.value: 0 for o in SessionOutcome}
        self._outcomes["rejected"] = 0
        self._drained = asyncio.Event()
        self._drained.set()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start accepting; the bound port is in :attr:`port` (for ``port=0``)."""
        if self._server is not None:
            raise RuntimeError("FastAGI server already started")
        self._server = await asyncio.start_server(
            self._accept, self._host, self._port, limit=self._max_line, backlog=1024
        )
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on %s:%d, scripts %s", self._host, self._port,
                 sorted(self._routes))

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop accepting, give running calls ``grace`` seconds, then cancel the rest."""
        if self._server is not None:
            self._server.close()
        if self._sessions:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self.wait_idle()
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.gather(*self._sessions, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
            log.info("FastAGI stopped")

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def wait_idle(self) -> None:
        """Return once no session is running (at once if none is)."""
        await self._drained.wait()

    @property
    def port(self) -> int:
        """The TCP port (the real one once started)."""
        return self._port

    def state(self) -> FastAgiState:
        """What ``/health`` reports."""
        return FastAgiState(
            listening=self._server is not None and self._server.is_serving(),
            host=self._host,
            port=self._port,
            active_sessions=len(self._sessions),
            sessions_total=self._sessions_total,
            outcomes=dict(self._outcomes),
        )

    # -- one connection --------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions_total += 1
        self._sessions.add(task)
        self._drained.clear()
        try:
            if len(self._sessions) > self._max_sessions:
                log.warning("FastAGI over capacity (%d sessions), refusing a call",
                            self._max_sessions)
                self._outcomes["rejected"] += 1
                return
            outcome = await self._serve(reader, writer)
            self._outcomes[outcome] += 1
        finally:
            try:
                await _close(writer)
            finally:
                self._sessions.discard(task)
                if not self._sessions:
                    self._drained.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        transport = StreamTransport(reader, writer, command_timeout=self._command_timeout)
        try:
            async with asyncio.timeout(self._header_timeout):
                env = await _read_environment(transport)
        except TimeoutError:
            log.warning("FastAGI peer sent no complete AGI headers within %.0f s",
                        self._header_timeout)
            return "rejected"
        except ChannelHangup:
            log.info("FastAGI peer closed before the end of the AGI headers")
            return "rejected"
        except AgiProtocolError as exc:
            log.warning("FastAGI peer is not speaking AGI: %s", exc)
            return "rejected"
        channel = AgiChannel(env, transport)
        handler = self._routes.get(channel.script)
        if handler is None:
            log.warning("call %s: no IVR route for script %r, hanging up",
                        channel.uniqueid, channel.script)
            await channel.hangup()
            return "rejected"
        log.info("call %s: starting %r", channel.uniqueid, channel.script)
        outcome = await run_handler(channel, handler, deadline=self._session_deadline)
        log.info("call %s: %r ended: %s", channel.uniqueid, channel.script, outcome.value)
        return outcome.value


async def _read_environment(transport: StreamTransport) -> AgiEnvironment:
    """Read ``agi_*`` lines up to the blank line, bounded in count."""
    values: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await transport.readline()
        if line == "":
            if not values:
                raise AgiProtocolError("blank line before any AGI header")
            return AgiEnvironment(values)
        key, value = parse_environment_line(line)
        values[key] = value
    raise AgiProtocolError(f"more than {MAX_HEADER_LINES} AGI header lines")


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close without waiting on a peer that does not read (it would hold the flush)."""
    writer.close()
    try:
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    except TimeoutError:
        writer.transport.abort()
    except (ConnectionError, OSError):
        pass
