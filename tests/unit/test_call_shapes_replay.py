"""Every call shape recorded on the sandbox Asterisk 22 replays to the right call record.

The recordings are in ``tests/data/ami-shapes/`` (made by ``scripts/record-call-shapes``,
``tests/e2e/call_shapes.py`` says how each call was placed); ``docs/call-shapes.md`` says
how the tracker reads each one. Numbers: citizens 0913..., outside numbers reached through
the trunk 0912..., agents 2101-2103, ring group 2190.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callcenter.calls.events import CallAnswered, CallEnded
from callcenter.calls.replay import load_events, replay_events
from callcenter.calls.tracker import CallTracker

DATA = Path(__file__).resolve().parents[1] / "data" / "ami-shapes"
FILES = sorted(DATA.glob("*.json"))
AGENT = "2101"
CITIZEN = "09131110001"  # dials 137 in the transfer shapes
CALLED = "09125550001"  # the citizen a click-to-call / callback reaches


def the_call(name: str) -> dict[str, Any]:
    calls, tracker = replay_events(load_events(DATA / f"{name}.json"))
    assert tracker.errors == 0
    assert tracker.active_calls == 0
    assert len(calls) == 1, calls
    return calls[0]


def test_every_shape_is_recorded() -> None:
    assert {p.stem for p in FILES} >= {
        "click_to_dial", "callback_call", "click_to_dial_busy", "click_to_dial_rejected",
        "call_me_now", "survey_call", "blind_transfer", "blind_transfer_busy",
        "blind_transfer_ring_group", "dial_then_blind_transfer", "attended_transfer",
        "dial_then_attended_transfer",
        "attended_transfer_target_hangs_up", "blonde_transfer", "ring_group",
        "forward_not_confirmed",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "caller", "answered_by", "outcome", "purpose"),
    [
        # The agent's own phone rings first: that answer is setup, the citizen's is the answer.
        ("click_to_dial", AGENT, CALLED, "answered", "click-to-call"),
        ("callback_call", AGENT, CALLED, "answered", "callback"),
        ("click_to_dial_busy", AGENT, None, "busy", "click-to-call"),
        # 603 Decline: DialStatus NOANSWER, hangup cause 21.
        ("click_to_dial_rejected", AGENT, None, "rejected", "click-to-call"),
        # Two outside numbers: the one rung first asked for the call.
        ("call_me_now", "09125550002", "09125550003", "answered", None),
        # The survey IVR runs on the citizen's leg: it is the destination, 137 the caller.
        ("survey_call", "137", "09125550005", "answered", "survey"),
    ],
)
def test_originated_calls_read_as_the_citizen_lives_them(
    name: str, caller: str, answered_by: str | None, outcome: str, purpose: str | None
) -> None:
    call = the_call(name)
    assert call["originated"] is True
    assert call["caller"] == caller
    assert call["answered"] is (answered_by is not None)
    assert call["answered_by"] == answered_by
    assert call["outcome"] == outcome
    assert call["purpose"] == purpose


def test_the_originator_leg_answering_emits_no_answer() -> None:
    events = load_events(DATA / "click_to_dial_busy.json")
    out = CallTracker(clock=lambda: 0.0).feed_all(events)
    assert [e for e in out if isinstance(e, CallAnswered)] == []


@pytest.mark.parametrize(
    ("name", "kind", "to", "result", "target_answered_by", "ended_with"),
    [
        ("blind_transfer", "blind", "2102", "answered", "2102", "2102"),
        ("blind_transfer_busy", "blind", "2103", "busy", None, AGENT),
        # A ring group: the group's number is the target, the member who answered is named.
        ("blind_transfer_ring_group", "blind", "2190", "answered", "2103", "2103"),
        # The event has no target fields: the target is what the consultation dialled.
        ("attended_transfer", "attended", "2102", "answered", "2102", "2102"),
        # The transferer hung up while 2102 still rang: semi-attended, answered later.
        ("blonde_transfer", "semi_attended", "2102", "answered", "2102", "2102"),
    ],
)
def test_transfers_of_a_queue_call(
    name: str,
    kind: str,
    to: str,
    result: str,
    target_answered_by: str | None,
    ended_with: str,
) -> None:
    call = the_call(name)
    assert call["caller"] == CITIZEN
    assert call["answered_by"] == AGENT
    assert call["outcome"] == "answered"
    assert call["queue"] == "citizen-requests"
    assert call["transfers"] == [
        {"kind": kind, "from": AGENT, "to": to, "result": result, "answered_by": target_answered_by}
    ]
    assert call["ended_with"] == ended_with


@pytest.mark.parametrize(
    ("name", "hangup_by"),
    [
        # After a transfer the conversation that ends the call is caller <-> target; in
        # each of these the target hangs up first (SIPp's talk time), the caller waits.
        ("blind_transfer", "2102"),
        ("blind_transfer_ring_group", "2103"),
        # The transferer leaving its consultation bridge completes the transfer: it ends
        # nothing (this said 2101 before).
        ("attended_transfer", "2102"),
        ("blonde_transfer", "2102"),
        # The target's Hangup event comes after the citizen's here (a Local pair sits
        # between them), though the target hung up first: its BridgeLeave says so.
        ("dial_then_attended_transfer", "2102"),
        ("dial_then_blind_transfer", "2102"),
    ],
)
def test_who_hung_up_after_a_transfer_is_the_caller_or_the_target(
        name: str, hangup_by: str) -> None:
    assert the_call(name)["hangup_by"] == hangup_by


def test_a_dialled_call_transferred_attended() -> None:
    """Click-to-dial (the agent's phone rings first, then the citizen), then the agent
    consults 2102 with the atxfer feature and hangs up: the citizen ends with 2102."""
    call = the_call("dial_then_attended_transfer")
    assert (call["caller"], call["answered_by"], call["purpose"], call["outcome"]) == (
        AGENT, CALLED, "click-to-call", "answered",
    )  # fmt: skip
    assert call["transfers"] == [
        {"kind": "attended", "from": AGENT, "to": "2102", "result": "answered",
         "answered_by": "2102"}
    ]  # fmt: skip
    assert call["ended_with"] == "2102"
    assert call["parties"] == [AGENT, CALLED, "2102"]


def test_an_attended_transfer_the_target_hung_up_on_is_no_transfer() -> None:
    call = the_call("attended_transfer_target_hangs_up")
    assert call["transfers"] == []
    assert call["answered_by"] == AGENT
    assert call["ended_with"] == AGENT
    assert "2102" in call["parties"]  # consulted, but never talked to the caller


def test_a_dialled_call_transferred_blind() -> None:
    call = the_call("dial_then_blind_transfer")
    assert (call["caller"], call["answered_by"], call["purpose"]) == (
        AGENT, CALLED, "click-to-call",
    )  # fmt: skip
    assert call["transfers"] == [
        {"kind": "blind", "from": AGENT, "to": "2102", "result": "answered", "answered_by": "2102"}
    ]
    assert call["ended_with"] == "2102"


def test_ring_group_names_the_member_who_answered() -> None:
    call = the_call("ring_group")
    assert (call["caller"], call["answered_by"], call["outcome"]) == (
        "09131110002", "2103", "answered",
    )  # fmt: skip
    assert set(call["parties"]) == {"09131110002", "2102", "2103"}


def test_a_forward_that_picks_up_but_never_accepts_is_not_an_answer() -> None:
    call = the_call("forward_not_confirmed")
    assert call["answered"] is False
    assert call["answered_by"] is None
    assert call["outcome"] == "missed"
    events = load_events(DATA / "forward_not_confirmed.json")
    out = CallTracker(clock=lambda: 0.0).feed_all(events)
    assert [e for e in out if isinstance(e, CallAnswered)] == []
    (ended,) = [e for e in out if isinstance(e, CallEnded)]
    assert "09125550009" in ended.parties  # the forward leg, by the number it was dialled


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_shape_replays_with_its_first_n_events_dropped(path: Path) -> None:
    events = load_events(path)
    for n in range(0, len(events) + 1, 3):
        tracker = CallTracker(clock=lambda: 0.0)
        ended = [e for e in tracker.feed_all(events[n:]) if isinstance(e, CallEnded)]
        assert tracker.errors == 0, f"dropped {n}"
        assert len({e.linkedid for e in ended}) == len(ended), f"dropped {n}"
