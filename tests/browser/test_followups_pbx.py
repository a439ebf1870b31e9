"""The follow-up list, live, against the real sandbox PBX: an agent clicks "call now" on
a callback task and the sandbox rings the agent's SIPp phone, then the citizen (the
trunk's SIPp phone); the agent marks the task done and the supervisor's page, open
meanwhile, sees the task leave the list and the counts change without a reload."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, async_playwright, expect
from serving import CHROMIUM, CHROMIUM_ARGS
from sqlmodel import select
from support.bridge import Bridge
from support.sipp import SippRunner

from callcenter.cases.models import RequestEvent
from callcenter.cases.services import create_request
from callcenter.db.engine import session_scope
from callcenter.followups.models import TaskKind
from callcenter.followups.services import create_task
from callcenter.users.services import create_user

pytestmark = [pytest.mark.browser, pytest.mark.pbx]
PASSWORD = "pbx-browser-pass"


@pytest.fixture
def bridge_env(bridge_env: dict[str, str]) -> dict[str, str]:
    # Calling hours around the clock: the test must not depend on when CI runs.
    return {**bridge_env, "CALLCENTER_CALLING_HOURS_START": "00:00:00",
            "CALLCENTER_CALLING_HOURS_END": "23:59:59", "CALLCENTER_CALLING_ON_FRIDAY": "true"}


async def sign_in(page: Page, url: str, username: str, path: str) -> None:
    await page.goto(f"{url}{path}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{url}{path}")
    await expect(page.locator("#conn")).to_have_attribute("data-live", "1")


async def test_call_now_rings_the_agent_then_done_moves_on_the_supervisors_page(
        bridge: Bridge, sipp: SippRunner) -> None:
    with session_scope(bridge.engine) as session:
        create_user(session=session, username="ali", password=PASSWORD, role="agent",
                    extension="2101", full_name="علی رضایی")
        create_user(session=session, username="sara", password=PASSWORD, role="supervisor")
        request = create_request(session=session, phone="09131234567", channel="phone",
                                 category_code="parks")
        task = create_task(session=session, kind=TaskKind.CALLBACK, request_id=request.id,
                           citizen_id=request.citizen_id, note="callback from the IVR")
        task_id, request_id = task.id, request.id
    row = f"tr[data-task='{task_id}']"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        agent = await (await browser.new_context(viewport={"width": 1440, "height": 960})
                       ).new_page()
        await sign_in(agent, bridge.url, "ali", "/agent")
        supervisor = await (await browser.new_context(viewport={"width": 1440, "height": 960})
                            ).new_page()
        await sign_in(supervisor, bridge.url, "sara", "/supervisor")
        await expect(supervisor.locator(row)).to_have_count(1)
        await expect(supervisor.locator("#task-counts .count[data-kind=callback]")
                     ).to_have_attribute("data-count", "1")

        phone = await sipp.agent(extension="2101", answer_after=1, talk_for=3, max_seconds=40)
        citizen = await sipp.called_citizen(answer_after=1, talk_for=5, max_seconds=40)
        # keyboard: focus the row, "c" is call now
        await agent.locator(row).focus()
        await agent.keyboard.press("c")
        rang, called = await phone.wait(), await citizen.wait()
        assert rang.outcomes[:1] == ["answered"] or "answered" in rang.outcomes, rang.describe()
        assert "answered" in called.outcomes, called.describe()

        await agent.locator(f"{row} select.outcome").select_option("reached")
        await agent.click(f"{row} button[data-act=done]")
        await expect(agent.locator(row)).to_have_count(0, timeout=10_000)
        # the supervisor's page moved by itself (websocket), no reload
        await expect(supervisor.locator(row)).to_have_count(0, timeout=10_000)
        await expect(supervisor.locator("#task-counts .count[data-kind=callback]")
                     ).to_have_count(0)
        await browser.close()

    with session_scope(bridge.engine) as session:
        lines = session.exec(select(RequestEvent).where(RequestEvent.request_id == request_id)
                             .where(RequestEvent.kind == "followup")
                             .order_by(RequestEvent.id)).all()  # type: ignore[arg-type]
        assert [(e.data or {}).get("action") for e in lines] == ["call-now", "outcome:reached"]
        assert all((e.data or {}).get("by") == "علی رضایی" for e in lines)
