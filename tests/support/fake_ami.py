"""A scripted fake AMI server on a local TCP socket: the protocol edge of the AMI tests.

It records every action exactly as it arrives on the wire (one entry per
CRLF-CRLF-terminated block), so an injected second action shows up as a second entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

EOL = "\r\n"

Reply = Callable[[dict[str, str], asyncio.StreamWriter], Any]


def block(**headers: str) -> bytes:
    return ("".join(f"{k}: {v}{EOL}" for k, v in headers.items()) + EOL).encode()


class FakeAmi:
    """Accepts connections, answers Login, hands every other action to ``reply``."""

    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []
        self.replies: dict[str, Reply] = {}
        self.writers: list[asyncio.StreamWriter] = []
        self.logins = 0
        self.server: asyncio.Server | None = None
        # Connections whose Login did not say ``Events: off`` (those get ``broadcast``).
        self.event_writers: list[asyncio.StreamWriter] = []

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = raw.decode().strip().split(EOL)
                action = dict(line.split(": ", 1) for line in lines if ": " in line)
                self.actions.append(action)
                name = action.get("Action", "")
                if name == "Login":
                    self.logins += 1
                    if action.get("Events", "on").lower() != "off":
                        self.event_writers.append(writer)
                    writer.write(
                        block(Response="Success", ActionID=action["ActionID"], Message="ok")
                    )
                elif name == "Ping" and name not in self.replies:  # as Asterisk does
                    writer.write(block(Response="Success", ActionID=action["ActionID"],
                                       Ping="Pong"))
                elif name in self.replies:
                    await self.replies[name](action, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def drop_all(self) -> None:
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    def broadcast(self, **headers: str) -> None:
        """An AMI event to every connection that asked for events."""
        for writer in list(self.event_writers):
            if writer.is_closing():
                self.event_writers.remove(writer)
            else:
                writer.write(block(**headers))

    def sent(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.actions if a.get("Action") == name]




async def wait_for(predicate: Callable[[], bool], seconds: float = 3.0) -> None:
    """Poll a condition the connection's callbacks change (they offer no event to await)."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def start_fake_ami() -> FakeAmi:
    """A FakeAmi listening on a free loopback port (close with ``stop_fake_ami``)."""
    fake = FakeAmi()
    fake.server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    return fake


async def stop_fake_ami(fake: FakeAmi) -> None:
    fake.drop_all()
    assert fake.server is not None
    fake.server.close()
    await fake.server.wait_closed()
