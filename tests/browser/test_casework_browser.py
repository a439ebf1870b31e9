"""Real browser, real server: an agent triages a voice request on the triage view (plays
its recording - a real WAV where the IVR's recordings are read - and seeks in it, sets
category and neighbourhood), the department changes, and the case page shows the
timeline; a stale second tab gets the conflict, nothing overwritten. The server delivers
to a fake Shahrbin peer: the triage's ``request_updated`` carries a signed recording link
that serves the file's bytes without an account (and an altered link is refused)."""

from __future__ import annotations

import io
import math
import struct
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from serving import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Server, keep_screenshot
from sqlmodel import Session, select
from support.fake_shahrbin import Answer, Recorded, RecordingServer

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task
from callcenter.intake.services import file_request

pytestmark = pytest.mark.browser
CALLER = "09131234567"
PBX_DIR = "/var/spool/asterisk/recording"  # the default pbx_recordings_dir
SECONDS = 2.0


def recording_wav() -> bytes:
    """What Asterisk's Record(...wav) writes: 8 kHz, 16-bit, mono PCM (a 440 Hz tone)."""
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 8000)))
                      for n in range(int(8000 * SECONDS)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(frames)
    return out.getvalue()


@pytest.fixture
def shahrbin() -> Iterator[RecordingServer]:
    """The fake Shahrbin peer the served app's outbox delivers to."""
    with RecordingServer([Answer(201, {"ok": True})]) as peer:
        yield peer


@pytest.fixture
def server_env(shahrbin: RecordingServer) -> dict[str, str]:
    return {"CALLCENTER_SHAHRBIN_ENABLED": "true",
            "CALLCENTER_SHAHRBIN_BASE_URL": shahrbin.url + "/api",
            "CALLCENTER_SHAHRBIN_TIMEOUT_SECONDS": "3",
            "CALLCENTER_MEDIA_LINK_SECRET": "browser-media-link-secret-" + "x" * 20}


def seed_voice_request(server: Server, tmp_path: Path) -> tuple[str, bytes]:
    """A voice request whose recording is on disk where this host reads the PBX's."""
    audio = recording_wav()
    (tmp_path / "rec").mkdir(exist_ok=True)
    (tmp_path / "rec" / "request-v.1.wav").write_bytes(audio)
    with session_scope(server.engine) as session:
        request = file_request(session=session, phone=CALLER, channel="phone",
                               category_code="waste", actor="ivr", linkedid="v.1", district=2,
                               recording_path=f"{PBX_DIR}/request-v.1.wav").request
        session.add(Call(linkedid="v.1", uniqueid="v.1", caller=CALLER,
                         citizen_id=request.citizen_id, entered_at=utcnow(),
                         outcome="ivr_only", request_id=request.id,
                         ivr_path="menu:1>category:1>district:2>recorded>filed>hangup"))
        return request.tracking_code, audio


def wait_for_update(peer: RecordingServer, code: str, timeout: float = 20.0) -> Recorded:
    """The ``request_updated`` delivery for ``code`` (the outbox part runs every 2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sent in list(peer.requests):
            if sent.path == f"/api/requests/{code}/updates":
                return sent
        time.sleep(0.2)
    raise AssertionError(f"no update reached the peer: {[r.path for r in peer.requests]}")


PLAY = """async (audio) => {
    audio.muted = true;            // autoplay policy: a muted element may play
    audio.preload = "auto";
    await audio.play();
    await new Promise((done) => setTimeout(done, 300));
    audio.pause();
    const seeked = new Promise((done) => audio.addEventListener("seeked", done, {once: true}));
    audio.currentTime = 1.5;       // a seek: the player asks for a byte range
    await seeked;
    return {readyState: audio.readyState, duration: audio.duration,
            currentTime: audio.currentTime, error: audio.error && audio.error.code,
            played: audio.played.length};
}"""


def sign_in(browser: Browser, server: Server, username: str, path: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.url}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}{path}")
    return page


def test_agent_triages_a_voice_request_and_the_case_page_shows_it(
    server: Server, shahrbin: RecordingServer, tmp_path: Path
) -> None:
    code, audio = seed_voice_request(server, tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        agent = sign_in(browser, server, "ali", "/triage")
        expect(agent.locator("html")).to_have_attribute("dir", "rtl")
        item = agent.locator(f".triage-item[data-code='{code}']")
        expect(item).to_be_visible()
        player = item.locator("audio.triage-recording")
        expect(player).to_have_attribute("src", f"/api/requests/{code}/recording")
        media: list[tuple[int, str | None]] = []
        agent.on("response", lambda r: media.append((r.status, r.request.headers.get("range")))
                 if r.url.endswith(f"/api/requests/{code}/recording") else None)
        state = player.evaluate(PLAY)
        assert state["error"] is None and state["readyState"] >= 1, state
        assert abs(state["duration"] - SECONDS) < 0.1, state
        assert abs(state["currentTime"] - 1.5) < 0.1 and state["played"] >= 1, state
        assert media and all(status in (200, 206) for status, _ in media), media
        assert any(status == 206 and (asked or "").startswith("bytes=")
                   for status, asked in media), media
        assert PBX_DIR not in agent.content() and "request-v.1" not in agent.content()
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

        # Shahrbin receives the update, with a signed link that plays without an account
        update = wait_for_update(shahrbin, code).json()
        assert (update["SubjectCode"], update["UnitCode"]) == ("traffic", "traffic")
        assert update["Region"] == "safaieh" and update["Landmark"] == "روبروی مدرسه"
        link = urlsplit(update["RecordingUrl"])
        assert f"{link.scheme}://{link.netloc}{link.path}" == (
            f"{server.url}/media/recordings/{code}")
        fetched = httpx.get(update["RecordingUrl"], timeout=5)
        assert fetched.status_code == 200 and fetched.content == audio
        assert fetched.headers["content-type"] == "audio/wav"
        ranged = httpx.get(update["RecordingUrl"], headers={"Range": "bytes=44-99"}, timeout=5)
        assert ranged.status_code == 206 and ranged.content == audio[44:100]
        query = {k: v[0] for k, v in parse_qs(link.query).items()}
        altered_sig = query["sig"][:-1] + ("0" if query["sig"][-1] != "0" else "1")
        for bad in ({**query, "sig": altered_sig}, {**query, "exp": str(int(query["exp"]) + 1)}):
            refused = httpx.get(f"{server.url}{link.path}?{urlencode(bad)}", timeout=5)
            assert refused.status_code == 403 and refused.json()["error"] == "bad-link"
            assert refused.content != audio

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
        assert PBX_DIR not in agent.content() and "request-v.1" not in agent.content()
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
