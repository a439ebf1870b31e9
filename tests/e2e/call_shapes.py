"""Call shapes made to happen on the sandbox Asterisk, for recording their AMI traffic.

Each shape is a coroutine ``shape(bench)`` that places one call of a kind the tracker must
read right (click-to-dial, "call me now", transfers of every kind, a ring group, a
forwarded leg that never confirms...) with SIPp phones and AMI actions, and returns when
the call is over. ``record_call_shapes.py`` runs them and keeps the traffic under
``tests/data/ami-shapes/`` (``scripts/record-call-shapes``).

The dialplan a shape needs beyond the deployable 137 config (a ring group, a forward
that asks "press 1 to accept") is added at run time with ``dialplan add extension``
(``SHAPE_DIALPLAN``): it lives only in the running sandbox until its next reload, so
``config/asterisk/`` stays the production config.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from support.agi_stub import AgiSession, AgiStub
from support.ami_client import AmiClient, Message
from support.pbx_sandbox import QUEUE, SandboxPbx
from support.sipp import AwaitHangup, Hangup, Pause, SippProcess, SippRunner, agent_sip_port

TRUNK_PORT = "5090"
RING_GROUP = "2190"  # Dial(PJSIP/2102&PJSIP/2103): in [agents] and [citizens]
FORWARD = "2191"  # [citizens]: answer, forward to a mobile that must press 1 to accept
CONFIRM = "shapes-confirm"
# [citizens]: straight into the queue with option t (the agent may transfer with the
# atxfer feature, which AMI Atxfer uses; the 137 plan's Queue() has no options because
# phones transfer with SIP REFER, which needs none).
QUEUE_XFER = "2192"
# Run on the agent's leg before it is bridged: the bridge reads the feature codes at
# join time, and the 137 config defines no atxfer code.
XFER_KEYS = "shapes-xfer-keys"
# [outbound]: the click-to-call extension, with the agent's leg allowed to transfer by
# the atxfer feature (Dial option T; the feature code set on the agent's leg first).
XFER_CALLBACK = "xfer-callback"

# (context, extension line) pairs for "dialplan add extension <line> into <context>".
SHAPE_DIALPLAN = (
    ("agents", f"{RING_GROUP},1,Dial(PJSIP/2102&PJSIP/2103,20)"),
    ("agents", f"{RING_GROUP},2,Hangup()"),
    ("citizens", f"{RING_GROUP},1,Dial(PJSIP/2102&PJSIP/2103,20)"),
    ("citizens", f"{RING_GROUP},2,Hangup()"),
    ("citizens", f"{QUEUE_XFER},1,Queue({QUEUE},t,,,,,{XFER_KEYS})"),
    ("citizens", f"{QUEUE_XFER},2,Hangup()"),
    ("outbound", f"{XFER_CALLBACK},1,Set(FEATUREMAP(atxfer)=*2)"),
    ("outbound", f"{XFER_CALLBACK},2,Dial(PJSIP/${{CITIZEN}}@citizens,60,T)"),
    ("outbound", f"{XFER_CALLBACK},3,Hangup()"),
    ("citizens", f"{FORWARD},1,Answer()"),
    ("citizens", f"{FORWARD},2,Dial(PJSIP/09125550009@citizens,20,U({CONFIRM}^s^1))"),
    ("citizens", f"{FORWARD},3,Hangup()"),
    # The subroutine runs on the answered forward leg; no "1" = the call is not accepted.
    (XFER_KEYS, "s,1,Set(FEATUREMAP(atxfer)=*2)"),
    (XFER_KEYS, "s,2,Return()"),
    (CONFIRM, "s,1,Read(ACK,beep,1,,1,4)"),
    (CONFIRM, 's,2,GotoIf($["${ACK}" = "1"]?5)'),
    (CONFIRM, "s,3,Set(GOSUB_RESULT=ABORT)"),
    (CONFIRM, "s,4,Return()"),
    (CONFIRM, "s,5,Return()"),
)


@dataclass
class Bench:
    """What a shape drives: the PBX, an AMI connection, SIPp, the FastAGI stub."""

    pbx: SandboxPbx
    ami: AmiClient
    sipp: SippRunner
    agi: AgiStub


def install_dialplan(pbx: SandboxPbx) -> None:
    """Add the shapes' extensions to the running sandbox (replacing earlier copies)."""
    for context, line in SHAPE_DIALPLAN:
        pbx.cli(f"dialplan add extension {line} into {context} replace")


async def ivr_to_queue(session: AgiSession) -> None:
    """The FastAGI stub's flow: every 137 caller goes to the queue; a survey just ends."""
    if session.script == "main":
        await session.command("SET VARIABLE IVR_NEXT queue")
    elif session.script == "survey":
        await session.command("SET VARIABLE SURVEY_DONE yes")


async def originate(ami: AmiClient, **fields: str) -> None:
    reply = await ami.action("Originate", Async="true", Priority="1", Timeout="20000", **fields)
    if reply.get("Response") != "Success":
        raise RuntimeError(f"Originate refused: {reply}")


async def bridged_channel(ami: AmiClient, prefix: str, *, start: int, seconds: float = 20) -> str:
    """The name of the first channel called ``prefix...`` to enter a bridge."""
    event: Message = await ami.wait_for(
        lambda e: e.get("Event") == "BridgeEnter" and e.get("Channel", "").startswith(prefix),
        seconds=seconds,
        start=start,
    )
    return event["Channel"]


async def finish(*processes: SippProcess) -> None:
    await asyncio.gather(*(p.wait() for p in processes))


# -- originated calls -----------------------------------------------------------------


async def click_to_dial(bench: Bench, *, purpose: str = "click-to-call") -> None:
    """The product's click-to-call: ring the agent, then dial the citizen (answers)."""
    agent = await bench.sipp.agent(extension="2101", answer_after=0.5, talk_for=8)
    citizen = await bench.sipp.called_citizen(answer_after=1.5, talk_for=3)
    await originate(
        bench.ami, Channel="PJSIP/2101", Context="outbound", Exten="callback",
        CallerID='"09125550001" <09125550001>',
        Variable=f"CITIZEN=09125550001,CALL_PURPOSE={purpose}",
    )  # fmt: skip
    await finish(agent, citizen)


async def callback_call(bench: Bench) -> None:
    await click_to_dial(bench, purpose="callback")


async def _click_to_dial_refused(bench: Bench, code: int, reason: str) -> None:
    agent = await bench.sipp.agent(extension="2101", answer_after=0.5, talk_for=10)
    citizen = await bench.sipp.refuser(port=TRUNK_PORT, code=code, reason=reason, ring_for=1.5)
    await originate(
        bench.ami, Channel="PJSIP/2101", Context="outbound", Exten="callback",
        CallerID='"09125550001" <09125550001>',
        Variable="CITIZEN=09125550001,CALL_PURPOSE=click-to-call",
    )  # fmt: skip
    await finish(agent, citizen)


async def click_to_dial_busy(bench: Bench) -> None:
    await _click_to_dial_refused(bench, 486, "Busy Here")


async def click_to_dial_rejected(bench: Bench) -> None:
    await _click_to_dial_refused(bench, 603, "Decline")


async def call_me_now(bench: Bench) -> None:
    """Originate joining two outside numbers: ring A, then dial B from the agents' plan."""
    both = await bench.sipp.called_citizen(answer_after=1.0, talk_for=4, calls=2)
    await originate(
        bench.ami, Channel="PJSIP/09125550002@citizens", Context="agents",
        Exten="09125550003", CallerID='"137" <137>',
    )  # fmt: skip
    await finish(both)


async def survey_call(bench: Bench) -> None:
    citizen = await bench.sipp.called_citizen(answer_after=1.0, talk_for=10)
    await originate(
        bench.ami, Channel="PJSIP/09125550005@citizens", Context="outbound", Exten="survey",
        CallerID='"137" <137>', Variable="SURVEY_REQUEST=TC-1234,CALL_PURPOSE=survey",
    )  # fmt: skip
    await finish(citizen)


# -- queue calls and transfers ----------------------------------------------------------


async def _queue_call(
    bench: Bench, *, agent_talk: float, dialled: str = "137"
) -> tuple[str, SippProcess, SippProcess]:
    """A citizen dials 137, the stub IVR queues them, agent 2101 answers.

    Returns the agent's channel name and both SIPp processes; the citizen waits for the
    PBX to hang up (whoever they end with does).
    """
    await bench.ami.action("QueueAdd", Queue=QUEUE, Interface="PJSIP/2101")
    start = len(bench.ami.events)
    agent = await bench.sipp.agent(extension="2101", answer_after=1.0, talk_for=agent_talk)
    citizen = await bench.sipp.citizen(
        callers=["09131110001"], steps=[AwaitHangup(50)], dialled=dialled
    )
    channel = await bridged_channel(bench.ami, "PJSIP/2101-", start=start)
    await bench.ami.action("QueueRemove", Queue=QUEUE, Interface="PJSIP/2101")
    return channel, agent, citizen


async def _blind(bench: Bench, exten: str, *targets: SippProcess, dialled: bool = False) -> None:
    if dialled:
        agent = await bench.sipp.agent(extension="2101", answer_after=0.5, talk_for=30)
        citizen = await bench.sipp.called_citizen(answer_after=1.0, talk_for=30)
        start = len(bench.ami.events)
        await originate(
            bench.ami, Channel="PJSIP/2101", Context="outbound", Exten="callback",
            CallerID='"09125550001" <09125550001>',
            Variable="CITIZEN=09125550001,CALL_PURPOSE=click-to-call",
        )  # fmt: skip
        await bridged_channel(bench.ami, "PJSIP/citizens-", start=start)
        channel = await bridged_channel(bench.ami, "PJSIP/2101-", start=start)
    else:
        channel, agent, citizen = await _queue_call(bench, agent_talk=30)
    await asyncio.sleep(2)
    reply = await bench.ami.action("BlindTransfer", Channel=channel, Context="agents", Exten=exten)
    if reply.get("Response") != "Success":
        raise RuntimeError(f"BlindTransfer refused: {reply}")
    await finish(agent, citizen, *targets)


async def blind_transfer(bench: Bench) -> None:
    target = await bench.sipp.agent(extension="2102", answer_after=1.5, talk_for=4)
    await _blind(bench, "2102", target)


async def blind_transfer_busy(bench: Bench) -> None:
    target = await bench.sipp.refuser(port=agent_sip_port("2103"), ring_for=1.0)
    await _blind(bench, "2103", target)


async def blind_transfer_ring_group(bench: Bench) -> None:
    ringing = await bench.sipp.agent(extension="2102", answer_after=None, max_seconds=30)
    member = await bench.sipp.agent(extension="2103", answer_after=2.0, talk_for=4)
    await _blind(bench, RING_GROUP, member, ringing)


async def dial_then_blind_transfer(bench: Bench) -> None:
    """A click-to-dial call (Dial, no queue) that the agent then blind-transfers."""
    target = await bench.sipp.agent(extension="2102", answer_after=1.5, talk_for=4)
    await _blind(bench, "2102", target, dialled=True)


async def dial_then_attended_transfer(bench: Bench) -> None:
    """A click-to-dial call (Dial, no queue); the agent consults 2102 with Atxfer, 2102
    answers, the agent hangs up: the citizen ends with 2102, who hangs up first."""
    agent = await bench.sipp.agent(extension="2101", answer_after=0.5, talk_for=9)
    citizen = await bench.sipp.called_citizen(answer_after=1.0, talk_for=30)
    target = await bench.sipp.agent(extension="2102", answer_after=1.5, talk_for=8)
    start = len(bench.ami.events)
    await originate(
        bench.ami, Channel="PJSIP/2101", Context="outbound", Exten=XFER_CALLBACK,
        CallerID='"09125550001" <09125550001>',
        Variable="CITIZEN=09125550001,CALL_PURPOSE=click-to-call",
    )  # fmt: skip
    await bridged_channel(bench.ami, "PJSIP/citizens-", start=start)
    channel = await bridged_channel(bench.ami, "PJSIP/2101-", start=start)
    await asyncio.sleep(1.5)
    reply = await bench.ami.action("Atxfer", Channel=channel, Context="agents", Exten="2102")
    if reply.get("Response") != "Success":
        raise RuntimeError(f"Atxfer refused: {reply}")
    await finish(agent, citizen, target)


async def _attended(
    bench: Bench, *, agent_talk: float, target_answer: float, target_talk: float = 8
) -> None:
    channel, agent, citizen = await _queue_call(bench, agent_talk=agent_talk, dialled=QUEUE_XFER)
    target = await bench.sipp.agent(
        extension="2102", answer_after=target_answer, talk_for=target_talk
    )
    await asyncio.sleep(1.5)
    # Atxfer queues the atxfer feature's DTMF on the transferer (code set by XFER_KEYS).
    reply = await bench.ami.action("Atxfer", Channel=channel, Context="agents", Exten="2102")
    if reply.get("Response") != "Success":
        raise RuntimeError(f"Atxfer refused: {reply}")
    await finish(agent, citizen, target)


async def attended_transfer(bench: Bench) -> None:
    """Atxfer; the target answers and talks to the agent; the agent hangs up."""
    await _attended(bench, agent_talk=7, target_answer=1.5)


async def attended_transfer_target_hangs_up(bench: Bench) -> None:
    """Atxfer; the target answers, then hangs up before the agent: no transfer happens,
    the agent is back with the caller."""
    await _attended(bench, agent_talk=9, target_answer=1.5, target_talk=4)


async def blonde_transfer(bench: Bench) -> None:
    """Atxfer; the agent hangs up while the target still rings (semi-attended)."""
    await _attended(bench, agent_talk=5, target_answer=6)


# -- ring groups and forwards ---------------------------------------------------------


async def ring_group(bench: Bench) -> None:
    ringing = await bench.sipp.agent(extension="2102", answer_after=None, max_seconds=30)
    member = await bench.sipp.agent(extension="2103", answer_after=2.0, talk_for=3)
    citizen = await bench.sipp.citizen(
        callers=["09131110002"], steps=[AwaitHangup(30)], dialled=RING_GROUP
    )
    await finish(member, citizen, ringing)


async def forward_not_confirmed(bench: Bench) -> None:
    """Forwarded to a mobile that answers, hears "press 1 to accept" and hangs up."""
    mobile = await bench.sipp.called_citizen(answer_after=1.0, talk_for=1.5)
    citizen = await bench.sipp.citizen(
        callers=["09131110003"], steps=[Pause(12), Hangup()], dialled=FORWARD
    )
    await finish(mobile, citizen)


SHAPES: dict[str, Callable[[Bench], Awaitable[None]]] = {
    "click_to_dial": click_to_dial,
    "callback_call": callback_call,
    "click_to_dial_busy": click_to_dial_busy,
    "click_to_dial_rejected": click_to_dial_rejected,
    "call_me_now": call_me_now,
    "survey_call": survey_call,
    "blind_transfer": blind_transfer,
    "blind_transfer_busy": blind_transfer_busy,
    "blind_transfer_ring_group": blind_transfer_ring_group,
    "dial_then_blind_transfer": dial_then_blind_transfer,
    "dial_then_attended_transfer": dial_then_attended_transfer,
    "attended_transfer": attended_transfer,
    "attended_transfer_target_hangs_up": attended_transfer_target_hangs_up,
    "blonde_transfer": blonde_transfer,
    "ring_group": ring_group,
    "forward_not_confirmed": forward_not_confirmed,
}
