"""Agent panel and supervisor page over HTTP and websockets, every role."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import select
from starlette.websockets import WebSocketDisconnect
from support.panels import Panels, ringing

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.cases.services import create_request
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task
from callcenter.followups.services import create_task


def next_of_type(ws: Any, kind: str, limit: int = 10) -> dict[str, Any]:
    for _ in range(limit):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def full_pop(ws: Any) -> dict[str, Any]:
    """The pop and its history (two pushes, same linkedid), merged."""
    pop = next_of_type(ws, "pop")
    history = next_of_type(ws, "pop_history")
    assert history["linkedid"] == pop["linkedid"]
    return {**pop, **history}


def seed_history(panels: Panels) -> str:
    """An earlier call and an open request of the caller 0913 123 4567."""
    with session_scope(panels.services.engine) as session:
        request = create_request(session=session, phone="+989131234567", channel="sms",
                                 category_code="waste", description="زباله")
        session.add(Call(linkedid="old.1", uniqueid="old.1", caller="09131234567",
                         citizen_id=request.citizen_id, entered_at=utcnow(),
                         outcome="answered", agent="2102", talk_seconds=30))
        return request.tracking_code


def test_pop_reaches_only_the_ringing_agent(panels: Panels) -> None:
    code = seed_history(panels)
    client = panels.client
    panels.as_user("ali")
    with client.websocket_connect("/agent/ws") as ali:
        assert ali.receive_json()["state"] == "logged_out"
        panels.as_user("reza")
        with client.websocket_connect("/agent/ws") as reza:
            reza.receive_json()
            panels.publish("AgentRinging", **ringing(agent="2102",
                                                     ivr_path=["menu:1>category:3"]))
            pop = full_pop(reza)
            # Then a ring for ali: ali's first message must be ali's own, never reza's pop.
            panels.publish("AgentRinging", **ringing(linkedid="L-ali", agent="2101"))
            first = next_of_type(ali, "pop")
            assert first["linkedid"] == "L-ali"
    assert pop["phone"] == "+989131234567"
    assert pop["caller_name"] == "CALLER"
    assert pop["ivr_path"] == ["menu:1", "category:3"]
    assert pop["prefill"]["category_code"] == "parks"
    assert [r["tracking_code"] for r in pop["open_requests"]] == [code]
    assert pop["open_requests"][0]["department"]["code"] == "waste"
    assert pop["open_requests"][0]["status"] == "referred"
    assert [c["linkedid"] for c in pop["calls"]] == ["old.1"]


def test_panel_opened_during_a_call_gets_its_pop(panels: Panels) -> None:
    seed_history(panels)
    client = panels.client
    panels.as_user("ali")
    panels.publish("AgentRinging", **ringing(linkedid="EARLY"))
    with client.websocket_connect("/agent/ws") as ws:
        assert ws.receive_json()["state"] == "ringing"
        pop = full_pop(ws)
    assert pop["linkedid"] == "EARLY" and len(pop["open_requests"]) == 1
    panels.as_user("reza")
    with client.websocket_connect("/agent/ws") as ws:
        assert ws.receive_json()["state"] == "logged_out"
        panels.publish("AgentRinging", **ringing(linkedid="R2", agent="2102"))
        assert next_of_type(ws, "pop")["linkedid"] == "R2"  # not ali's EARLY


def test_agent_cannot_read_another_agents_pops(panels: Panels) -> None:
    client = panels.client
    panels.as_user("ali")
    with pytest.raises(WebSocketDisconnect) as closed, \
            client.websocket_connect("/agent/ws?extension=2102") as ws:
        ws.receive_json()
    assert closed.value.code == 4403


def test_supervisor_may_watch_an_agents_pops(panels: Panels) -> None:
    client = panels.client
    panels.as_user("sara")
    with client.websocket_connect("/agent/ws?extension=2102") as ws:
        ws.receive_json()
        panels.publish("AgentRinging", **ringing(agent="2102"))
        assert next_of_type(ws, "pop")["agent"] == "2102"


def test_ivr_request_is_shown_and_prefilled(panels: Panels) -> None:
    code = seed_history(panels)
    client = panels.client
    panels.as_user("ali")
    with client.websocket_connect("/agent/ws") as ws:
        ws.receive_json()
        panels.publish("AgentRinging", **ringing(request_code=code,
                                                 ivr_path=["menu:2", "followup"]))
        pop = full_pop(ws)
    assert pop["ivr_request"]["tracking_code"] == code
    assert pop["prefill"]["tracking_code"] == code


def test_file_request_from_pop_is_linked_to_the_call(panels: Panels) -> None:
    client = panels.client
    headers = panels.as_user("ali")
    response = client.post("/api/agent/requests", headers=headers, json={
        "linkedid": "1700000000.9", "phone": "0913 765 4321", "category_code": "parks",
        "neighbourhood_code": None, "description": "درخت افتاده", "citizen_name": "مریم"})
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["created"] is True and saved["department_code"] == "parks"
    with session_scope(panels.services.engine) as session:
        request = session.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == saved["tracking_code"])).one()
        assert request.channel == "phone" and request.description == "درخت افتاده"
        contacts = session.exec(select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.kind == "contact")).all()
    assert [c.data for c in contacts] == [{"linkedid": "1700000000.9"}]
    assert contacts[0].actor == "ali"


def test_update_existing_request_status_from_pop(panels: Panels) -> None:
    code = seed_history(panels)
    client = panels.client
    headers = panels.as_user("ali")
    response = client.post("/api/agent/requests", headers=headers, json={
        "linkedid": "L2", "phone": "09131234567", "tracking_code": code,
        "new_status": "in_progress", "note": "با واحد هماهنگ شد"})
    assert response.status_code == 200, response.text
    assert response.json() == {"tracking_code": code, "status": "in_progress",
                               "department_code": "waste", "created": False}
    bad = client.post("/api/agent/requests", headers=headers, json={
        "linkedid": "L2", "phone": "09131234567", "tracking_code": code, "new_status": "new"})
    assert bad.status_code == 409 and bad.json()["error"] == "invalid-status-transition"
    missing = client.post("/api/agent/requests", headers=headers, json={
        "linkedid": "L2", "phone": "09131234567"})
    assert missing.status_code == 422


def test_queue_actions_need_the_ami_bridge(panels: Panels) -> None:
    headers = panels.as_user("ali")
    response = panels.client.post("/api/agent/queue/join", headers=headers)
    assert response.status_code == 503
    assert response.json()["error"] == "phone-system-unavailable"


class FakeActions:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def queue_add(self, **kw: Any) -> dict[str, str]:
        self.sent.append(("add", kw))
        return {"Response": "Success"}

    async def queue_remove(self, **kw: Any) -> dict[str, str]:
        self.sent.append(("remove", kw))
        return {"Response": "Success"}

    async def queue_pause(self, **kw: Any) -> dict[str, str]:
        self.sent.append(("pause", kw))
        return {"Response": "Success"}


def test_queue_login_break_resume_and_wrap_up(panels: Panels) -> None:
    actions = FakeActions()
    panels.services.ami_actions = actions
    client = panels.client
    headers = panels.as_user("ali")
    with client.websocket_connect("/agent/ws") as ws:
        ws.receive_json()
        assert client.post("/api/agent/queue/join", headers=headers).json() == {
            "state": "available"}
        assert next_of_type(ws, "state")["state"] == "available"
        assert client.post("/api/agent/break", headers=headers,
                           json={"reason": "lunch"}).json() == {"state": "on_break"}
        on_break = next_of_type(ws, "state")
        assert (on_break["state"], on_break["reason"]) == ("on_break", "lunch")
        assert client.post("/api/agent/resume", headers=headers).json()["state"] == "available"
        next_of_type(ws, "state")
        panels.publish("AgentRinging", **ringing(linkedid="W1"))
        assert next_of_type(ws, "state")["state"] == "ringing"
        panels.publish("CallAnswered", linkedid="W1", agent="2101", interface="PJSIP/2101",
                       hold_seconds=3.0)
        assert next_of_type(ws, "state")["state"] == "on_call"
        panels.publish("CallEnded", linkedid="W1", outcome="answered", caller="09131234567",
                       caller_name="", parties=["2101"], answered_by="2101", transfers=[],
                       queue="citizen-requests", started_at=time.time() - 60,
                       answered_at=time.time() - 50, ended_at=time.time(), wait_seconds=10,
                       talk_seconds=50, hangup_by="2101")
        ended = next_of_type(ws, "ended")
        assert ended["linkedid"] == "W1"
        assert client.post("/api/agent/ready", headers=headers).json()["state"] == "available"
    assert [name for name, _ in actions.sent] == ["add", "pause", "pause"]
    assert actions.sent[0][1]["interface"] == "PJSIP/2101"
    assert actions.sent[0][1]["queue"] == "citizen-requests"
    assert actions.sent[1][1] == {"interface": "PJSIP/2101", "paused": True, "reason": "lunch",
                                  "queue": "citizen-requests"}


def test_supervisors_cannot_use_agent_queue_actions(panels: Panels) -> None:
    headers = panels.as_user("sara")
    assert panels.client.post("/api/agent/queue/join", headers=headers).status_code == 403


def test_walk_in_request(panels: Panels) -> None:
    headers = panels.as_user("ali")
    response = panels.client.post("/api/agent/walk-in", headers=headers, json={
        "phone": "+98 913 111 2233", "category_code": "streets", "description": "چاله",
        "neighbourhood_code": None, "citizen_name": None})
    assert response.status_code == 200, response.text
    with session_scope(panels.services.engine) as session:
        request = session.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == response.json()["tracking_code"])).one()
    assert request.channel == "walk_in" and request.category_code == "streets"


def test_task_lists_and_reassignment(panels: Panels) -> None:
    with session_scope(panels.services.engine) as session:
        mine = create_task(session=session, kind="callback",
                           assigned_user_id=panels.user_ids["ali"])
        theirs = create_task(session=session, kind="survey_call",
                             assigned_user_id=panels.user_ids["reza"])
        free = create_task(session=session, kind="abandoned")
        ids = (mine.id, theirs.id, free.id)
    client = panels.client
    headers = panels.as_user("ali")
    assert {t["id"] for t in client.get("/api/tasks").json()} == {ids[0], ids[2]}
    assert client.post(f"/api/tasks/{ids[1]}/assign", headers=headers,
                       json={"user_id": panels.user_ids["ali"]}).status_code == 403
    headers = panels.as_user("sara")
    assert {t["id"] for t in client.get("/api/tasks").json()} == set(ids)
    moved = client.post(f"/api/tasks/{ids[1]}/assign", headers=headers,
                        json={"user_id": panels.user_ids["ali"]})
    assert moved.status_code == 200 and moved.json()["assigned_to"] == "علی رضایی"
    assert client.post("/api/tasks/99999/assign", headers=headers,
                       json={"user_id": None}).status_code == 404
    panels.as_user("ali")
    assert {t["id"] for t in client.get("/api/tasks").json()} == set(ids)


def test_supervisor_live_picture_follows_queue_and_calls(panels: Panels) -> None:
    client = panels.client
    panels.as_user("sara")
    with client.websocket_connect("/supervisor/ws") as ws:
        first = next_of_type(ws, "live")
        assert first["waiting"] == [] and first["queue_known"] is False
        stats = next_of_type(ws, "stats")
        assert stats["figures"]["offered"] == 0
        client.post("/test/queue-events", json=[
            {"Event": "QueueMemberAdded", "Queue": "citizen-requests",
             "Interface": "PJSIP/2101", "MemberName": "ali", "Status": "1", "Paused": "0"},
            {"Event": "QueueCallerJoin", "Queue": "citizen-requests", "Uniqueid": "C1",
             "CallerIDNum": "09131112233", "Position": "1"},
        ])
        panels.publish("CallStarted", linkedid="C2", caller="09130000000", caller_name="",
                       channel="PJSIP/trunk-1")
        live = next_of_type(ws, "live")
        for _ in range(5):
            if live["waiting"] and live["in_ivr"]:
                break
            live = next_of_type(ws, "live")
    assert [w["uniqueid"] for w in live["waiting"]] == ["C1"]
    assert [c["linkedid"] for c in live["in_ivr"]] == ["C2"]
    agents = {a["extension"]: a for a in live["agents"]}
    assert agents["2101"]["state"] == "available"
    assert agents["2101"]["name"] == "علی رضایی"


def test_supervisor_today_and_callback_action(panels: Panels) -> None:
    now = utcnow()
    with session_scope(panels.services.engine) as session:
        for i, (outcome, wait, talk) in enumerate([("answered", 5, 100), ("answered", 40, 200),
                                                   ("abandoned", 70, None), ("ivr_only", 0, 0)]):
            session.add(Call(linkedid=f"T{i}", uniqueid=f"T{i}", caller="09131234567",
                             entered_at=now, outcome=outcome, wait_seconds=wait,
                             talk_seconds=talk))
    client = panels.client
    headers = panels.as_user("sara")
    today = client.get("/api/supervisor/today").json()
    figures = today["figures"]
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (3, 2, 1)
    assert figures["service_level"] == pytest.approx(1 / 3)
    assert figures["average_speed_of_answer"] == pytest.approx(22.5)
    assert figures["average_handling_time"] == pytest.approx(150)
    assert [a["linkedid"] for a in today["abandoned"]] == ["T2"]
    assert today["abandoned"][0]["callback_task"] is False
    created = client.post("/api/supervisor/callbacks", headers=headers, json={"linkedid": "T2"})
    assert created.status_code == 201, created.text
    again = client.post("/api/supervisor/callbacks", headers=headers, json={"linkedid": "T2"})
    assert again.status_code == 409
    assert client.get("/api/supervisor/today").json()["abandoned"][0]["callback_task"] is True
    with session_scope(panels.services.engine) as session:
        task = session.exec(select(Task).where(Task.call_linkedid == "T2")).one()
    assert task.kind == "callback" and task.citizen_id is not None
    page = client.get("/supervisor")
    assert page.status_code == 200 and "۳۳٪" in page.text  # SL in Persian digits


def test_agent_page_renders_persian(panels: Panels) -> None:
    panels.as_user("ali")
    page = panels.client.get("/agent")
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text and "میز کارشناس" in page.text
    assert "/static/agent.js" in page.text and "cdn" not in page.text.lower()
    assert panels.client.get("/static/agent.js").status_code == 200
