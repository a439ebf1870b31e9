"""Queue and agent state: live events, and the resync after every (re)connect."""

from __future__ import annotations

from callcenter.calls.queue_state import QueueState

Q = "citizen-requests"


def member(interface: str, **extra: str) -> dict[str, str]:
    return {
        "Queue": Q,
        "Interface": interface,
        "MemberName": interface[-4:],
        "StateInterface": interface,
        **extra,
    }


def test_live_events_track_members_pauses_calls_and_waiting_callers() -> None:
    clock = iter([100.0, 103.0])
    state = QueueState(clock=lambda: next(clock))
    for event in [
        {"Event": "QueueMemberAdded", **member("PJSIP/2101", Status="1", Paused="0")},
        {"Event": "QueueMemberAdded", **member("PJSIP/2102", Status="1", Paused="0")},
        {"Event": "QueueMemberPause", **member("PJSIP/2102", Paused="1", PausedReason="ناهار")},
        {"Event": "DeviceStateChange", "Device": "PJSIP/2101", "State": "INUSE"},
        {
            "Event": "QueueCallerJoin",
            "Queue": Q,
            "Uniqueid": "u1",
            "CallerIDNum": "0913",
            "CallerIDName": "",
            "Position": "1",
        },
        {
            "Event": "QueueCallerJoin",
            "Queue": Q,
            "Uniqueid": "u2",
            "CallerIDNum": "0914",
            "CallerIDName": "",
            "Position": "2",
        },
        {"Event": "QueueCallerAbandon", "Queue": Q, "Uniqueid": "u1", "Position": "1"},
    ]:
        state.feed(event)
    snap = state.snapshot(now=110.0)[Q]
    members = {m["interface"]: m for m in snap["members"]}
    assert members["PJSIP/2101"]["in_call"] is True
    assert members["PJSIP/2101"]["device_state"] == "inuse"
    assert (members["PJSIP/2102"]["paused"], members["PJSIP/2102"]["paused_reason"]) == (
        True,
        "ناهار",
    )
    assert snap["waiting"] == [
        {"uniqueid": "u2", "caller": "0914", "caller_name": "", "position": 1, "wait_seconds": 7}
    ]
    assert snap["abandoned"] == 1
    state.feed({"Event": "QueueMemberPause", **member("PJSIP/2102", Paused="0")})
    state.feed({"Event": "QueueMemberRemoved", **member("PJSIP/2101")})
    members = {m["interface"]: m for m in state.snapshot(now=110.0)[Q]["members"]}
    assert list(members) == ["PJSIP/2102"]
    assert members["PJSIP/2102"]["paused_reason"] == ""


def test_resync_rebuilds_from_queue_status_and_core_show_channels() -> None:
    state = QueueState(clock=lambda: 500.0)
    state.feed({"Event": "QueueMemberAdded", **member("PJSIP/2109")})  # stale, gone on resync
    state.resync(
        [
            {"Event": "QueueParams", "Queue": Q, "Completed": "12", "Abandoned": "3"},
            {
                "Event": "QueueMember",
                "Queue": Q,
                "Name": "2101",
                "Location": "PJSIP/2101",
                "StateInterface": "PJSIP/2101",
                "Status": "1",
                "Paused": "1",
                "PausedReason": "break",
                "CallsTaken": "4",
                "InCall": "0",
            },
            {
                "Event": "QueueMember",
                "Queue": Q,
                "Name": "2102",
                "Location": "PJSIP/2102",
                "StateInterface": "PJSIP/2102",
                "Status": "1",
                "Paused": "0",
                "InCall": "0",
            },
            {
                "Event": "QueueEntry",
                "Queue": Q,
                "Position": "1",
                "Uniqueid": "u9",
                "CallerIDNum": "09135551234",
                "CallerIDName": "زهرا",
                "Wait": "42",
            },
            {"Event": "QueueStatusComplete"},
            {"Event": "CoreShowChannel", "Channel": "PJSIP/2102-0000001f", "Uniqueid": "c1"},
            {"Event": "CoreShowChannelsComplete"},
        ]
    )
    snap = state.snapshot(now=500.0)[Q]
    members = {m["interface"]: m for m in snap["members"]}
    assert set(members) == {"PJSIP/2101", "PJSIP/2102"}
    assert members["PJSIP/2101"]["paused_reason"] == "break"
    assert members["PJSIP/2101"]["calls_taken"] == 4
    assert members["PJSIP/2102"]["in_call"] is True  # it has a live channel
    assert snap["waiting"][0]["wait_seconds"] == 42
    assert snap["waiting"][0]["caller_name"] == "زهرا"
    assert (snap["completed"], snap["abandoned"]) == (12, 3)


def test_bad_values_are_counted_not_raised() -> None:
    state = QueueState()
    state.feed({"Event": "QueueParams", "Queue": Q, "Completed": "many"})
    state.feed({"Event": "Unrelated"})
    assert state.errors == 1
