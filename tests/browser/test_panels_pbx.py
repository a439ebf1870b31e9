"""The panels against the real sandbox PBX: a SIPp citizen dials 137 and presses 0, the
queue rings agent 2101 (a SIPp phone), whose panel - logged into the queue from the
browser through real AMI QueueAdd - pops the caller; the agent files a request from the
pop; the supervisor page follows the waiting caller and the agent's state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from serving import CHROMIUM, CHROMIUM_ARGS, keep_screenshot
from sqlmodel import Session, select
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.sipp import AwaitHangup, Digits, Pause, SippRunner

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.db.engine import session_scope
from callcenter.users.services import create_user

pytestmark = [pytest.mark.browser, pytest.mark.pbx]
PASSWORD = "pbx-browser-pass"
GREETING = 5.5
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


async def sign_in(page: Page, url: str, username: str, path: str) -> None:
    await page.goto(f"{url}{path}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{url}{path}")
    await expect(page.locator("#conn")).to_have_attribute("data-live", "1")


async def test_real_call_pops_on_the_ringing_agent(
    bridge: Bridge, sipp: SippRunner, ami: AmiClient, tmp_path: Path
) -> None:
    with session_scope(bridge.engine) as session:
        create_user(session=session, username="ali", password=PASSWORD, role="agent",
                    extension="2101", full_name="علی رضایی")
        create_user(session=session, username="sara", password=PASSWORD, role="supervisor")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1440, "height": 960})
        agent, supervisor = await context.new_page(), None
        await sign_in(agent, bridge.url, "ali", "/agent")
        sup_context = await browser.new_context(viewport={"width": 1440, "height": 960})
        supervisor = await sup_context.new_page()
        await sign_in(supervisor, bridge.url, "sara", "/supervisor")

        # Log into the queue from the panel: a real QueueAdd over AMI.
        await agent.click("button[data-action=join]")
        await expect(agent.locator("#agent-state")).to_have_attribute("data-state", "available")
        await expect(supervisor.locator("#agents tr[data-extension='2101']")).to_have_attribute(
            "data-state", "available", timeout=10_000)

        phone = await sipp.agent(extension="2101", answer_after=4, talk_for=12, max_seconds=60)
        citizen = await sipp.citizen(
            callers=["09131234567"],
            steps=[Pause(GREETING), Digits("0"), AwaitHangup(60)], max_seconds=80)

        await expect(supervisor.locator("#t-waiting")).to_have_attribute(
            "data-count", "1", timeout=20_000)
        await expect(agent.locator("#pop-phone")).to_have_text(
            "0913 123 4567".translate(FA), timeout=20_000)
        await expect(agent.locator("#agent-state")).to_have_attribute(
            "data-state", "on_call", timeout=15_000)
        await expect(supervisor.locator("#agents tr[data-extension='2101']")).to_have_attribute(
            "data-state", "on_call", timeout=10_000)
        await expect(supervisor.locator("#t-waiting")).to_have_attribute("data-count", "0")
        linkedid = await agent.locator("#pop").get_attribute("data-linkedid")
        assert linkedid

        await agent.select_option("#pop-form select[name=category_code]", "streets")
        await agent.fill("#pop-form textarea[name=description]", "چاله در خیابان")
        await agent.click("#pop-form button[type=submit]")
        await expect(agent.locator("#flash")).to_contain_text("ثبت شد")
        code = await agent.locator("#pop").get_attribute("data-saved")
        await agent.screenshot(path=str(tmp_path / "agent-pbx.png"), full_page=True)

        assert (await phone.wait()).ok
        assert (await citizen.wait()).ok
        await expect(agent.locator("#pop-ended")).to_be_visible(timeout=15_000)
        await expect(agent.locator("#agent-state")).to_have_attribute("data-state", "wrap_up")
        await browser.close()
    keep_screenshot(tmp_path / "agent-pbx.png", "agent-pbx.png")

    with Session(bridge.engine) as session:
        request = session.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == code)).one()
        contact = session.exec(select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.kind == "contact")).one()
    assert contact.data == {"linkedid": linkedid}

    def linked_call(s: Session) -> Call | None:
        call = s.exec(select(Call).where(Call.linkedid == linkedid)).first()
        return call if call is not None and call.request_id is not None else None

    call = await asyncio.to_thread(bridge.wait_for, linked_call, seconds=20)
    assert call.request_id == request.id and call.outcome == "answered"
    assert call.agent is not None and "2101" in call.agent
