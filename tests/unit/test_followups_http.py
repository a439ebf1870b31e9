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


def assign_to(panels: Panels, task_id: int, username: str) -> None:
    with session_scope(panels.services.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.assigned_user_id = panels.user_ids[username]
        session.add(task)


def test_an_agent_may_not_act_on_another_agents_task(panels: Panels) -> None:
    """Tried: ali sends reza's task id to every task route (call, survey, complete, and
    the supervisors' assign). Before the fix the id alone was enough: ali could close
    reza's task, enter a survey (which reopens the request) or ring its citizen."""
    task_id, request_id = survey_task(panels)
    assign_to(panels, task_id, "reza")
    panels.services.ami_actions = actions = Actions()
    headers = panels.as_user("ali")
    attempts = {
        f"/api/followups/{task_id}/call": {},
        f"/api/followups/{task_id}/survey": {"rating": 1, "fixed": False},
        f"/api/followups/{task_id}/complete": {"outcome": "done"},
        f"/api/tasks/{task_id}/assign": {"user_id": panels.user_ids["ali"]},
    }
    for path, body in attempts.items():
        response = panels.client.post(path, json=body, headers=headers)
        assert response.status_code == 403, (path, response.text)
    assert actions.calls == []  # nobody was rung
    with session_scope(panels.services.engine) as session:
        task = session.get(Task, task_id)
        request = session.get(CitizenRequest, request_id)
        assert task is not None and request is not None
        assert (task.state, task.assigned_user_id) == ("pending", panels.user_ids["reza"])
        assert request.status == RequestStatus.RESOLVED  # not reopened
    # The owner, and an admin (supervisors' powers), may act on it.
    assert panels.client.post(f"/api/followups/{task_id}/call",
                              headers=panels.as_user("reza")).status_code == 200
    done = panels.client.post(f"/api/followups/{task_id}/complete", json={},
                              headers=panels.as_user("root"))
    assert done.status_code == 200, done.text


def test_an_agent_may_act_on_an_unassigned_task(panels: Panels) -> None:
    task_id, _ = survey_task(panels)
    done = panels.client.post(f"/api/followups/{task_id}/complete", json={},
                              headers=panels.as_user("ali"))
    assert done.status_code == 200, done.text


BIG = 2**63  # one past SQLite's integers (PostgreSQL's INTEGER ends at 2^31 - 1)
TOP = 2**31 - 1


def test_ids_and_pages_past_the_stores_integers_are_422_not_500(panels: Panels) -> None:
    """Tried: every route with an integer id given 2^63 (and 243558747518878112 as a
    page), then 2^31 on one; before, SQLite's OverflowError and PostgreSQL's "integer out
    of range" came back as a 500."""
    headers = panels.as_user("root")
    posts = {f"/api/followups/{BIG}/call": {}, f"/api/followups/{BIG}/survey": {"rating": 3},
             f"/api/followups/{BIG}/complete": {}, f"/api/tasks/{BIG}/assign": {},
             "/api/tasks/1/assign": {"user_id": BIG},
             f"/intake/duplicates/{BIG}/confirm": {},
             f"/intake/duplicates/{BIG}/dismiss": {},
             f"/crm/outbox/{BIG}/replay": {},
             "/api/supervisor/callbacks": {"linkedid": "1.1", "assigned_user_id": BIG}}
    for path, body in posts.items():
        response = panels.client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.status_code, response.text)
    for path in ["/api/cases?page=243558747518878112", f"/api/cases?page={BIG}"]:
        response = panels.client.get(path, headers=headers)
        assert response.status_code == 422, (path, response.text)
    over = panels.client.post(f"/api/followups/{TOP + 1}/complete", json={}, headers=headers)
    assert over.status_code == 422, over.text
    # The largest id the store holds is a plain 404, not an error.
    top = panels.client.post(f"/api/followups/{TOP}/complete", json={}, headers=headers)
    assert top.status_code == 404, top.text
