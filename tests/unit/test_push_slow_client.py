"""A websocket whose browser stops reading is closed, not only dropped from pushes.

What was tried (issue 12, Medium 9): a real uvicorn server with the app, an agent signed
in, and a raw TCP websocket client with a 4 KB receive buffer that completes the
handshake and then stops reading. Pushes of 200 KB fill every buffer until a send is
stuck past the push timeout. Before the fix the hub only forgot the socket: when the
client read again it got what was buffered and then silence, forever ("connected",
never a pop). Now the server closes it with 1013 (try again later), which the panel's
script answers by reconnecting.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import struct
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from support.panels import PASSWORD, settings_for

from callcenter.app import create_app
from callcenter.db.engine import session_scope
from callcenter.users.services import create_user
from callcenter.web import push


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Any, str]]:
    """The app under a real uvicorn in this test's loop, with agent ali (2101)."""
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'store.db'}", tmp_path),
                     start_parts=False)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", ws="auto")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to await
            await asyncio.sleep(0.02)
    with session_scope(app.state.services.engine) as session:
        create_user(session=session, username="ali", password=PASSWORD, role="agent",
                    extension="2101", full_name="علی رضایی")
        create_user(session=session, username="sara", password=PASSWORD, role="supervisor",
                    full_name="سارا کریمی")
    try:
        yield app, f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        app.state.services.engine.dispose()


async def signed_in_cookie(host: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://{host}") as client:
        page = await client.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found
        response = await client.post("/login", data={
            "username": username, "password": PASSWORD, "csrf_token": found.group(1)})
        assert response.status_code in (200, 303), response.text
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def open_raw_socket(host: str, path: str, cookie: str) -> socket.socket:
    """A websocket handshake by hand on a socket with a tiny receive buffer."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    address, port = host.split(":")
    await loop.sock_connect(sock, (address, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://{host}\r\nCookie: {cookie}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += await loop.sock_recv(sock, 1)  # byte by byte: leave the frames unread
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def read_until_close(sock: socket.socket, seconds: float) -> int | None:
    """Read frames (server frames are unmasked) until a close frame; its code."""
    loop = asyncio.get_running_loop()
    buffer = b""

    async def need(n: int) -> bytes:
        nonlocal buffer
        while len(buffer) < n:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                raise EOFError
            buffer += chunk
        out, buffer = buffer[:n], buffer[n:]
        return out

    async with asyncio.timeout(seconds):
        while True:
            first, second = await need(2)
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", await need(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", await need(8))
            payload = await need(size)
            if first & 0x0F == 0x8:
                return int(struct.unpack("!H", payload[:2])[0]) if payload else None


def open_sockets(hub: Any) -> int:
    """Sockets a hub still pushes to (the agent hub counts them by extension)."""
    counted = getattr(hub, "connected", None)
    return int(counted()) if counted is not None else len(hub._sockets)


Pusher = Callable[[Any, dict[str, Any]], Awaitable[None]]
PANELS: dict[str, tuple[str, str, Callable[[Any], Any], Pusher]] = {
    "agent": ("ali", "/agent/ws", lambda services: services.panel_hub,
              lambda hub, m: hub.send("2101", m)),
    "supervisor": ("sara", "/supervisor/ws", lambda services: services.supervisor_hub,
                   lambda hub, m: hub.broadcast(m)),
}


@pytest.mark.parametrize("panel", PANELS.values(), ids=PANELS.keys())
async def test_a_client_that_stops_reading_is_closed_and_told_to_come_back(
    served: tuple[Any, str], monkeypatch: pytest.MonkeyPatch,
    panel: tuple[str, str, Callable[[Any], Any], Pusher],
) -> None:
    username, path, hub_of, pushed = panel
    app, host = served
    monkeypatch.setattr(push, "SEND_TIMEOUT_SECONDS", 0.3)
    hub = hub_of(app.state.services)
    sock = await open_raw_socket(host, path, await signed_in_cookie(host, username))
    try:
        async with asyncio.timeout(10):
            while open_sockets(hub) == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        pad = "ا" * 100_000  # 200 KB of UTF-8 a push
        for _ in range(100):
            await pushed(hub, {"type": "note", "pad": pad})
            if open_sockets(hub) == 0:
                break
        assert open_sockets(hub) == 0, "the stuck socket was never given up"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            code = await read_until_close(sock, seconds=20)  # the client reads again
        assert code == 1013
    finally:
        sock.close()
