"""The tracker on Asterisk 22 queue + IVR traffic (the order seen in docs REAL_PBX.md)."""

from __future__ import annotations

from typing import Any, TypeVar

from callcenter.calls import events as ev
from callcenter.calls.state import CallState, InvalidCallTransition
from callcenter.calls.tracker import CallTracker

T = TypeVar("T")
LID = "1700000000.2"
CALLER = {
    "Channel": "PJSIP/citizen-00000002",
    "Uniqueid": LID,
    "Linkedid": LID,
    "CallerIDNum": "09131234567",
    "CallerIDName": "محمد رضایی",
}


def agent(n: int) -> dict[str, str]:
    return {
        "Channel": f"PJSIP/210{n}-0000000{n}",
        "Uniqueid": f"1700000000.1{n}",
        "Linkedid": LID,
        "CallerIDNum": "<unknown>",
        "CallerIDName": "<unknown>",
    }


def dest(n: int) -> dict[str, str]:
    return {f"Dest{k}": v for k, v in agent(n).items()}


def e(name: str, t: float, *parts: dict[str, str], **extra: str) -> dict[str, str]:
    out: dict[str, str] = {"Event": name, "Timestamp": f"{t:.6f}"}
    for part in parts:
        out.update(part)
    out.update(extra)
    return out


Q = {"Queue": "citizen-requests"}


def first_agent_misses_second_answers() -> list[dict[str, str]]:
    return [
        e("Newchannel", 100, CALLER),
        e("VarSet", 101, CALLER, Variable="IVR_CHOICE", Value="0"),
        e("VarSet", 101, CALLER, Variable="SOMETHING_ELSE", Value="x"),
        e("QueueCallerJoin", 102, CALLER, Q, Position="1", Count="1"),
        e("Newchannel", 103, agent(1)),
        e("AgentCalled", 103, CALLER, dest(1), Q, Interface="PJSIP/2101", MemberName="2101"),
        e("DialBegin", 103, CALLER, dest(1)),
        e("AgentRingNoAnswer", 118, CALLER, dest(1), Q, Interface="PJSIP/2101", RingTime="15000"),
        e("DialEnd", 118, CALLER, dest(1), DialStatus="NOANSWER"),
        e("Hangup", 118, agent(1), Cause="19"),
        e("Newchannel", 120, agent(2)),
        e("AgentCalled", 120, CALLER, dest(2), Q, Interface="PJSIP/2102", MemberName="2102"),
        e("DialBegin", 120, CALLER, dest(2)),
        e("DialEnd", 124, CALLER, dest(2), DialStatus="ANSWER"),
        e("QueueCallerLeave", 124, CALLER, Q, Position="1"),
        e("AgentConnect", 124, CALLER, dest(2), Q, Interface="PJSIP/2102", HoldTime="22"),
        e("BridgeEnter", 124, agent(2), BridgeUniqueid="b1"),
        e("BridgeEnter", 124, CALLER, BridgeUniqueid="b1"),
        e("BridgeLeave", 160, agent(2), BridgeUniqueid="b1"),
        e("AgentComplete", 160, CALLER, dest(2), Q, Interface="PJSIP/2102", TalkTime="36"),
        e("Hangup", 160, agent(2)),
        e("BridgeLeave", 160, CALLER, BridgeUniqueid="b1"),
        e("Hangup", 160, CALLER),
    ]


def kinds(out: list[Any]) -> list[str]:
    return [type(x).__name__ for x in out]


def only(out: list[ev.CallEvent], cls: type[T]) -> list[T]:
    return [x for x in out if isinstance(x, cls)]


def test_queue_call_with_a_missed_agent() -> None:
    tracker = CallTracker(clock=lambda: 0.0)
    out = tracker.feed_all(first_agent_misses_second_answers())
    assert tracker.errors == 0
    assert kinds(out) == [
        "CallStarted",
        "IvrChoiceMade",
        "CallQueued",
        "AgentRinging",
        "AgentNoAnswer",
        "AgentNoAnswer",
        "AgentRinging",
        "CallAnswered",
        "CallEnded",
    ]
    (started,) = only(out, ev.CallStarted)
    assert started == ev.CallStarted(
        linkedid=LID,
        at=100.0,
        caller="09131234567",
        caller_name="محمد رضایی",
        channel=CALLER["Channel"],
    )
    (choice,) = only(out, ev.IvrChoiceMade)
    assert choice.choice == "0" and choice.ivr_path == ("0",)
    (queued,) = only(out, ev.CallQueued)
    assert (queued.queue, queued.position, queued.at) == ("citizen-requests", 1, 102.0)
    ring1, ring2 = only(out, ev.AgentRinging)
    assert (ring1.agent, ring1.interface, ring1.queue) == ("2101", "PJSIP/2101", "citizen-requests")
    assert ring1.caller_name == "محمد رضایی" and ring1.ivr_path == ("0",)
    assert ring2.agent == "2102"
    assert {(x.agent, x.status) for x in only(out, ev.AgentNoAnswer)} == {
        ("2101", "RingNoAnswer"),
        ("2101", "NOANSWER"),
    }
    (answered,) = only(out, ev.CallAnswered)
    assert (answered.agent, answered.hold_seconds) == ("2102", 22.0)
    (ended,) = only(out, ev.CallEnded)
    assert ended.outcome is ev.Outcome.ANSWERED
    assert ended.answered_by == "2102"
    assert ended.parties == ("09131234567", "2101", "2102")
    assert (ended.wait_seconds, ended.talk_seconds) == (22.0, 36.0)
    assert ended.hangup_by == "2102"
    assert ended.queue == "citizen-requests"


def test_abandoned_after_asking_for_a_callback() -> None:
    tracker = CallTracker(clock=lambda: 0.0)
    stream = [
        e("Newchannel", 10, CALLER),
        e("UserEvent", 11, CALLER, UserEvent="IvrChoice", Choice="0", Request="1403-0042-7"),
        e("QueueCallerJoin", 12, CALLER, Q, Position="3"),
        e("VarSet", 40, CALLER, Variable="IVR_CALLBACK", Value="1"),
        e("QueueCallerAbandon", 41, CALLER, Q, Position="3", HoldTime="29"),
        e("Hangup", 41, CALLER),
    ]
    out = tracker.feed_all(stream)
    callback = next(x for x in out if isinstance(x, ev.CallbackRequested))
    assert (callback.queue, callback.position) == ("citizen-requests", 3)
    abandoned = next(x for x in out if isinstance(x, ev.CallAbandoned))
    assert abandoned.wait_seconds == 29.0
    ended = out[-1]
    assert isinstance(ended, ev.CallEnded)
    assert ended.outcome is ev.Outcome.CALLBACK
    assert ended.request_code == "1403-0042-7"
    assert ended.ivr_path == ("0",)


def test_pressing_1_in_the_queue_is_a_callback_request() -> None:
    tracker = CallTracker(clock=lambda: 0.0)
    out = tracker.feed_all(
        [
            e("Newchannel", 10, CALLER),
            e("QueueCallerJoin", 12, CALLER, Q, Position="2"),
            e("QueueCallerLeave", 70, CALLER, Q, Position="2"),
            e("Newexten", 70, CALLER, Context="queue-exit", Extension="1", Application="NoOp"),
            e("Newexten", 70, CALLER, Context="queue-exit", Extension="1", Application="AGI"),
            e("Hangup", 80, CALLER),
        ]
    )
    (callback,) = only(out, ev.CallbackRequested)
    assert (callback.caller, callback.queue, callback.position) == (
        "09131234567",
        "citizen-requests",
        2,
    )
    (ended,) = only(out, ev.CallEnded)
    assert ended.outcome is ev.Outcome.CALLBACK
    assert ended.wait_seconds == 58.0  # joined at 12, left the queue at 70


def test_ivr_only_call_uses_the_clock_without_timestamps() -> None:
    ticks = iter([5.0, 9.0, 12.0])
    tracker = CallTracker(clock=lambda: next(ticks))
    plain = {k: v for k, v in CALLER.items()}
    out = tracker.feed_all(
        [
            {"Event": "Newchannel", **plain},
            {"Event": "VarSet", **plain, "Variable": "IVR_PATH", "Value": "1/3"},
            {"Event": "VarSet", **plain, "Variable": "IVR_REQUEST", "Value": "1403-0001-2"},
            {"Event": "Hangup", **plain},
        ]
    )
    ended = out[-1]
    assert isinstance(ended, ev.CallEnded)
    assert ended.outcome is ev.Outcome.IVR_ONLY
    assert (ended.started_at, ended.ended_at) == (5.0, 9.0)
    assert ended.ivr_path == ("1", "3") and ended.request_code == "1403-0001-2"


def test_late_events_and_garbage_never_crash_and_end_once() -> None:
    tracker = CallTracker(clock=lambda: 0.0)
    stream = first_agent_misses_second_answers()
    out = tracker.feed_all(stream + stream[-3:])  # replayed hangups of an ended call
    out += tracker.feed_all(
        [
            {"Event": "QueueCallerJoin", "Uniqueid": "x", "Linkedid": "y", "Position": "NaN"},
            {"Event": "BridgeLeave"},
            {"Event": "Hangup", "Uniqueid": "never-seen", "Linkedid": "z"},
            {},
        ]
    )
    ended = [x.linkedid for x in out if isinstance(x, ev.CallEnded)]
    # y is still waiting in its queue; z was met at the hangup of a channel that is not
    # its first, so it stays open until its first channel hangs up or a reconcile.
    assert ended == [LID]
    assert sorted(tracker.calls) == ["y", "z"]
    assert tracker.errors == 0


def test_reconcile_ends_calls_whose_channels_vanished() -> None:
    tracker = CallTracker(clock=lambda: 50.0)
    tracker.feed_all(first_agent_misses_second_answers()[:10])
    other = {
        "Event": "CoreShowChannel",
        "Channel": "PJSIP/2105-00000009",
        "Uniqueid": "9.9",
        "Linkedid": "9.9",
        "CallerIDNum": "2105",
    }
    out = tracker.reconcile([other, {"Event": "CoreShowChannelsComplete"}])
    (ended,) = only(out, ev.CallEnded)
    assert ended.linkedid == LID
    assert ended.end_seen is False  # its hangup happened while AMI was away
    assert list(tracker.calls) == ["9.9"]  # the live call is adopted


def test_a_call_met_mid_way_ends_only_when_its_first_channel_is_gone() -> None:
    tracker = CallTracker(clock=lambda: 0.0)
    stream = first_agent_misses_second_answers()
    start = next(i for i, x in enumerate(stream) if x["Event"] == "BridgeEnter")
    # Met at the bridge: a Local-free agent leg hangs up first, the caller is still up.
    out = tracker.feed_all(stream[start + 2 :])
    (ended,) = only(out, ev.CallEnded)
    assert ended.joined_late is True
    assert ended.caller == "09131234567"
    assert ended.parties[0] == "09131234567"


def test_reconcile_completes_a_late_call_so_it_can_end() -> None:
    tracker = CallTracker(clock=lambda: 0.0)
    agent_leg = {"Event": "CoreShowChannel", **agent(2), "BridgeId": "b1"}
    caller_leg = {"Event": "CoreShowChannel", **CALLER, "BridgeId": "b1"}
    out = tracker.reconcile([agent_leg, caller_leg])
    assert only(out, ev.CallStarted)[0].joined_late is True
    out = tracker.feed_all([e("Hangup", 200, CALLER), e("Hangup", 201, agent(2))])
    (ended,) = only(out, ev.CallEnded)
    assert ended.ended_at == 201.0
    assert ended.end_seen is True


def test_call_state_refuses_unlisted_moves() -> None:
    assert CallState.STARTED.to(CallState.QUEUED) is CallState.QUEUED
    assert CallState.TALKING.to(CallState.RINGING) is CallState.RINGING
    try:
        CallState.ENDED.to(CallState.TALKING)
    except InvalidCallTransition as exc:
        assert "ended -> talking" in str(exc)
    else:
        raise AssertionError("ENDED must be final")
