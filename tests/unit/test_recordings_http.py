"""A request's recording over HTTP (both backends): the staff route with Range, the
signed public link, and every way the file can be missing - never a 500."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.panels import Panels

from callcenter.db.engine import session_scope
from callcenter.intake.services import file_request
from callcenter.media.links import LinkSigner, recording_link
from callcenter.settings import Settings

PBX_DIR = "/var/spool/asterisk/recording"
AUDIO = b"RIFF" + bytes(range(256)) * 40  # 10,244 bytes


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server standing for the PBX host's recordings folder."""
    folder = tmp_path / "pbx-host"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


@pytest.fixture
def panel_settings(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "rec").mkdir()
    return {"recordings_dir": tmp_path / "rec", "pbx_recordings_dir": PBX_DIR,
            "media_link_secret": "x" * 40}


def filed(panels: Panels, recording: str | None, category: str = "waste",
          phone: str = "09131234567") -> str:
    with session_scope(panels.services.engine) as session:
        request = file_request(session=session, phone=phone, channel="phone",
                               category_code=category, recording_path=recording)
        return request.request.tracking_code


def test_staff_stream_the_recording_with_ranges(panels: Panels, tmp_path: Path) -> None:
    (tmp_path / "rec" / "request-1.wav").write_bytes(AUDIO)
    code = filed(panels, f"{PBX_DIR}/request-1.wav")
    url = f"/api/requests/{code}/recording"
    assert panels.client.get(url).status_code == 401  # anonymous
    panels.as_user("mina")  # manager: reports only
    assert panels.client.get(url).status_code == 403
    for user in ("ali", "sara", "root"):
        panels.as_user(user)
        whole = panels.client.get(url)
        assert whole.status_code == 200 and whole.content == AUDIO, user
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    part = panels.client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == AUDIO[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(AUDIO)}"
    tail = panels.client.get(url, headers={"Range": "bytes=-4"})
    assert tail.status_code == 206 and tail.content == AUDIO[-4:]
    rest = panels.client.get(url, headers={"Range": "bytes=10000-"})
    assert rest.status_code == 206 and rest.content == AUDIO[10000:]
    past = panels.client.get(url, headers={"Range": f"bytes={len(AUDIO)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(AUDIO)}"
    assert past.json()["error"] == "range-not-satisfiable"
    junk = panels.client.get(url, headers={"Range": "pages=1-2"})  # ignored: whole file
    assert junk.status_code == 200 and junk.content == AUDIO


def test_unknown_codes_and_missing_files_are_clear_errors(panels: Panels,
                                                          tmp_path: Path) -> None:
    panels.as_user("ali")
    none = filed(panels, None, category="streets")
    missing = filed(panels, f"{PBX_DIR}/request-gone.wav", category="parks")
    outside = filed(panels, "/etc/passwd", category="building")
    (tmp_path / "rec" / "request-dir.wav").mkdir()  # exists, cannot be read as a file
    unreadable = filed(panels, f"{PBX_DIR}/request-dir.wav", category="traffic")
    answers = {code: panels.client.get(f"/api/requests/{code}/recording")
               for code in ("12345678", none, missing, outside, unreadable)}
    assert [(a.status_code, a.json()["error"]) for a in answers.values()] == [
        (404, "no-recording"), (404, "no-recording"), (404, "recording-missing"),
        (404, "recording-missing"), (502, "recording-unavailable")]
    assert "passwd" not in answers[outside].text and PBX_DIR not in answers[missing].text


def test_fetch_a_recording_the_pbx_wrote_on_another_host(
        panels: Panels, remote: tuple[str, Path]) -> None:
    panels.services.settings.recordings_fetch_url = remote[0]
    (remote[1] / "request-9.wav").write_bytes(AUDIO)
    there = filed(panels, f"{PBX_DIR}/request-9.wav")
    gone = filed(panels, f"{PBX_DIR}/request-10.wav", category="parks")
    panels.as_user("sara")
    got = panels.client.get(f"/api/requests/{there}/recording", headers={"Range": "bytes=4-"})
    assert got.status_code == 206 and got.content == AUDIO[4:]
    lost = panels.client.get(f"/api/requests/{gone}/recording")
    assert (lost.status_code, lost.json()["error"]) == (404, "recording-missing")


def test_an_unreachable_pbx_host_is_a_502(panels: Panels, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    panels.services.settings.recordings_fetch_url = f"http://127.0.0.1:{port}"
    code = filed(panels, f"{PBX_DIR}/request-11.wav")
    panels.as_user("ali")
    answer = panels.client.get(f"/api/requests/{code}/recording")
    assert (answer.status_code, answer.json()["error"]) == (502, "recording-unavailable")


def test_a_signed_link_serves_without_an_account_until_it_expires(
        panels: Panels, tmp_path: Path) -> None:
    (tmp_path / "rec" / "request-2.wav").write_bytes(AUDIO)
    code = filed(panels, f"{PBX_DIR}/request-2.wav")
    other = filed(panels, f"{PBX_DIR}/request-2.wav", category="parks")
    settings = panels.services.settings
    link = urlsplit(recording_link(LinkSigner.from_settings(settings), code))
    assert link.path == f"/media/recordings/{code}"
    panels.client.cookies.clear()
    good = panels.client.get(f"{link.path}?{link.query}", headers={"Range": "bytes=0-3"})
    assert good.status_code == 206 and good.content == b"RIFF"
    tampered = link.query[:-1] + ("0" if link.query[-1] != "0" else "1")
    elsewhere = f"/media/recordings/{other}?{link.query}"  # another request's path
    expired = urlsplit(LinkSigner.from_settings(settings).sign(
        f"/media/recordings/{code}", ttl_seconds=-1))
    for bad in (f"{link.path}?{tampered}", elsewhere, f"{link.path}?{expired.query}",
                link.path, f"{link.path}?exp=abc&sig=ff", f"{link.path}?exp=1&sig=%D9%85"):
        answer = panels.client.get(bad)
        assert answer.status_code == 403 and answer.json()["error"] == "bad-link", bad


def test_the_placeholder_link_secret_is_refused_in_production() -> None:
    from callcenter.settings import weak_secrets

    names = [key for key, _ in weak_secrets(Settings(environment="test"))]
    assert "media_link_secret" in names


def test_the_pop_has_an_audio_player_fed_by_the_route(panels: Panels) -> None:
    panels.as_user("ali")
    page = panels.client.get("/agent")
    assert page.status_code == 200 and 'id="pop-audio"' in page.text
    script = panels.client.get("/static/agent.js").text
    assert '"/api/requests/" + encodeURIComponent(code) + "/recording"' in script


async def test_a_triage_update_reaches_shahrbin_with_a_working_recording_link(
        panels: Panels, tmp_path: Path) -> None:
    """Tried: a voice request with its recording on disk, re-routed by a triage edit, then
    the outbox delivered (the served app's deliverer: links signed with its settings) to
    the fake Shahrbin peer. Expect the ``request_updated`` body with the new department and
    a ``RecordingUrl`` that serves the file's bytes without an account; altered, a 403."""
    from support.fake_shahrbin import Answer, RecordingServer

    from callcenter.compose import shahrbin_deliverer
    from crm_bridge.config import load_shahrbin_config

    (tmp_path / "rec" / "request-5.wav").write_bytes(AUDIO)
    code = filed(panels, f"{PBX_DIR}/request-5.wav")
    headers = panels.as_user("ali")
    version = panels.client.get(f"/api/cases/{code}").json()["version"]
    edited = panels.client.post(f"/api/cases/{code}/edit", headers=headers, json={
        "version": version, "category_code": "traffic", "neighbourhood_code": "safaieh",
        "description": "چراغ خاموش", "triage": True})
    assert edited.status_code == 200, edited.text
    with RecordingServer([Answer(201, {})]) as peer:
        settings = panels.services.settings.model_copy(
            update={"shahrbin_enabled": True, "shahrbin_base_url": peer.url + "/api"})
        deliverer = shahrbin_deliverer(settings, panels.services.engine,
                                       load_shahrbin_config(settings))
        assert deliverer is not None
        try:  # one item per request a round: the update goes after the creation
            rounds = [await deliverer.deliver_due() for _ in range(3)]
        finally:
            await deliverer.http.aclose()
    assert [len(r.delivered) for r in rounds] == [1, 1, 0]
    [update] = [r.json() for r in peer.requests if r.path == f"/api/requests/{code}/updates"]
    assert (update["SubjectCode"], update["UnitCode"], update["Region"]) == (
        "traffic", "traffic", "safaieh")
    link = urlsplit(update["RecordingUrl"])
    assert link.path == f"/media/recordings/{code}"
    panels.client.cookies.clear()
    got = panels.client.get(f"{link.path}?{link.query}")
    assert got.status_code == 200 and got.content == AUDIO
    altered = link.query[:-1] + ("0" if link.query[-1] != "0" else "1")
    refused = panels.client.get(f"{link.path}?{altered}")
    assert refused.status_code == 403 and refused.json()["error"] == "bad-link"
