"""One table: the events the tracker and the queue state handle are the events the bridge
routes to them, so a live bridge and a replay of a recording see the same stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

from callcenter.ami.subscriptions import EventRouter, subscriptions
from callcenter.calls.events import CallEnded
from callcenter.calls.originate import PURPOSE_VARIABLE
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


def frame(event: dict[str, str]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in event.items()) + "\r\n").encode()


async def test_events_nobody_reads_are_dropped_unparsed_and_the_records_are_the_same() -> None:
    """The bridge's own connection (protocol -> manager -> router) over every recorded
    shape, as raw AMI bytes: events no handler reads (and VarSets of variables the
    tracker ignores) never reach a parse or a dispatch, and the call records are the
    ones a replay of every event gives."""
    from callcenter.ami.bridge import AmiBridge
    from callcenter.ami.protocol import BridgeAMIProtocol

    files = sorted(SHAPES.glob("*.json"))
    events = [e for path in files for e in load_events(path)]
    events.append({"Event": "RTCPSent", "Channel": "PJSIP/x-1", "Uniqueid": "9.1"})
    expected = [e for e in CallTracker(clock=lambda: 0.0).feed_all(events)
                if isinstance(e, CallEnded)]
    live_out: list[Any] = []
    bridge = AmiBridge(host="127.0.0.1", port=1, username="u", secret="s",
                       on_call_event=live_out.append)
    bridge.tracker._clock = lambda: 0.0
    dispatched: list[str] = []
    original = bridge.manager.dispatch

    def spy(message: Any) -> list[str]:
        dispatched.append(message.get("Event", ""))
        return original(message)

    bridge.manager.dispatch = spy  # type: ignore[method-assign]
    proto = BridgeAMIProtocol()
    proto.connection_made(MagicMock())
    proto.factory = bridge.manager
    proto.data_received(b"".join(frame(e) for e in events))

    assert [e for e in live_out if isinstance(e, CallEnded)] == expected
    unanswered = [e for e in events if "ActionID" not in e]  # answers are always parsed
    ignored_vars = [e for e in unanswered if e["Event"] == "VarSet"
                    and not e.get("Variable", "").startswith("IVR_")
                    and e.get("Variable") not in (PURPOSE_VARIABLE, "ATTENDEDTRANSFER")]
    unrouted = [e for e in unanswered if e["Event"] not in bridge.router._table]
    assert ignored_vars and unrouted  # the shapes do carry both kinds
    assert bridge.manager.events_skipped == len(ignored_vars) + len(unrouted)
    assert "RTCPSent" not in dispatched
    assert dispatched.count("VarSet") == sum(e["Event"] == "VarSet" for e in events) - len(
        ignored_vars)
    assert bridge.manager.events_received == len(events)
