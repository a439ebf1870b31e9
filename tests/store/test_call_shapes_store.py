"""Call records of the recorded call shapes (tests/data/ami-shapes), as the store keeps them:
outbound calls the product placed, with their purpose, agent and citizen; transfers with
their target's result."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from callcenter.callrecords.models import Call
from callcenter.callrecords.services import record_call
from callcenter.calls.events import CallEnded
from callcenter.calls.replay import load_events
from callcenter.calls.tracker import CallTracker
from callcenter.citizens.models import Citizen

SHAPES = Path(__file__).resolve().parents[1] / "data" / "ami-shapes"


def stored(session: Session, name: str) -> Call:
    out = CallTracker(clock=lambda: 0.0).feed_all(load_events(SHAPES / f"{name}.json"))
    (ended,) = [e for e in out if isinstance(e, CallEnded)]
    call = record_call(session=session, ended=ended)
    session.commit()
    return call


def test_click_to_call_is_an_outbound_call_of_the_agent_to_the_citizen(session: Session) -> None:
    call = stored(session, "click_to_dial")
    assert (call.direction, call.agent, call.outcome) == ("outbound", "2101", "answered")
    assert call.details is not None
    assert call.details["purpose"] == "click-to-call"
    assert call.details["answered_by"] == "09125550001"
    citizen = session.exec(select(Citizen).where(Citizen.id == call.citizen_id)).one()
    assert citizen.phone.endswith("9125550001")


def test_survey_call_names_the_citizen_not_the_137_it_showed(session: Session) -> None:
    call = stored(session, "survey_call")
    assert (call.direction, call.agent, call.caller) == ("outbound", None, "137")
    assert call.details is not None and call.details["purpose"] == "survey"
    citizen = session.exec(select(Citizen).where(Citizen.id == call.citizen_id)).one()
    assert citizen.phone.endswith("9125550005")


def test_a_transfer_to_a_busy_phone_keeps_its_result(session: Session) -> None:
    call = stored(session, "blind_transfer_busy")
    assert (call.direction, call.agent) == ("inbound", "2101")
    assert call.details is not None
    (transfer,) = call.details["transfers"]
    assert (transfer["kind"], transfer["to"], transfer["result"]) == ("blind", "2103", "busy")
    assert call.details["ended_with"] == "2101"
