"""Outbound calls the bridge originates over AMI, through the [outbound] context.

SIPp plays both the agent and the citizen reached through the citizens trunk
(its contact, 127.0.0.1:5090, stands for the carrier's gateway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from support.agi_stub import AgiSession, AgiStub, Flow
from support.ami_client import AmiClient
from support.sipp import SippRunner

StartAgi = Callable[[Flow], Awaitable[AgiStub]]


async def test_callback_rings_the_agent_then_bridges_the_citizen(
    ami: AmiClient, sipp: SippRunner
) -> None:
    agent = await sipp.agent(extension="2104", answer_after=0.5, talk_for=3, max_seconds=40)
    citizen = await sipp.called_citizen(answer_after=1, talk_for=20, max_seconds=40)

    reply = await ami.action(
        "Originate",
        Channel="PJSIP/2104",
        Context="outbound",
        Exten="callback",
        Priority="1",
        CallerID="137 <137>",
        Variable="CITIZEN=09135550000",
        Timeout="15000",
        Async="true",
    )
    assert reply["Response"] == "Success", reply
    rang = await agent.wait()
    reached = await citizen.wait()

    assert rang.ok, rang.describe()
    assert rang.outcomes == ["ringing", "answered", "local_bye"], rang.describe()
    assert reached.ok, reached.describe()
    assert reached.outcomes == ["ringing", "answered", "remote_bye"], reached.describe()
    # Originate dials the agent first (its own DialBegin/DialEnd), then the
    # dialplan dials the citizen through the trunk.
    dial = await ami.wait_for(
        lambda e: (
            e.get("Event") == "DialEnd"
            and e.get("DestChannel", "").startswith("PJSIP/citizens-")
            and e.get("DialStatus") == "ANSWER"
        ),
        seconds=5,
    )
    begin = [e for e in ami.named("DialBegin") if e.get("DestUniqueid") == dial["DestUniqueid"]]
    assert [e["DialString"] for e in begin] == ["09135550000@citizens"]
    assert begin[0]["Channel"].startswith("PJSIP/2104-")


async def test_survey_call_enters_the_survey_flow(
    ami: AmiClient, sipp: SippRunner, agi_server: StartAgi
) -> None:
    async def survey(session: AgiSession) -> None:
        await session.command("SET VARIABLE SURVEY_DONE yes")

    agi = await agi_server(survey)
    citizen = await sipp.called_citizen(answer_after=0.5, talk_for=20, max_seconds=40)
    reply = await ami.action(
        "Originate",
        Channel="PJSIP/09135550001@citizens",
        Context="outbound",
        Exten="survey",
        Priority="1",
        CallerID="137 <137>",
        Timeout="15000",
        Async="true",
    )
    assert reply["Response"] == "Success", reply
    reached = await citizen.wait()

    assert reached.ok, reached.describe()
    assert reached.outcomes == ["ringing", "answered", "remote_bye"], reached.describe()
    session = await agi.wait_for_session(seconds=5)
    assert session.script == "survey"
    assert session.headers["agi_context"] == "outbound"
    assert session.headers["agi_extension"] == "survey"
    assert agi.errors == []
