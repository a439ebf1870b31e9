"""The timed callback offer end to end (``callback_offer_after_seconds``): SIPp citizens
wait in the real sandbox queue with nobody answering; the real ``callcenter serve``'s
main flow leaves ``CALLBACK_OFFER_AFTER`` on the channel and the deployable dialplan
(``config/asterisk/extensions.conf``) gives up the first ``Queue()`` after that long to
play ``callback-offer``. 1 files a callback; nothing puts the caller back in the queue
at the place they left.

Nobody answers because the one agent (needed for the menu to offer 0 at all) is paused
as soon as both callers chose 0, before they join the queue.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import select
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.pbx_sandbox import QUEUE, SandboxPbx
from support.sipp import AwaitHangup, Digits, Hangup, Pause, SippRunner
from test_ivr_calls import GREETING, PLEASE_HOLD, add_agent, call_of, in_sequence, prompts_played

from callcenter.followups.models import Task

OFFER = 8.9  # callback-offer.wav is 8.9 s
OFFER_WAIT = 5.0  # CALLBACK_OFFER_WAIT of the dialplan: the wait for 1 after the prompt
# Asterisk checks Queue()'s timeout about once a second, and not while it announces the
# caller's position (on joining, and when it changes: 5.5 s as first caller, about 7.5 s
# as second); both values here outlast the joining announcement, but a change of place
# (the first caller leaving for their own offer) may be announced just then.
EARLY, LATE = 0.5, 6.0

Event = dict[str, str]


@pytest.fixture(params=[10, 20], ids=lambda seconds: f"offer-after-{seconds}s")
def offer_after(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def bridge_env(bridge_env: dict[str, str], offer_after: int) -> dict[str, str]:
    return {**bridge_env, "CALLCENTER_CALLBACK_OFFER_AFTER_SECONDS": str(offer_after)}


def stamp(event: Event) -> float:
    return float(event["Timestamp"])


def of_caller(ami: AmiClient, name: str, caller: str, start: int) -> list[Event]:
    return [e for e in ami.named(name, start) if e.get("CallerIDNum") == caller]


def offers(ami: AmiClient, caller: str, start: int) -> list[Event]:
    """The dialplan's ``Read(OFFER_KEY,callback-offer,...)`` steps of this caller."""
    return [e for e in of_caller(ami, "Newexten", caller, start)
            if e.get("Application") == "Read" and "callback-offer" in e.get("AppData", "")]


async def pause_agent_after_menu(ami: AmiClient, callers: list[str], start: int) -> None:
    """Once every caller pressed 0 (the flow saw an agent), nobody may answer them."""
    for caller in callers:
        await ami.wait_for(lambda e, c=caller: e.get("Event") == "VarSet"
                           and e.get("Variable") == "IVR_CHOICE" and e.get("CallerIDNum") == c,
                           seconds=20, start=start)
    paused = await ami.action("QueuePause", Queue=QUEUE, Interface="PJSIP/2101",
                              Paused="true", Reason="e2e-nobody-answers")
    assert paused["Response"] == "Success", paused


async def test_the_offer_comes_after_the_setting_and_1_books_a_callback(
    bridge: Bridge, sipp: SippRunner, pbx: SandboxPbx, ami: AmiClient, offer_after: int
) -> None:
    """Two callers wait; each hears callback-offer about ``offer_after`` s after joining.
    The one who presses 1 gets a callback task; the other is queued again, same place."""
    stays, books = "09135550481", "09135550482"
    await add_agent(ami, "2101")
    start = len(ami.events)
    started = time.time()
    in_queue = PLEASE_HOLD + offer_after
    staying = await sipp.citizen(
        callers=[stays],
        steps=[Pause(GREETING), Digits("0"), Pause(in_queue + LATE + OFFER + OFFER_WAIT + 3),
               Hangup()],
        max_seconds=70)
    await asyncio.sleep(1.0)  # not an assertion: the booking caller joins second
    booking = await sipp.citizen(
        callers=[books],
        steps=[Pause(GREETING), Digits("0"), Pause(in_queue + LATE + 1), Digits("1"),
               AwaitHangup(30)],
        max_seconds=70)
    await pause_agent_after_menu(ami, [stays, books], start)
    booked, stayed = await booking.wait(), await staying.wait()
    assert booked.ok and booked.outcomes == ["answered", "remote_bye"], booked.describe()
    assert stayed.ok, stayed.describe()

    for caller in (stays, books):
        joined = of_caller(ami, "QueueCallerJoin", caller, start)[0]
        offered = offers(ami, caller, start)
        assert len(offered) == 1, [(e.get("Application"), e.get("AppData")) for e in
                                   of_caller(ami, "Newexten", caller, start)]  # offered once
        waited = stamp(offered[0]) - stamp(joined)
        assert offer_after - EARLY <= waited <= offer_after + LATE, (caller, waited)

    # 1 during the offer: the existing callback path, from the caller's first join.
    played = prompts_played(pbx, started, books)
    assert in_sequence(played, "please-hold", "callback-offer", "callback-confirmed",
                       "goodbye"), played
    assert len(of_caller(ami, "QueueCallerJoin", books, start)) == 1
    queue_joined = next(e for e in of_caller(ami, "VarSet", books, start)
                        if e.get("Variable") == "QUEUE_JOINED")
    call = call_of(bridge, books)
    tasks = bridge.wait_for(
        lambda s: s.exec(select(Task).where(Task.citizen_id == call.citizen_id)).all(), seconds=5)
    assert [(t.kind, t.state) for t in tasks] == [("callback", "pending")]
    assert tasks[0].due_at == datetime.fromtimestamp(int(queue_joined["Value"]), UTC)
    assert call.ivr_path and "queue:1>callback" in call.ivr_path, call.ivr_path

    # Nothing pressed: back in the queue after the offer, where the caller left it.
    first, again = of_caller(ami, "QueueCallerJoin", stays, start)
    [left] = [e for e in of_caller(ami, "QueueCallerLeave", stays, start)
              if stamp(e) < stamp(again)]
    assert again["Position"] == left["Position"], (left, again)
    assert stamp(again) - stamp(first) >= offer_after + OFFER
    assert "callback-confirmed" not in prompts_played(pbx, started, stays)


NOBODY = "PJSIP/2199"  # no such endpoint: Asterisk never rings it, the flow counts it


@pytest.mark.parametrize("offer_after", [20], indirect=True, ids=["offer-after-20s"])
async def test_a_caller_back_from_the_offer_is_ahead_of_one_who_joined_meanwhile(
    bridge: Bridge, sipp: SippRunner, ami: AmiClient, offer_after: int
) -> None:
    """The first caller leaves for the offer; a second joins meanwhile (first in line);
    the first comes back at place 1, ahead of the second (at the end without the
    position argument)."""
    first, meanwhile = "09135550491", "09135550492"
    added = await ami.action("QueueAdd", Queue=QUEUE, Interface=NOBODY, MemberName="nobody")
    assert added["Response"] == "Success", added
    try:
        start = len(ami.events)
        began = time.monotonic()
        leaving = await sipp.citizen(
            callers=[first],
            steps=[Pause(GREETING), Digits("0"),
                   Pause(PLEASE_HOLD + offer_after + 1 + OFFER + OFFER_WAIT + 5), Hangup()],
            max_seconds=70)
        # Joining takes as long for both (same script): 27 s later is the middle of the
        # first caller's absence (from ~20 s after its join until ~34 s).
        await asyncio.sleep(max(0.0, 27 - (time.monotonic() - began)))
        joining = await sipp.citizen(
            callers=[meanwhile],
            steps=[Pause(GREETING), Digits("0"), Pause(PLEASE_HOLD + 14), Hangup()],
            max_seconds=40)
        done_first, done_meanwhile = await leaving.wait(), await joining.wait()
        assert done_first.ok, done_first.describe()
        assert done_meanwhile.ok, done_meanwhile.describe()
    finally:
        await ami.action("QueueRemove", Queue=QUEUE, Interface=NOBODY)

    joins = of_caller(ami, "QueueCallerJoin", first, start)
    assert len(joins) == 2, joins
    [other] = of_caller(ami, "QueueCallerJoin", meanwhile, start)
    [offer] = offers(ami, first, start)
    # The second caller joined while the first was away, and was first in line then.
    assert stamp(offer) < stamp(other) < stamp(joins[1]), (offer, other, joins[1])
    assert other["Position"] == "1", other
    assert (joins[1]["Position"], joins[1]["Count"]) == ("1", "2"), joins[1]
    assert offers(ami, meanwhile, start) == []
