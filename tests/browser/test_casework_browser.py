"""Real browser, real server: an agent triages a voice request on the triage view (the
player is there, sets category and neighbourhood), the department changes, and the case
page shows the timeline; a stale second tab gets the conflict, nothing overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from serving import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Server, keep_screenshot
from sqlmodel import Session, select

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task
from callcenter.intake.services import file_request

pytestmark = pytest.mark.browser
CALLER = "09131234567"


def seed_voice_request(server: Server) -> str:
    with session_scope(server.engine) as session:
        request = file_request(session=session, phone=CALLER, channel="phone",
                               category_code="waste", actor="ivr", linkedid="v.1", district=2,
                               recording_path="/var/spool/asterisk/recording/request-v.1.wav"
                               ).request
        session.add(Call(linkedid="v.1", uniqueid="v.1", caller=CALLER,
                         citizen_id=request.citizen_id, entered_at=utcnow(),
                         outcome="ivr_only", request_id=request.id,
                         ivr_path="menu:1>category:1>district:2>recorded>filed>hangup"))
        return request.tracking_code


def sign_in(browser: Browser, server: Server, username: str, path: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.url}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}{path}")
    return page


def test_agent_triages_a_voice_request_and_the_case_page_shows_it(
    server: Server, tmp_path: Path
) -> None:
    code = seed_voice_request(server)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        agent = sign_in(browser, server, "ali", "/triage")
        expect(agent.locator("html")).to_have_attribute("dir", "rtl")
        item = agent.locator(f".triage-item[data-code='{code}']")
        expect(item).to_be_visible()
        player = item.locator("audio.triage-recording")
        expect(player).to_have_attribute("src", f"/api/requests/{code}/recording")
        # a second tab keeps the version it loaded (stale after the first save)
        stale = sign_in(browser, server, "reza", f"/cases/{code}")

        item.locator("select[name=category_code]").select_option("traffic")
        item.locator("select[name=neighbourhood_code]").select_option("safaieh")
        item.locator("input[name=landmark]").fill("روبروی مدرسه")
        item.locator("textarea[name=description]").fill("تیر چراغ برق خاموش است")
        agent.screenshot(path=str(tmp_path / "triage.png"), full_page=True)
        item.locator("button[type=submit]").click()
        expect(agent.locator("#flash")).to_contain_text("بررسی ثبت شد")
        expect(item.locator(".triage-department")).to_have_attribute("data-code", "traffic")
        expect(item.locator(".triage-department")).to_have_text("سازمان حمل‌ونقل و ترافیک")
        with Session(server.engine) as session:
            request = session.exec(select(CitizenRequest).where(
                CitizenRequest.tracking_code == code)).one()
            task = session.exec(select(Task).where(Task.kind == "triage")).one()
        assert (request.category_code, request.department_code) == ("traffic", "traffic")
        assert (request.neighbourhood_code, request.landmark) == ("safaieh", "روبروی مدرسه")
        assert request.triaged_at is not None and task.state == "done"

        # the stale tab saves: a clear conflict, nothing overwritten
        stale.fill("#edit-form textarea[name=description]", "متن قدیمی")
        stale.click("#edit-form button[type=submit]")
        expect(stale.locator("#flash")).to_contain_text("تغییر کرده")
        with Session(server.engine) as session:
            assert session.exec(select(CitizenRequest.description)).one() == (
                "تیر چراغ برق خاموش است")

        # the case page: the whole timeline, the player, the new department
        agent.goto(f"{server.url}/cases/{code}")
        expect(agent.locator("#case-department")).to_have_attribute("data-code", "traffic")
        expect(agent.locator("#case-recording")).to_have_attribute(
            "src", f"/api/requests/{code}/recording")
        timeline = agent.locator("#timeline tbody")
        expect(timeline.locator("tr[data-kind='rerouted']")).to_have_count(1)
        expect(timeline.locator("tr[data-kind='edited']")).to_have_count(1)
        expect(timeline.locator("tr[data-source='call']")).to_contain_text("district")
        expect(timeline.locator("tr[data-kind='request_updated']")).to_have_count(1)
        expect(timeline.locator("tr[data-source='followup'][data-kind='triage']")).to_have_count(1)
        agent.fill("#note-form textarea[name=note]", "با شهروند هماهنگ شد")
        agent.click("#note-form button[type=submit]")
        expect(timeline.locator("tr[data-kind='note']")).to_contain_text("با شهروند هماهنگ شد")
        agent.select_option("#status-form select[name=status]", "in_progress")
        agent.click("#status-form button[type=submit]")
        expect(agent.locator("#case-status")).to_have_attribute("data-status", "in_progress")
        agent.screenshot(path=str(tmp_path / "case.png"), full_page=True)
        agent.goto(f"{server.url}/cases/{code}?lang=en")
        expect(agent.locator("html")).to_have_attribute("dir", "ltr")
        expect(agent.locator("#timeline")).to_contain_text("Re-routed")
        browser.close()
    keep_screenshot(tmp_path / "triage.png", "triage.png")
    keep_screenshot(tmp_path / "case.png", "case.png")
