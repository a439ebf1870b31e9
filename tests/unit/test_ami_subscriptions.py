"""One table: the events the tracker and the queue state handle are the events the bridge
routes to them, so a live bridge and a replay of a recording see the same stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callcenter.ami.subscriptions import EventRouter, subscriptions
from callcenter.calls.events import CallEnded
from callcenter.calls.queue_state import QueueState
from callcenter.calls.replay import load_events
from callcenter.calls.tracker import CallTracker

SHAPES = Path(__file__).resolve().parents[1] / "data" / "ami-shapes"


def routed_to(table: dict[str, list[Any]], feed: Any) -> set[str]:
    return {name for name, feeds in table.items() if feed in feeds}


def test_the_bridge_subscribes_to_exactly_what_the_tracker_handles() -> None:
    tracker, queue_state = CallTracker(), QueueState()
    table = subscriptions(tracker=tracker, queue_state=queue_state)
    assert routed_to(table, tracker.feed) == tracker.events
    assert routed_to(table, queue_state.feed) == queue_state.live_events
    assert set(table) == tracker.events | queue_state.live_events
    # Before: these had tracker handlers but no subscription (replay and live differed).
    for name in ("DialState", "HangupRequest", "SoftHangupRequest", "MusicOnHoldStart"):
        assert (name in tracker.events) == (name in table), name
    for name in ("Newchannel", "Hangup", "DialBegin", "BridgeEnter", "AttendedTransfer",
                 "VarSet", "AgentCalled", "QueueCallerJoin", "QueueMemberPause"):  # fmt: skip
        assert name in table, name
    assert len(table["QueueCallerJoin"]) == 2  # both follow queue callers


def test_a_recording_routed_like_live_traffic_gives_the_replays_records() -> None:
    files = sorted(SHAPES.glob("*.json"))
    events = [e for path in files for e in load_events(path)]
    replayed = CallTracker(clock=lambda: 0.0).feed_all(events)
    live_out: list[Any] = []
    live = CallTracker(clock=lambda: 0.0, on_event=live_out.append)
    router = EventRouter(table=subscriptions(tracker=live, queue_state=QueueState()))
    for event in events:
        router(None, event)  # a dict answers .get/.items like a panoramisk Message
    expected = [e for e in replayed if isinstance(e, CallEnded)]
    assert len(expected) == len(files)  # one call per recorded shape
    assert [e for e in live_out if isinstance(e, CallEnded)] == expected
