"""Real browser, real server: an agent logs in, a pop arrives, the agent files a request
from it (in the store, linked to the call); the supervisor page follows the queue."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from serving import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Server, keep_screenshot
from sqlmodel import Session, col, select

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.cases.services import change_status, create_request
from callcenter.citizens.services import get_or_create_citizen
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task
from callcenter.followups.services import create_task
from callcenter.users.models import User

pytestmark = pytest.mark.browser
CALLER = "09131234567"
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa(value: object) -> str:
    return str(value).translate(FA)


def seed(server: Server) -> str:
    """The caller's history, a day of calls and a backlog (also makes the screenshots real)."""
    now = utcnow()
    with session_scope(server.engine) as session:
        first = create_request(session=session, phone=CALLER, channel="sms",
                               category_code="waste", description="زباله‌ها جمع نشده",
                               citizen_name="مریم محمدی")
        done = create_request(session=session, phone=CALLER, channel="phone",
                              category_code="traffic", description="چراغ خاموش")
        change_status(session=session, request=done, to_status="resolved", actor="t")
        for i, (phone, category) in enumerate([("09130000001", "streets"),
                                               ("09130000002", "parks"),
                                               ("09130000003", "streets")]):
            r = create_request(session=session, phone=phone, channel="app",
                               category_code=category)
            if i != 1:
                r.deadline_at = now - timedelta(hours=2)
                session.add(r)
        session.add(Call(linkedid="old.1", uniqueid="old.1", caller=CALLER,
                         citizen_id=first.citizen_id, entered_at=now - timedelta(hours=1),
                         outcome="answered", agent="2102", wait_seconds=12, talk_seconds=95))
        for i, (outcome, wait, talk) in enumerate([
                ("answered", 8, 140), ("answered", 15, 210), ("answered", 42, 65),
                ("abandoned", 55, None), ("abandoned", 31, None), ("callback", 70, None),
                ("ivr_only", 0, 0)]):
            session.add(Call(linkedid=f"day.{i}", uniqueid=f"day.{i}",
                             caller=f"0913555000{i}", entered_at=now - timedelta(minutes=30 + i),
                             outcome=outcome, wait_seconds=wait, talk_seconds=talk,
                             agent="2101" if outcome == "answered" else None))
        for kind, phone in [("callback", "09135550003"), ("survey_call", CALLER)]:
            citizen = get_or_create_citizen(session=session, phone=phone)
            create_task(session=session, kind=kind, citizen_id=citizen.id,
                        request_id=done.id if kind == "survey_call" else None)
        return first.tracking_code


def log_in(browser: Browser, server: Server, username: str, path: str) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 960}).new_page()
    page.goto(f"{server.url}{path}")
    expect(page).to_have_url(f"{server.url}/login?next=%2F{path.strip('/')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}{path}")
    expect(page.locator("#conn")).to_have_attribute("data-live", "1")
    return page


def hook(server: Server, path: str, body: Any) -> None:
    response = httpx.post(f"{server.url}{path}", json=body, timeout=5)
    assert response.status_code == 200, response.text


def ended(linkedid: str, agent: str, outcome: str = "answered") -> dict[str, Any]:
    now = time.time()
    return {"linkedid": linkedid, "outcome": outcome, "caller": CALLER, "caller_name": "",
            "parties": [agent], "answered_by": agent, "transfers": [],
            "queue": "citizen-requests", "started_at": now - 90, "answered_at": now - 60,
            "ended_at": now, "wait_seconds": 30, "talk_seconds": 60, "hangup_by": agent}


def test_agent_pop_and_supervisor_live(server: Server, tmp_path: Path) -> None:
    code = seed(server)
    members = [{"Event": "QueueMemberAdded", "Queue": "citizen-requests",
                "Interface": f"PJSIP/{ext}", "MemberName": name, "Status": "1",
                "Paused": "1" if ext == "2104" else "0",
                "PausedReason": "lunch" if ext == "2104" else ""}
               for ext, name in [("2101", "ali"), ("2102", "reza"), ("2103", "neda"),
                                 ("2104", "omid")]]
    hook(server, "/test/queue-events", members)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        agent = log_in(browser, server, "ali", "/agent")
        supervisor = log_in(browser, server, "sara", "/supervisor")
        expect(agent.locator("html")).to_have_attribute("dir", "rtl")
        expect(agent.locator("#agent-state")).to_have_attribute("data-state", "available")
        expect(agent.locator("#tasks tbody tr")).to_have_count(2)

        # Two callers queue; the supervisor's waiting count follows.
        hook(server, "/test/queue-events", [
            {"Event": "QueueCallerJoin", "Queue": "citizen-requests", "Uniqueid": "L-1",
             "CallerIDNum": CALLER, "Position": "1"},
            {"Event": "QueueEntry", "Queue": "citizen-requests", "Uniqueid": "L-2",
             "CallerIDNum": "09137778899", "Position": "2", "Wait": "47"}])
        hook(server, "/test/events/CallStarted", {
            "linkedid": "L-3", "caller": "09121112233", "caller_name": "",
            "channel": "PJSIP/trunk-3", "at": time.time() - 25})
        hook(server, "/test/events/IvrChoiceMade", {
            "linkedid": "L-3", "choice": "2", "ivr_path": ["menu:2"]})
        hook(server, "/test/events/AgentRinging", {
            "linkedid": "L-1", "agent": "2101", "interface": "PJSIP/2101", "caller": CALLER,
            "caller_name": "", "queue": "citizen-requests",
            "ivr_path": ["menu:0"]})
        expect(supervisor.locator("#t-waiting")).to_have_text(fa(2))
        expect(supervisor.locator("#t-ivr")).to_have_text(fa(1))
        expect(supervisor.locator("#agents tr[data-extension='2101']")).to_have_attribute(
            "data-state", "ringing")

        # The pop: the right caller, history, open request with its department.
        expect(agent.locator("#pop-phone")).to_have_text(fa("0913 123 4567"))
        expect(agent.locator("#pop-name")).to_have_text("مریم محمدی")
        expect(agent.locator("#pop-ended")).to_be_hidden()
        expect(agent.locator("#pop-open")).to_contain_text(fa(code))
        expect(agent.locator("#pop-open")).to_contain_text("سازمان مدیریت پسماند")
        expect(agent.locator("#pop-requests tr")).to_have_count(2)
        expect(agent.locator("#pop-calls tr")).to_have_count(1)
        hook(server, "/test/events/CallAnswered", {
            "linkedid": "L-1", "agent": "2101", "interface": "PJSIP/2101",
            "hold_seconds": 20.0, "queue": "citizen-requests"})
        hook(server, "/test/queue-events", [
            {"Event": "QueueCallerLeave", "Queue": "citizen-requests", "Uniqueid": "L-1"}])
        expect(agent.locator("#agent-state")).to_have_attribute("data-state", "on_call")
        expect(supervisor.locator("#t-waiting")).to_have_text(fa(1))
        expect(supervisor.locator("#agents tr[data-extension='2101']")).to_have_attribute(
            "data-state", "on_call")

        # File a new request from the pop.
        agent.select_option("#pop-form select[name=category_code]", "parks")
        agent.fill("#pop-form textarea[name=description]", "شاخه درخت روی پیاده‌رو افتاده")
        agent.screenshot(path=str(tmp_path / "agent.png"), full_page=True)
        agent.click("#pop-form button[type=submit]")
        expect(agent.locator("#flash")).to_contain_text("ثبت شد")
        saved = agent.locator("#pop").get_attribute("data-saved")
        assert saved
        with Session(server.engine) as session:
            request = session.exec(select(CitizenRequest).where(
                CitizenRequest.tracking_code == saved)).one()
            contact = session.exec(select(RequestEvent).where(
                RequestEvent.request_id == request.id, RequestEvent.kind == "contact")).one()
        assert request.channel == "phone" and request.category_code == "parks"
        assert contact.data == {"linkedid": "L-1"} and contact.actor == "ali"

        # The call ends: wrap-up on the panel, the supervisor's figures reload.
        supervisor.screenshot(path=str(tmp_path / "supervisor.png"), full_page=True)
        hook(server, "/test/events/CallEnded", ended("L-1", "2101"))
        expect(agent.locator("#pop-ended")).to_be_visible()
        expect(agent.locator("#agent-state")).to_have_attribute("data-state", "wrap_up")
        expect(supervisor.locator("#agents tr[data-extension='2101']")).to_have_attribute(
            "data-state", "wrap_up")
        expect(supervisor.locator("#abandoned tr")).to_have_count(2)
        supervisor.locator("#abandoned button").first.click()
        expect(supervisor.locator("#abandoned button")).to_have_count(1)

        # The supervisor gives the follow-up callback to reza.
        with Session(server.engine) as session:
            reza = session.exec(select(User).where(User.username == "reza")).one()
            task = session.exec(select(Task).where(Task.kind == "callback",
                                                   col(Task.call_linkedid).is_(None))).one()
        supervisor.select_option(f"select.assign[data-task='{task.id}']", str(reza.id))
        expect(supervisor.locator("#flash")).to_contain_text("ثبت شد")
        with Session(server.engine) as session:
            assert session.get(Task, task.id).assigned_user_id == reza.id  # type: ignore[union-attr]
        browser.close()
    keep_screenshot(tmp_path / "agent.png", "agent.png")
    keep_screenshot(tmp_path / "supervisor.png", "supervisor.png")
