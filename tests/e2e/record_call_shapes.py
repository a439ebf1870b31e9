"""Record the AMI traffic of every call shape into ``tests/data/ami-shapes/``.

Not a test (the name keeps it out of a normal run): ``scripts/record-call-shapes [-k NAME]``
runs it with pytest so it shares the e2e fixtures and the sandbox lock. Each shape of
``call_shapes.SHAPES`` is played on the sandbox; once every channel it opened has hung
up, its events (noise like RTCP and unrelated channel variables left out) are written as
a JSON array of event dicts, the format ``callcenter ami replay`` and the replay tests read.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from call_shapes import SHAPES, Bench, install_dialplan, ivr_to_queue
from support.agi_stub import AgiStub, Flow
from support.ami_client import AmiClient, Message
from support.pbx_sandbox import REPO_ROOT, SandboxPbx
from support.sipp import SippRunner

OUT = REPO_ROOT / "tests" / "data" / "ami-shapes"
NOISE = frozenset(
    {"RTCPSent", "RTCPReceived", "AGIExecStart", "AGIExecEnd", "DTMFBegin", "DTMFEnd",
     "ContactStatus", "PeerStatus", "Registry", "SuccessfulAuth", "ChallengeSent",
     "CoreShowChannel", "CoreShowChannelsComplete", "FullyBooted", "Reload", "TestEvent"}
)  # fmt: skip
# Channel variables the tracker reads (queue_handlers.py) or a reader of the file wants.
KEPT_VARIABLES = frozenset(
    {"IVR_CHOICE", "IVR_PATH", "IVR_REQUEST", "IVR_CALLBACK", "IVR_NEXT", "CALL_PURPOSE",
     "SURVEY_REQUEST", "CITIZEN", "DIALSTATUS", "GOSUB_RESULT", "ACK", "BLINDTRANSFER",
     "ATTENDEDTRANSFER", "TRANSFERERNAME", "FORWARDERNAME"}
)  # fmt: skip


def write_events(path: Path, events: list[Message]) -> None:
    """A JSON array, one event per line (reviewable diffs, small files)."""
    lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in events if keep(e))
    path.write_text(f"[\n{lines}\n]\n", encoding="utf-8")


def keep(event: Message) -> bool:
    name = event.get("Event", "")
    if name in NOISE:
        return False
    return name != "VarSet" or event.get("Variable", "") in KEPT_VARIABLES


async def all_hung_up(ami: AmiClient, start: int, *, seconds: float = 60) -> None:
    """Wait until every channel created since ``start`` has hung up, then a little more
    (AgentComplete, BridgeDestroy and Cdr follow the last Hangup)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events = ami.events[start:]
        born = {e.get("Uniqueid") for e in events if e.get("Event") == "Newchannel"}
        gone = {e.get("Uniqueid") for e in events if e.get("Event") == "Hangup"}
        if born and born <= gone:
            await asyncio.sleep(1.5)
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"channels still up after {seconds} s")


@pytest.mark.parametrize("name", list(SHAPES))
async def test_record(
    name: str,
    pbx: SandboxPbx,
    ami: AmiClient,
    sipp: SippRunner,
    agi_server: Callable[[Flow], Awaitable[AgiStub]],
) -> None:
    install_dialplan(pbx)
    agi = await agi_server(ivr_to_queue)
    start = len(ami.events)
    await asyncio.wait_for(SHAPES[name](Bench(pbx=pbx, ami=ami, sipp=sipp, agi=agi)), 90)
    await all_hung_up(ami, start)
    OUT.mkdir(parents=True, exist_ok=True)
    write_events(OUT / f"{name}.json", ami.events[start:])
