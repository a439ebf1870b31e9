"""A small AMI client for the end-to-end tests: log in, send actions, record events.

The tests watch the PBX independently of the bridge under test, so they use
their own plain reader instead of the bridge's panoramisk connection: every
event Asterisk sends is kept in order, and a test waits for the ones it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

Message = dict[str, str]


class AmiError(Exception):
    """AMI refused a login or an action, or the connection dropped."""


def parse_message(block: str) -> Message:
    """``Key: Value`` lines of one AMI message (later duplicate keys win)."""
    message: Message = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            message[key.strip()] = value.strip()
    return message


@dataclass
class AmiClient:
    """One logged-in AMI connection with an ordered record of its events."""

    host: str
    port: int
    username: str
    secret: str
    events: list[Message] = field(default_factory=list)
    _reader: asyncio.StreamReader | None = field(default=None, init=False)
    _writer: asyncio.StreamWriter | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _pending: dict[str, asyncio.Future[Message]] = field(default_factory=dict, init=False)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, init=False)
    _ids: itertools.count[int] = field(default_factory=itertools.count, init=False)

    async def connect(self) -> None:
        """Connect, read the banner, start reading, log in."""
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        await self._reader.readline()  # "Asterisk Call Manager/x.y.z"
        self._task = asyncio.create_task(self._read_loop(), name="ami-test-reader")
        reply = await self.action("Login", Username=self.username, Secret=self.secret)
        if reply.get("Response") != "Success":
            raise AmiError(f"AMI login refused: {reply}")

    async def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.action("Logoff"), 2)
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def action(self, name: str, **fields: str) -> Message:
        """Send an action and return its response (bounded wait)."""
        if self._writer is None:
            raise AmiError("not connected")
        action_id = f"t{next(self._ids)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in fields.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self._writer.drain()
        try:
            return await asyncio.wait_for(future, 10)
        finally:
            self._pending.pop(action_id, None)

    async def wait_for(
        self, predicate: Callable[[Message], bool], *, seconds: float, start: int = 0
    ) -> Message:
        """The first event from index ``start`` on that matches ``predicate``."""

        def found() -> Message | None:
            return next((e for e in self.events[start:] if predicate(e)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), seconds)
        event = found()
        assert event is not None
        return event

    def named(self, name: str, start: int = 0) -> list[Message]:
        """Events called ``name`` received so far."""
        return [e for e in self.events[start:] if e.get("Event") == name]

    async def _read_loop(self) -> None:
        assert self._reader is not None
        buffer = ""
        while True:
            chunk = await self._reader.read(65536)
            if not chunk:
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(AmiError("AMI connection closed"))
                return
            buffer += chunk.decode(errors="replace").replace("\r\n", "\n")
            *blocks, buffer = buffer.split("\n\n")
            for block in blocks:
                await self._dispatch(parse_message(block))

    async def _dispatch(self, message: Message) -> None:
        if "Event" in message:
            async with self._changed:
                self.events.append(message)
                self._changed.notify_all()
            return
        future = self._pending.get(message.get("ActionID", ""))
        if future is not None and not future.done():
            future.set_result(message)
