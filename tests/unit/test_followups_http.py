"""The follow-up list's actions over HTTP (real app, login, CSRF) on each backend:
click-to-call, manual survey answers, closing a task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from support.panels import Panels

from callcenter.ami.actions import OriginateResult
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task, TaskKind
from callcenter.followups.services import create_task
from callcenter.settings import Settings

NO_HOLIDAYS = Path(__file__).resolve().parents[1] / "e2e" / "no-holidays.yaml"


class Actions:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def originate(self, **kwargs: Any) -> OriginateResult:
        self.calls.append(kwargs)
        return OriginateResult(action_id="a", channel=kwargs["channel"], uniqueid="19.1",
                               reason="4")


@pytest.fixture
def panel_settings() -> dict[str, Any]:
    # Calling hours around the clock, every day: the test must not depend on when it runs.
    overrides: dict[str, Any] = {"calling_hours_start": "00:00:00",
                                 "calling_hours_end": "23:59:59", "calling_on_friday": True}
    if "holidays_file" in Settings.model_fields:
        overrides["holidays_file"] = NO_HOLIDAYS
    return overrides


def survey_task(panels: Panels) -> tuple[int, int]:
    with session_scope(panels.services.engine) as session:
        request = create_request(session=session, phone="09131234567", channel="app",
                                 category_code="parks")
        change_status(session=session, request=request, to_status=RequestStatus.RESOLVED,
                      actor="dept")
        task = create_task(session=session, kind=TaskKind.SURVEY_CALL, request_id=request.id,
                           citizen_id=request.citizen_id)
        assert task.id is not None and request.id is not None
        return task.id, request.id


def test_agent_enters_survey_answers_and_not_fixed_reopens(panels: Panels) -> None:
    task_id, request_id = survey_task(panels)
    headers = panels.as_user("ali")
    response = panels.client.post(f"/api/followups/{task_id}/survey",
                                  json={"rating": 4, "fixed": False}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"task_id": task_id, "request_status": "reopened"}
    with session_scope(panels.services.engine) as session:
        request = session.get(CitizenRequest, request_id)
        assert request is not None and request.status == RequestStatus.REOPENED
        kinds = sorted(t.kind for t in session.exec(select(Task)).all())
        assert kinds == ["not_fixed", "survey_call"]
    bad = panels.client.post(f"/api/followups/{task_id}/survey", json={"rating": 9},
                             headers=headers)
    assert bad.status_code == 422


def test_click_to_call_rings_the_signed_in_agents_extension(panels: Panels) -> None:
    task_id, _ = survey_task(panels)
    actions = Actions()
    panels.services.ami_actions = actions
    response = panels.client.post(f"/api/followups/{task_id}/call",
                                  headers=panels.as_user("reza"))
    assert response.status_code == 200, response.text
    [call] = actions.calls
    assert call["channel"] == "PJSIP/2102" and call["variables"] == {
        "CITIZEN": "09131234567", "CALL_PURPOSE": "click-to-call"}


def test_click_to_call_without_pbx_is_a_clear_error(panels: Panels) -> None:
    task_id, _ = survey_task(panels)
    response = panels.client.post(f"/api/followups/{task_id}/call",
                                  headers=panels.as_user("ali"))
    assert response.status_code == 502
    assert "call-not-placed" in response.text


def test_close_a_task_once_and_only_signed_in(panels: Panels) -> None:
    task_id, _ = survey_task(panels)
    panels.client.cookies.clear()
    assert panels.client.post(f"/api/followups/{task_id}/complete", json={}).status_code == 401
    headers = panels.as_user("ali")
    done = panels.client.post(f"/api/followups/{task_id}/complete",
                              json={"outcome": "cancelled", "note": "wrong number"},
                              headers=headers)
    assert done.status_code == 200 and done.json()["state"] == "cancelled"
    again = panels.client.post(f"/api/followups/{task_id}/complete", json={}, headers=headers)
    assert again.status_code == 409
