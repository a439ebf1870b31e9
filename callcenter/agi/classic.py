"""Classic AGI: ``AGI(callcenter-agi,main)`` runs the same IVR flows over stdin/stdout.

For a PBX that runs AGI scripts instead of calling the FastAGI server.  pyst2's
``AGI`` reads the environment, watches for ``SIGHUP`` and writes the commands;
answers are read and parsed by the same code as FastAGI
(:mod:`callcenter.agi.protocol`), and the flow runs on the same
:class:`~callcenter.agi.channel.AgiChannel`.  One process serves one call.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from asterisk.agi import AGI, AGIHangup

from callcenter.agi.channel import AgiChannel, AgiTimeout
from callcenter.agi.protocol import AgiEnvironment, AgiProtocolError, AgiResponse, read_response
from callcenter.agi.session import Handler, SessionOutcome, run_handler
from ivr_flows.channel import ChannelHangup

__all__ = ["DEFAULT_ROUTES", "RoutesUnavailable", "load_routes", "main"]

log = logging.getLogger(__name__)

DEFAULT_ROUTES = "callcenter.agi.routes:build_routes"
_HANGUP_TIMEOUT = 2.0


class RoutesUnavailable(RuntimeError):
    """The route table cannot be built (module or function missing)."""


class _Discard:
    """pyst2 echoes the whole environment (caller numbers) to stderr; keep it out of logs."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class FdLines:
    """Bounded line reader on a raw file descriptor.

    Used as pyst2's ``stdin`` and then by a daemon reader thread: ``os.read``
    takes no Python I/O lock, so a thread still blocked in it when the call ends
    cannot stall interpreter shutdown (a buffered ``sys.stdin`` would).
    """

    def __init__(self, fd: int, *, max_line: int) -> None:
        self._fd = fd
        self._max_line = max_line
        self._buffer = bytearray()

    def readline(self) -> str:
        """One line with its ``\\n``; ``""`` at EOF; :class:`AgiProtocolError` if too long."""
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > self._max_line:
                raise AgiProtocolError(f"line longer than {self._max_line} bytes")
            chunk = os.read(self._fd, 4096)
            if not chunk:
                return ""
            self._buffer += chunk
        if end > self._max_line:
            raise AgiProtocolError(f"line longer than {self._max_line} bytes")
        line = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        return line.decode("utf-8", errors="replace")


class PystTransport:
    """AGI commands through pyst2's ``AGI`` object, answers through :class:`FdLines`."""

    def __init__(self, agi: AGI, lines: FdLines, *, command_timeout: float) -> None:
        self._agi = agi
        self._lines = lines
        self._command_timeout = command_timeout
        self._queue: asyncio.Queue[str | BaseException] = asyncio.Queue()
        self._broken = False
        self._pending = False
        loop = asyncio.get_running_loop()
        # A daemon thread: nothing joins it, so a peer that never answers cannot hold exit.
        self._reader = threading.Thread(
            target=self._pump, args=(loop,), name="agi-stdin", daemon=True
        )
        self._reader.start()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                line = self._lines.readline()
            except (AgiProtocolError, OSError) as exc:
                loop.call_soon_threadsafe(self._queue.put_nowait, exc)
                return
            loop.call_soon_threadsafe(self._queue.put_nowait, line)
            if not line:
                return

    async def _readline(self) -> str:
        item = await self._queue.get()
        if isinstance(item, BaseException):
            self._broken = True
            raise item
        if not item.endswith("\n"):
            self._broken = True
            raise ChannelHangup("Asterisk closed the AGI pipe")
        return item.rstrip("\r\n")

    def _send(self, command: str) -> None:
        # One short line into a pipe Asterisk is reading: this write does not block.
        try:
            self._agi.test_hangup()
            self._agi.send_command(command)
        except AGIHangup as exc:
            self._broken = True
            raise ChannelHangup("SIGHUP from Asterisk") from exc
        except OSError as exc:
            self._broken = True
            raise ChannelHangup(f"AGI pipe closed: {exc}") from exc

    async def execute(
        self, command: str, *, wait: float = 0.0, reply_timeout: float | None = None
    ) -> AgiResponse:
        """Send ``command`` and read its answer within the reply timeout."""
        if self._broken:
            raise ChannelHangup(f"{command!r} after the AGI pipe closed")
        limit = (self._command_timeout if reply_timeout is None else reply_timeout) + wait
        self._send(command)
        self._pending = True
        try:
            async with asyncio.timeout(limit):
                response = await read_response(self._readline)
        except ChannelHangup:
            self._broken = True
            raise
        except TimeoutError as exc:
            raise AgiTimeout(f"no answer to {command!r} within {limit:.1f} s") from exc
        self._pending = False
        return response

    async def close_call(self) -> None:
        """Best-effort ``HANGUP``; its answer is read only if the pipe is in step."""
        if self._broken:
            return
        try:
            self._send("HANGUP")
            if not self._pending:
                async with asyncio.timeout(_HANGUP_TIMEOUT):
                    await read_response(self._readline)
        except (TimeoutError, ChannelHangup, AgiProtocolError) as exc:
            log.debug("HANGUP not confirmed: %s", exc)
        self._broken = True


def load_routes(target: str = DEFAULT_ROUTES) -> Mapping[str, Handler]:
    """Import ``module:function`` lazily and call it (no arguments) for the route table."""
    module_name, _, func_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise RoutesUnavailable(
                f"cannot load the IVR routes: module {module_name!r} is missing ({target})"
            ) from exc
        raise
    build: Callable[[], Mapping[str, Handler]] | None = getattr(module, func_name, None)
    if build is None:
        raise RoutesUnavailable(f"cannot load the IVR routes: {target} does not exist")
    return build()


def main(
    argv: Sequence[str] | None = None,
    *,
    routes: Mapping[str, Handler] | None = None,
    session_deadline: float = 30 * 60,
    command_timeout: float = 60.0,
    max_line: int = 16 * 1024,
    stdin_fd: int = 0,
    stdout: TextIO | None = None,
) -> int:
    """Entry point of ``callcenter-agi <script> [args...]``; returns the exit status.

    ``routes`` defaults to :data:`DEFAULT_ROUTES`, imported only now so that a
    missing route module is a clear message rather than an import crash.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING,
        format="callcenter-agi[%(process)d] %(levelname)s %(name)s: %(message)s",
    )
    lines = FdLines(stdin_fd, max_line=max_line)
    try:
        agi = AGI(stdin=lines, stdout=stdout or sys.stdout, stderr=_Discard())
    except AgiProtocolError as exc:
        log.error("not an AGI environment on stdin: %s", exc)
        return 2
    env = AgiEnvironment({k: v for k, v in agi.env.items() if k.startswith("agi_")})
    if routes is None:
        try:
            routes = load_routes()
        except RoutesUnavailable as exc:
            log.error("call %s: %s", env.uniqueid, exc)
            routes = {}
    script = args[0] if args else ""
    return asyncio.run(
        _serve_call(
            agi, lines, env, routes, script=script, arguments=args[1:],
            session_deadline=session_deadline, command_timeout=command_timeout,
        )
    )


async def _serve_call(
    agi: AGI,
    lines: FdLines,
    env: AgiEnvironment,
    routes: Mapping[str, Handler],
    *,
    script: str,
    arguments: Sequence[str],
    session_deadline: float,
    command_timeout: float,
) -> int:
    transport = PystTransport(agi, lines, command_timeout=command_timeout)
    channel = AgiChannel(env, transport, script=script, arguments=arguments)
    handler = routes.get(script)
    if handler is None:
        log.error("call %s: no IVR route for script %r (usage: AGI(callcenter-agi,<script>)),"
                  " hanging up; known: %s", channel.uniqueid, script, sorted(routes))
        await channel.hangup()
        return 1
    outcome = await run_handler(channel, handler, deadline=session_deadline)
    return 0 if outcome in (SessionOutcome.COMPLETED, SessionOutcome.HANGUP) else 1
