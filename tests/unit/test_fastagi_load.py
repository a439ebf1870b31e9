"""1,000 calls at once in one server process, on loopback.

Every peer holds its call open until all 1,000 are connected, so the server
really carries 1,000 sessions at the same moment; then each call runs a short
flow to the end.
"""

from __future__ import annotations

import asyncio

from callcenter.agi.server import FastAgiServer
from ivr_flows.channel import Channel

CALLS = 1000


async def short_flow(channel: Channel) -> None:
    await channel.answer()
    digits = await channel.read_digits("fa/menu", max_digits=1, timeout=5)
    await channel.set_variable("IVR_CHOICE", digits or "none")


async def test_one_thousand_concurrent_sessions() -> None:
    all_connected = asyncio.Event()
    connected = 0
    peak_active = 0

    async def caller(port: int, n: int) -> list[str]:
        nonlocal connected, peak_active
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                f"agi_network: yes\nagi_network_script: main\nagi_uniqueid: 1700.{n}\n\n".encode()
            )
            seen = [(await reader.readline()).decode().strip()]  # ANSWER
            connected += 1
            if connected == CALLS:
                peak_active = server.state().active_sessions
                all_connected.set()
            await all_connected.wait()
            for answer in ("200 result=0", f"200 result={n % 10}", "200 result=1"):
                writer.write(answer.encode() + b"\n")
                await writer.drain()
                seen.append((await reader.readline()).decode().strip())
            return seen
        finally:
            writer.close()
            await writer.wait_closed()

    server = FastAgiServer({"main": short_flow}, port=0, command_timeout=30)
    async with server:
        async with asyncio.timeout(60):
            results = await asyncio.gather(*(caller(server.port, n) for n in range(CALLS)))
            await server.wait_idle()
        state = server.state()

    assert peak_active == CALLS
    assert state.sessions_total == CALLS
    assert state.outcomes["completed"] == CALLS
    for n, seen in enumerate(results):
        assert seen == [
            "ANSWER",
            'GET DATA "fa/menu" 5000 1',
            f'SET VARIABLE "IVR_CHOICE" "{n % 10}"',
            "",  # the flow returned: the server closed the connection
        ]
