"""The deployable dialplan's second FastAGI host (issue 19, ``FASTAGI_2`` in
``config/asterisk/extensions.conf``): when the first host does not answer, the call's
IVR runs on the second; when neither does, the caller is still queued."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

from support.agi_stub import AGI_HOST, AGI_PORT, AgiSession, AgiStub, Flow
from support.ami_client import AmiClient
from support.sipp import Hangup, Pause, SippRunner

StartAgi = Callable[[Flow], Awaitable[AgiStub]]
SECOND_PORT = 4574  # FASTAGI_2 of the dialplan


async def queued(ami: AmiClient, number: str) -> None:
    channel = await ami.wait_for(lambda e: e.get("Event") == "Newchannel"
                                 and e.get("CallerIDNum") == number
                                 and e.get("Exten") == "137", seconds=15)
    await ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin"
                       and e.get("Uniqueid") == channel["Uniqueid"], seconds=15)


async def test_the_second_agi_host_serves_when_the_first_does_not_answer(
        ami: AmiClient, sipp: SippRunner) -> None:
    with socket.socket() as probe:
        assert probe.connect_ex((AGI_HOST, AGI_PORT)) != 0, "the first host must be down"

    async def ivr(session: AgiSession) -> None:
        await session.command("SET VARIABLE IVR_PATH menu:0")
        await session.command("SET VARIABLE IVR_NEXT queue")

    second = AgiStub(ivr, port=SECOND_PORT)
    await second.start()
    try:
        citizen = await sipp.citizen(callers=["09134445555"], steps=[Pause(4), Hangup()])
        called = await citizen.wait()
        assert called.ok, called.describe()
        assert [s.script for s in second.sessions] == ["main"]
        await queued(ami, "09134445555")
    finally:
        await second.close()


async def test_no_agi_host_answers_and_the_caller_is_still_queued(
        ami: AmiClient, sipp: SippRunner) -> None:
    for port in (AGI_PORT, SECOND_PORT):
        with socket.socket() as probe:
            assert probe.connect_ex((AGI_HOST, port)) != 0, f"port {port} must be free"
    citizen = await sipp.citizen(callers=["09134446666"], steps=[Pause(4), Hangup()])
    called = await citizen.wait()
    assert called.ok, called.describe()
    await queued(ami, "09134446666")
