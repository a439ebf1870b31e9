"""A citizen SMS survives a killed process (both backends): a real ``serve`` (the
hooked one, uvicorn) files an Open311 request, its confirmation SMS is a row in the same
transaction; the process is killed (SIGKILL) before the SMS could leave (the provider
refuses connections); a fresh process against a working provider sends it, once, and a
third start sends nothing more."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.fake_shahrbin import Answer, RecordingServer

from callcenter.messages.models import CitizenMessage
from callcenter.sms.models import SmsMessage

REPO = Path(__file__).resolve().parents[2]
SID = "AC" + "0" * 32
CREATED = {"sid": "SM" + "2" * 32, "status": "queued", "body": "x"}
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(engine: Engine, tmp_path: Path, twilio_url: str, name: str
            ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``serve_hooked.py`` on a free port with Twilio at ``twilio_url``; killed at exit."""
    port = free_port()
    env = {**os.environ, "CALLCENTER_ENVIRONMENT": "test", "CALLCENTER_DATA_DIR": str(tmp_path),
           "CALLCENTER_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "CALLCENTER_AMI_ENABLED": "false", "CALLCENTER_AGI_PORT": "0",
           "CALLCENTER_FOLLOWUPS_ENABLED": "false",
           "CALLCENTER_SECRET_KEY": "restart-test-secret-key",
           "CALLCENTER_SMS_PROVIDER": "twilio", "CALLCENTER_TWILIO_ACCOUNT_SID": SID,
           "CALLCENTER_TWILIO_API_BASE_URL": twilio_url,
           "CALLCENTER_SMS_RETRY_BASE_SECONDS": "0.5",
           "CALLCENTER_MESSAGES_MAX_BACKOFF_SECONDS": "1",
           "CALLCENTER_MESSAGES_INTERVAL_SECONDS": "0.3",
           "CALLCENTER_OPEN311_CLIENTS": json.dumps(
               {"app-key-1": {"name": "yazd-app", "channel": "app"}})}
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "support" / "serve_hooked.py"),
             "--port", str(port), "--log-level", "warning"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code in (200, 503):
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def wait_for(check: Callable[[], T | None], seconds: float) -> T:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def messages(engine: Engine) -> list[CitizenMessage]:
    with Session(engine) as session:
        return list(session.exec(select(CitizenMessage)).all())


def test_the_sms_of_a_killed_process_goes_out_once_after_restart(
        engine: Engine, tmp_path: Path) -> None:
    refused = f"http://127.0.0.1:{free_port()}"  # nobody listens: every send fails
    with serving(engine, tmp_path, refused, "first") as (url, process):
        answer = httpx.post(f"{url}/open311/v2/requests.json", timeout=10, data={
            "api_key": "app-key-1", "service_code": "waste", "phone": "09131234567",
            "description": "سطل زباله پر است"})
        assert answer.status_code == 201, answer.text
        code = answer.json()[0]["service_request_id"]
        # filed and queued in one transaction; the provider is down: still waiting
        wait_for(lambda: any(m.attempts >= 1 for m in messages(engine)), 20)
        health = httpx.get(f"{url}/health", timeout=5).json()["parts"]["messages"]
        assert health["backlog"] == 1
        process.send_signal(signal.SIGKILL)  # a real crash: no shutdown code runs
        process.wait(10)
    [waiting] = messages(engine)
    assert waiting.state in ("pending", "claimed") and waiting.sent_at is None
    with RecordingServer([Answer(201, CREATED)]) as twilio:
        with serving(engine, tmp_path, twilio.url, "second"):
            sent = wait_for(lambda: [m for m in messages(engine) if m.state == "sent"], 30)
            time.sleep(2)  # more rounds: nothing goes twice
        with serving(engine, tmp_path, twilio.url, "third"):
            time.sleep(2)
    assert len(sent) == 1 and len(twilio.requests) == 1
    form = parse_qs(twilio.requests[0].body.decode())
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert form["To"] == ["+989131234567"] and persian in form["Body"][0]
    with Session(engine) as session:
        [logged] = session.exec(select(SmsMessage)).all()
        assert logged.status == "sent" and logged.twilio_sid == CREATED["sid"]
