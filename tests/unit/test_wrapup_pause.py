"""Wrap-up known to Asterisk: the bridge pauses the agent (reason wrap-up) when a call
ends, unpauses on ready or after the maximum; a break or leaving does not unpause."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from callcenter.agent_panel.hub import PanelHub
from callcenter.agent_panel.presence import AgentBoard, AgentState
from callcenter.agent_panel.wrapup import WRAP_UP_REASON, WrapUpPauser
from callcenter.calls.events import AgentNoAnswer, AgentRinging, CallAnswered, CallEnded
from callcenter.calls.replay import load_events
from callcenter.calls.tracker import CallTracker
from callcenter.notifier import Notifier

SHAPES = Path(__file__).resolve().parents[1] / "data" / "ami-shapes"


class RecordingActions:
    """The AMI edge: records QueuePause actions."""

    def __init__(self) -> None:
        self.pauses: list[tuple[str, bool, str, str]] = []

    async def queue_add(self, **_kw: Any) -> dict[str, str]:
        return {}

    async def queue_remove(self, **_kw: Any) -> dict[str, str]:
        return {}

    async def queue_pause(self, *, interface: str, paused: bool, reason: str = "",
                          queue: str = "") -> dict[str, str]:
        self.pauses.append((interface, paused, reason, queue))
        return {"Response": "Success"}


def on_a_call(board: AgentBoard, extension: str = "2101") -> None:
    board.fire(extension, "join")
    board.fire(extension, "ring", caller="0913", linkedid="L1")
    board.fire(extension, "answer", linkedid="L1")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_call_end_pauses_and_ready_unpauses() -> None:
    board, actions = AgentBoard(), RecordingActions()
    pauser = WrapUpPauser(board=board, actions=lambda: actions, queue_name="q",
                          max_seconds=600)
    on_a_call(board)
    await settle()
    assert actions.pauses == []
    board.fire("2101", "end", linkedid="L1")
    await settle()
    assert actions.pauses == [("PJSIP/2101", True, WRAP_UP_REASON, "q")]
    assert pauser.paused() == {"2101"}
    board.fire("2101", "ready")
    await settle()
    assert actions.pauses[-1] == ("PJSIP/2101", False, "", "q")
    assert pauser.paused() == frozenset()
    await pauser.stop()


async def test_the_maximum_ends_wrap_up_by_itself() -> None:
    board, actions = AgentBoard(), RecordingActions()
    pauser = WrapUpPauser(board=board, actions=lambda: actions, queue_name="q",
                          max_seconds=0.05)
    on_a_call(board)
    board.fire("2101", "end", linkedid="L1")
    await asyncio.sleep(0.2)
    assert board.get("2101").state == AgentState.AVAILABLE
    assert [p[1] for p in actions.pauses] == [True, False]
    await pauser.stop()


async def test_a_break_from_wrap_up_is_not_unpaused_and_the_timer_stops() -> None:
    board, actions = AgentBoard(), RecordingActions()
    pauser = WrapUpPauser(board=board, actions=lambda: actions, queue_name="q",
                          max_seconds=0.05)
    on_a_call(board)
    board.fire("2101", "end", linkedid="L1")
    await settle()
    board.fire("2101", "pause", reason="lunch")
    await asyncio.sleep(0.2)
    assert board.get("2101").state == AgentState.ON_BREAK  # the timer did not fire ready
    assert [p[1] for p in actions.pauses] == [True]
    await pauser.stop()


async def test_no_bridge_means_no_action_and_no_error() -> None:
    board = AgentBoard()
    pauser = WrapUpPauser(board=board, actions=lambda: None, queue_name="q", max_seconds=9)
    on_a_call(board)
    board.fire("2101", "end", linkedid="L1")
    await settle()
    assert pauser.health() == {"state": "running", "paused": ["2101"], "max_seconds": 9}
    await pauser.stop()


def test_a_wrap_up_pause_seen_in_the_queue_is_not_a_break() -> None:
    board = AgentBoard()
    board.fire("2101", "join")
    board.sync_member("2101", member={"paused": True, "paused_reason": WRAP_UP_REASON})
    assert board.get("2101").state == AgentState.AVAILABLE
    board.sync_member("2101", member={"paused": True, "paused_reason": "lunch"})
    assert board.get("2101").state == AgentState.ON_BREAK


async def test_the_end_of_wrap_up_first_offers_the_agent_to_an_older_callback() -> None:
    board, actions = AgentBoard(), RecordingActions()
    asked: list[str] = []

    async def next_call(interface: str) -> bool:
        asked.append(interface)
        assert actions.pauses[-1][1] is True  # still paused while the callback is placed
        return True

    pauser = WrapUpPauser(board=board, actions=lambda: actions, queue_name="q",
                          max_seconds=600, next_call=next_call, hold_after_call=0.01)
    on_a_call(board)
    board.fire("2101", "end", linkedid="L1")
    await settle()
    board.fire("2101", "ready")
    await asyncio.sleep(0.1)
    assert asked == ["PJSIP/2101"]
    assert [p[1] for p in actions.pauses] == [True, False]  # unpaused after the hold
    await pauser.stop()


@pytest.mark.parametrize("shape", ["callback_call", "click_to_dial", "click_to_dial_busy"])
async def test_a_call_the_agent_places_ends_in_their_wrap_up_not_the_citizens(
        shape: str) -> None:
    """Tried: the recorded callback and click-to-call shapes (sandbox Asterisk 22) run
    through the real tracker into the panel hub. Their ring and answer are the citizen's
    trunk leg (``PJSIP/citizens``, party = the citizen's number). Before, the board made
    the citizen's number an "agent": it went to wrap-up, the bridge sent QueuePause for
    ``PJSIP/0912...`` (and logged the number on the failure), and agent 2101 was never
    paused, so the next queue caller rang them at once."""
    hub = PanelHub(engine=create_engine("sqlite://"), notifier=Notifier())
    actions = RecordingActions()
    pauser = WrapUpPauser(board=hub.board, actions=lambda: actions, queue_name="q",
                          max_seconds=600)
    hub.board.fire("2101", "join")
    tracker = CallTracker(clock=lambda: 0.0)
    for event in tracker.feed_all(load_events(SHAPES / f"{shape}.json")):
        if isinstance(event, AgentRinging):
            await hub.on_ringing(event)
        elif isinstance(event, AgentNoAnswer):
            hub.on_no_answer(event)
        elif isinstance(event, CallAnswered):
            hub.on_answered(event)
        elif isinstance(event, CallEnded):
            await hub.on_ended(event)
        await settle()
    assert [p.extension for p in hub.board.all()] == ["2101"]
    assert hub.board.get("2101").state == AgentState.WRAP_UP
    assert actions.pauses == [("PJSIP/2101", True, WRAP_UP_REASON, "q")]
    await pauser.stop()
