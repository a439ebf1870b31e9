"""A minimal asyncio FastAGI responder for end-to-end tests of the PBX bench.

It stands in for the bridge's FastAGI server (``callcenter/agi/``) where a
test only needs to see that Asterisk hands a call over: it reads the
``agi_*`` headers, then lets a test-supplied coroutine drive the call with
raw AGI commands. Every session is recorded for assertions.

It also guards against Asterisk closing the socket before the blank line that
ends the headers (panoramisk 1.4's reader loops forever on that).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

AGI_HOST = "127.0.0.1"
AGI_PORT = 4573


class AgiHangup(Exception):
    """Asterisk closed the connection or reported the channel gone."""


@dataclass
class AgiReply:
    """``200 result=1 (timeout)`` -> code 200, result "1", extra "(timeout)"."""

    code: int
    result: str
    extra: str


@dataclass
class AgiSession:
    """One FastAGI connection: the headers and a command channel."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    headers: dict[str, str] = field(default_factory=dict)
    replies: list[tuple[str, AgiReply]] = field(default_factory=list)

    @property
    def script(self) -> str:
        """The path of agi://host:port/<script> ("main", "survey", ...)."""
        return self.headers.get("agi_network_script", "")

    async def read_headers(self) -> None:
        while True:
            line = await self.reader.readline()
            if not line:
                raise AgiHangup("connection closed before the AGI headers ended")
            text = line.decode(errors="replace").rstrip("\r\n")
            if not text:
                return
            key, _, value = text.partition(":")
            self.headers[key.strip()] = value.strip()

    async def command(self, text: str) -> AgiReply:
        """Send one AGI command and parse its ``200 result=...`` reply."""
        self.writer.write(text.encode() + b"\n")
        await self.writer.drain()
        line = await self.reader.readline()
        if not line:
            raise AgiHangup(f"connection closed during {text!r}")
        raw = line.decode(errors="replace").strip()
        if raw.startswith("HANGUP"):
            raise AgiHangup(raw)
        code, _, rest = raw.partition(" ")
        result, _, extra = rest.removeprefix("result=").partition(" ")
        reply = AgiReply(code=int(code), result=result, extra=extra)
        self.replies.append((text, reply))
        return reply


Flow = Callable[[AgiSession], Awaitable[None]]


@dataclass
class AgiStub:
    """FastAGI server on 127.0.0.1:4573 running ``flow`` for each call."""

    flow: Flow
    host: str = AGI_HOST
    port: int = AGI_PORT
    sessions: list[AgiSession] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _server: asyncio.Server | None = field(default=None, init=False)
    _session_seen: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_for_session(self, *, seconds: float) -> AgiSession:
        """The first session (bounded wait)."""
        await asyncio.wait_for(self._session_seen.wait(), seconds)
        return self.sessions[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AgiSession(reader=reader, writer=writer)
        try:
            await session.read_headers()
            self.sessions.append(session)
            self._session_seen.set()
            await self.flow(session)
        except AgiHangup:
            pass
        except Exception as exc:  # recorded for the test to assert on
            self.errors.append(exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
