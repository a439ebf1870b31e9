"""Every recorded AMI stream in ../shared/test-data/cacofonisk replays to the right calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callcenter.calls.events import CallAnswered, CallEnded
from callcenter.calls.replay import load_events, replay_events, replay_file
from callcenter.calls.tracker import CallTracker

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "test-data" / "cacofonisk"
FILES = sorted(DATA.glob("*/*.json"))
IDS = [f"{p.parent.name}/{p.stem}" for p in FILES]


def the_call(name: str, caller: str | None = None) -> dict[str, Any]:
    calls = replay_file(DATA / f"{name}.json")
    if caller is not None:
        calls = [c for c in calls if c["caller"] == caller]
    assert len(calls) == 1, calls
    return calls[0]


def test_the_shared_recordings_are_there() -> None:
    assert len(FILES) >= 23


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_file_replays_without_error_and_ends_every_call_once(path: Path) -> None:
    calls, tracker = replay_events(load_events(path))
    assert tracker.errors == 0
    assert calls, "every recording holds at least one finished call"
    linkedids = [c["linkedid"] for c in calls]
    assert len(linkedids) == len(set(linkedids))
    assert tracker.active_calls == 0


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_file_replays_with_its_first_n_events_dropped(path: Path) -> None:
    events = load_events(path)
    for n in range(len(events) + 1):
        tracker = CallTracker(clock=lambda: 0.0)
        ended = [e for e in tracker.feed_all(events[n:]) if isinstance(e, CallEnded)]
        assert tracker.errors == 0, f"dropped {n}"
        assert len({e.linkedid for e in ended}) == len(ended), f"dropped {n}"


@pytest.mark.parametrize(
    ("name", "outcome", "answered_by", "hangup_by"),
    [
        ("simple/ab_success_a_hangup", "answered", "150010002", "150010001"),
        ("simple/ab_success_b_hangup", "answered", "150010002", "150010002"),
        ("simple/ab_success_o3", "answered", "100060002", "100060002"),
        ("simple/ab_a_cancel", "cancelled", None, "150010001"),
        # The phone rejects with SIP 486, which Asterisk reports as DialStatus BUSY.
        ("simple/ab_reject", "busy", None, "150010002"),
        ("simple/ab_dnd", "busy", None, "150010002"),
        ("simple/ab_callgroup", "answered", "150010002", "150010002"),
        ("simple/ab_callgroup_no_answer", "missed", None, None),
        ("simple/a_created_no_answer", "ivr_only", None, "+31150010001"),
        ("queue/queue_simple", "answered", "150010002", "150010002"),
        ("queue/queue_group", "answered", "150010002", "150010002"),
        ("queue/queue_a_cancel", "abandoned", None, "+31150010001"),
    ],
)
def test_scenario_outcome(
    name: str, outcome: str, answered_by: str | None, hangup_by: str | None
) -> None:
    call = the_call(name)
    assert call["outcome"] == outcome
    assert call["answered"] is (answered_by is not None)
    assert call["answered_by"] == answered_by
    assert call["hangup_by"] == hangup_by
    assert call["transfers"] == []


def test_callgroup_rings_every_member() -> None:
    call = the_call("simple/ab_callgroup")
    assert call["parties"] == ["150010001", "150010003", "150010002"]


def test_queue_cancel_is_abandoned_in_its_queue() -> None:
    call = the_call("queue/queue_a_cancel")
    assert call["queue"] == "670100-540100"
    assert call["wait_seconds"] == 11  # QueueCallerAbandon HoldTime


@pytest.mark.parametrize(
    ("name", "by", "transferer", "target", "target_answered"),
    [
        ("xfer_blind/xfer_blind_abacbc", "150010002", "150010001", "203", True),
        ("xfer_blind/xfer_blind_abbcac", "150010002", "150010002", "203", True),
        ("xfer_blind/xfer_blind_a_no_answer", "150010002", "150010001", "203", False),
        ("xfer_blind/xfer_blind_b_no_answer", "150010002", "150010002", "203", False),
        ("xfer_blind/xfer_blind_reject", "150010002", "150010002", "203", False),
        ("xfer_blind/xfer_blind_group", "150010001", "150010001", "401", True),
        ("xfer_blind/xfer_blind_group_no_answer", "150010001", "150010001", "401", False),
        ("queue/queue_blind_xfer", "150010001", "150010001", "202", True),
    ],
)
def test_blind_transfers(
    name: str, by: str, transferer: str, target: str, target_answered: bool
) -> None:
    events = load_events(DATA / f"{name}.json")
    tracker = CallTracker(clock=lambda: 0.0)
    out = tracker.feed_all(events)
    (ended,) = [e for e in out if isinstance(e, CallEnded)]
    assert ended.outcome == "answered"
    assert ended.answered_by == by
    (transfer,) = ended.transfers
    assert (transfer.kind, transfer.from_party, transfer.to) == ("blind", transferer, target)
    answered = [e.agent for e in out if isinstance(e, CallAnswered)]
    assert (len(answered) == 2) is target_answered


def test_attended_transfer_out_of_a_queue_call() -> None:
    calls = replay_file(DATA / "queue/queue_attn_xfer.json")
    main = next(c for c in calls if c["caller"] == "+31260010001")
    consult = next(c for c in calls if c["caller"] == "150010001")
    assert main["answered_by"] == "150010001"
    assert main["transfers"] == [
        {
            "kind": "attended",
            "from": "150010001",
            "to": "150010002",
            "result": "answered",
            "answered_by": "150010002",
        }
    ]
    assert main["ended_with"] == "150010002"
    assert "150010002" in main["parties"]
    assert main["hangup_by"] == "150010002"
    assert consult["answered_by"] == "150010002"


@pytest.mark.parametrize("name", ["simple/ab_success_twoclients", "var_set/user_events"])
def test_two_simultaneous_calls_are_kept_apart(name: str) -> None:
    calls = replay_file(DATA / f"{name}.json")
    assert len(calls) == 2
    assert {c["outcome"] for c in calls} == {"answered"}
    assert {c["answered_by"] for c in calls} == {"+31150010001", "150010001"}


def test_raw_ami_text_replays_like_json(tmp_path: Path) -> None:
    events = load_events(DATA / "simple/ab_success_b_hangup.json")
    raw = "Asterisk Call Manager/9.0.0\r\n" + "".join(
        "".join(f"{k}: {v}\r\n" for k, v in e.items()) + "\r\n" for e in events
    )
    path = tmp_path / "stream.ami"
    path.write_text(raw, encoding="utf-8")
    assert replay_file(path) == replay_file(DATA / "simple/ab_success_b_hangup.json")
