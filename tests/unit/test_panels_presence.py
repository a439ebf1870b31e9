"""Pure parts of the panels: the agent state machine, calls in the IVR, the live picture."""

from __future__ import annotations

from callcenter.agent_panel.presence import AgentBoard, AgentPresence, AgentState
from callcenter.agent_panel.services import category_digit, ivr_steps
from callcenter.calls.events import CallQueued, CallStarted, IvrChoiceMade
from callcenter.supervisor.board import live_picture, sync_board
from callcenter.supervisor.live import LiveCalls
from callcenter.web.formatting import national


def test_a_working_day_of_one_agent() -> None:
    p = AgentPresence("2101")
    steps = [("join", AgentState.AVAILABLE), ("ring", AgentState.RINGING),
             ("answer", AgentState.ON_CALL), ("end", AgentState.WRAP_UP),
             ("ready", AgentState.AVAILABLE), ("pause", AgentState.ON_BREAK),
             ("resume", AgentState.AVAILABLE), ("leave", AgentState.LOGGED_OUT)]
    for at, (trigger, expected) in enumerate(steps, start=1):
        assert p.fire(trigger, at=float(at), caller="0913", linkedid="L1", reason="lunch")
        assert (p.state, p.since) == (expected, float(at))
    assert p.caller == "" and p.linkedid == ""


def test_impossible_triggers_change_nothing() -> None:
    p = AgentPresence("2101")
    assert not p.fire("answer", at=1) and not p.fire("resume", at=1)
    p.fire("join", at=2)
    p.fire("pause", at=3, reason="prayer")
    assert not p.fire("ring", at=4)  # a paused member is not rung by the queue
    assert (p.state, p.reason, p.since) == (AgentState.ON_BREAK, "prayer", 3)


def test_end_of_another_call_does_not_wrap_up() -> None:
    p = AgentPresence("2101")
    p.fire("join", at=1)
    p.fire("ring", at=2, caller="0913", linkedid="A")
    p.fire("answer", at=3, linkedid="A")
    assert not p.fire("end", at=4, linkedid="B")
    assert p.state == AgentState.ON_CALL and p.caller == "0913"
    assert p.fire("end", at=5, linkedid="A") and p.state == AgentState.WRAP_UP


def test_board_follows_the_pbx_queue_membership() -> None:
    board = AgentBoard(clock=lambda: 100.0)
    changes: list[tuple[str, str]] = []
    board.listen(lambda p: changes.append((p.extension, p.state.value)))
    snapshot = {"q": {"members": [
        {"interface": "PJSIP/2101", "paused": False},
        {"interface": "PJSIP/2102", "paused": True, "paused_reason": "lunch"}]}}
    sync_board(board, snapshot, "q")
    assert changes == [("2101", "available"), ("2102", "available"), ("2102", "on_break")]
    sync_board(board, {"q": {"members": []}}, "q")
    assert {p.extension: p.state for p in board.all()} == {
        "2101": AgentState.LOGGED_OUT, "2102": AgentState.LOGGED_OUT}


def test_calls_in_the_ivr_and_the_live_picture() -> None:
    live = LiveCalls()
    assert live.feed(CallStarted(linkedid="A", at=10, caller="0913", caller_name="",
                                 channel="PJSIP/t"))
    live.feed(CallStarted(linkedid="B", at=20, caller="0912", caller_name="", channel="x"))
    live.feed(IvrChoiceMade(linkedid="A", at=12, choice="1", ivr_path=("menu:1",)))
    assert live.feed(CallQueued(linkedid="B", at=25, queue="q", position=1))
    assert live.snapshot(now=30) == [
        {"linkedid": "A", "caller": "0913", "path": ["menu:1"], "seconds": 20}]
    board = AgentBoard(clock=lambda: 0.0)
    board.fire("2101", "join", at=0)
    picture = live_picture(
        board=board, in_ivr=live.snapshot(now=30), queue_name="q", now=30,
        names={"2101": "علی"},
        queue_snapshot={"q": {"members": [], "waiting": [
            {"caller": "1", "position": 1, "wait_seconds": 40},
            {"caller": "2", "position": 2, "wait_seconds": 7}]}})
    assert picture["longest_wait"] == 40
    assert picture["agents"][0]["name"] == "علی" and picture["agents"][0]["seconds"] == 30


def test_ivr_path_helpers() -> None:
    assert ivr_steps(["menu:1>category:3>recorded", "x"]) == [
        "menu:1", "category:3", "recorded", "x"]
    assert category_digit(["menu:1>category:3", "category:5"]) == 5
    assert category_digit(["menu:0"]) is None
    assert national("+989131234567") == "0913 123 4567"
    assert national("2101") == "2101"
