"""The actionable follow-up list over HTTP (real app, login, CSRF) on each backend:
done with an outcome, snooze, reassign; each action in the request's history with the
agent's name; every open list (agents' and supervisors') told over its websocket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select
from support.panels import Panels

from callcenter.cases.models import RequestEvent
from callcenter.cases.services import create_request
from callcenter.clock import as_utc
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task, TaskKind
from callcenter.followups.services import create_task


def next_of_type(ws: Any, kind: str, limit: int = 10) -> dict[str, Any]:
    for _ in range(limit):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def callback_task(panels: Panels) -> tuple[int, int]:
    with session_scope(panels.services.engine) as session:
        request = create_request(session=session, phone="09131234567", channel="phone",
                                 category_code="parks", citizen_name="زهرا")
        task = create_task(session=session, kind=TaskKind.CALLBACK, request_id=request.id,
                           citizen_id=request.citizen_id, note="asked for a callback")
        assert task.id is not None and request.id is not None
        return task.id, request.id


def history(panels: Panels, request_id: int) -> list[dict[str, Any]]:
    with session_scope(panels.services.engine) as session:
        rows = session.exec(select(RequestEvent).where(RequestEvent.request_id == request_id)
                            .where(RequestEvent.kind == "followup")
                            .order_by(RequestEvent.id)).all()  # type: ignore[arg-type]
        return [dict(r.data or {}) | {"actor": r.actor} for r in rows]


def test_the_list_says_what_each_task_is_about(panels: Panels) -> None:
    task_id, _ = callback_task(panels)
    rows = panels.client.get("/api/tasks", headers=panels.as_user("ali")).json()
    [row] = [r for r in rows if r["id"] == task_id]
    assert row["citizen_name"] == "زهرا" and row["tracking_code"]
    assert row["note"] == "asked for a callback" and row["request_status"] == "referred"


def test_not_reached_keeps_the_task_due_later_and_reached_closes_it(panels: Panels) -> None:
    task_id, request_id = callback_task(panels)
    headers = panels.as_user("ali")
    first = panels.client.post(f"/api/followups/{task_id}/complete",
                               json={"outcome": "not_reached"}, headers=headers)
    assert first.status_code == 200 and first.json()["state"] == "pending", first.text
    with session_scope(panels.services.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        assert as_utc(task.due_at) > datetime.now(UTC) + timedelta(minutes=20)
    done = panels.client.post(f"/api/followups/{task_id}/complete",
                              json={"outcome": "reached"}, headers=headers)
    assert done.json()["state"] == "done"
    bad = panels.client.post(f"/api/followups/{task_id}/complete",
                             json={"outcome": "maybe"}, headers=headers)
    assert bad.status_code == 422
    lines = history(panels, request_id)
    assert [line["action"] for line in lines] == ["outcome:not_reached", "outcome:reached"]
    assert {line["by"] for line in lines} == {"علی رضایی"} and lines[0]["actor"] == "ali"


def test_snooze_moves_the_task_and_refuses_the_past(panels: Panels) -> None:
    task_id, request_id = callback_task(panels)
    headers = panels.as_user("ali")
    until = datetime.now(UTC) + timedelta(hours=3)
    moved = panels.client.post(f"/api/followups/{task_id}/snooze",
                               json={"until": until.isoformat()}, headers=headers)
    assert moved.status_code == 200, moved.text
    with session_scope(panels.services.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None and abs(as_utc(task.due_at) - until) < timedelta(seconds=1)
    past = panels.client.post(f"/api/followups/{task_id}/snooze",
                              json={"until": "2020-01-01T00:00:00+00:00"}, headers=headers)
    assert past.status_code == 422, past.text
    assert [line["action"] for line in history(panels, request_id)] == ["snooze"]


def test_every_open_list_hears_of_an_action(panels: Panels) -> None:
    """Tried: reza (agent) and root (admin) have their pages open; ali closes a task;
    both sockets get ``tasks_changed`` for it, without a reload."""
    task_id, request_id = callback_task(panels)
    client = panels.client
    panels.as_user("root")
    with client.websocket_connect("/supervisor/ws") as supervisor:
        supervisor.receive_json()
        panels.as_user("reza")
        with client.websocket_connect("/agent/ws") as agent:
            agent.receive_json()
            headers = panels.as_user("ali")
            done = client.post(f"/api/followups/{task_id}/complete",
                               json={"outcome": "wrong_number"}, headers=headers)
            assert done.status_code == 200, done.text
            heard = next_of_type(agent, "tasks_changed")
            assert (heard["task_id"], heard["action"]) == (task_id, "wrong_number")
            seen = next_of_type(supervisor, "tasks_changed")
            assert seen["task_id"] == task_id
            # a supervisor's reassign is heard too, and is in the history
            headers = panels.as_user("root")
            moved = client.post(f"/api/tasks/{task_id}/assign",
                                json={"user_id": panels.user_ids["reza"]}, headers=headers)
            assert moved.status_code == 200, moved.text
            assert next_of_type(agent, "tasks_changed")["action"] == "assign"
    assert [line["action"] for line in history(panels, request_id)] == [
        "outcome:wrong_number", "assign"]


def test_an_agent_opts_the_citizen_out_on_the_case(panels: Panels) -> None:
    from callcenter.cases.models import CitizenRequest
    from callcenter.citizens.models import Citizen
    from callcenter.followups.models import TaskState

    _task_id, request_id = callback_task(panels)
    with session_scope(panels.services.engine) as session:
        request = session.get(CitizenRequest, request_id)
        assert request is not None
        code = request.tracking_code
        survey = create_task(session=session, kind=TaskKind.SURVEY_SMS, request_id=request_id,
                             citizen_id=request.citizen_id)
        survey_id = survey.id
    done = panels.client.post("/api/followups/opt-out", json={"tracking_code": code},
                              headers=panels.as_user("ali"))
    assert done.status_code == 200, done.text
    with session_scope(panels.services.engine) as session:
        request = session.get(CitizenRequest, request_id)
        assert request is not None
        citizen = session.get(Citizen, request.citizen_id)
        assert citizen is not None and citizen.opted_out
        survey_task = session.get(Task, survey_id)
        assert survey_task is not None and survey_task.state == TaskState.SKIPPED
        event = session.exec(select(RequestEvent).where(RequestEvent.request_id == request_id)
                             .where(RequestEvent.kind == "opt_out")).one()
        assert event.actor == "ali" and (event.data or {})["by"] == "علی رضایی"
    unknown = panels.client.post("/api/followups/opt-out", json={"tracking_code": "00000000"},
                                 headers=panels.as_user("ali"))
    assert unknown.status_code == 404
