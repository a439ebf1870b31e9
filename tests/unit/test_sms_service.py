"""SMS out: the real twilio client against a local server that records and fails on
purpose; every attempt is stored; the log transport for development."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.fake_shahrbin import Answer, RecordingServer

from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine
from callcenter.settings import Settings
from callcenter.sms.build import build_sms
from callcenter.sms.messages import load_catalogue
from callcenter.sms.models import SmsMessage, SmsStatus
from callcenter.sms.service import RecordingSmsService
from callcenter.sms.twilio_transport import TwilioTransport

SID = "AC" + "0" * 32
CREATED = {"sid": "SM" + "1" * 32, "status": "queued", "body": "x"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = build_engine(f"sqlite:///{tmp_path / 'sms.db'}")
    prepare_store(eng)
    yield eng
    eng.dispose()


def _service(engine: Engine, url: str, *, attempts: int = 3, timeout: float = 5.0
             ) -> tuple[RecordingSmsService, list[float]]:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = TwilioTransport(account_sid=SID, auth_token="tok", from_number="+98137",
                                api_base_url=url, timeout_seconds=timeout)
    service = RecordingSmsService(transport=transport, engine=engine, from_number="+98137",
                                  max_attempts=attempts, retry_base_seconds=2.0,
                                  sleep=fake_sleep)
    return service, sleeps


def _rows(engine: Engine) -> list[SmsMessage]:
    with Session(engine) as session:
        return list(session.exec(select(SmsMessage)).all())


async def test_twilio_client_posts_persian_text_to_the_messages_api(engine: Engine) -> None:
    """Tried: one confirmation SMS; expect the real twilio client to POST To/From/Body
    (Persian, intact) with basic auth to /2010-04-01/Accounts/<sid>/Messages.json."""
    body = load_catalogue().render("request_filed", code="12345674")
    with RecordingServer([Answer(201, CREATED)]) as server:
        service, sleeps = _service(engine, server.url)
        result = await service.send(to="+989131234567", body=body, request_id=None)
    assert result.ok and result.attempts == 1 and result.provider_sid == CREATED["sid"]
    [req] = server.requests
    assert req.method == "POST" and req.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert req.headers["Authorization"].startswith("Basic ")
    form = parse_qs(req.body.decode())
    assert form["To"] == ["+989131234567"] and form["From"] == ["+98137"]
    assert form["Body"] == [body] and "۱۲۳۴۵۶۷۴" in body
    [row] = _rows(engine)
    assert (row.status, row.attempts, row.twilio_sid) == (SmsStatus.SENT, 1, CREATED["sid"])
    assert sleeps == []


async def test_server_errors_are_retried_with_backoff_and_recorded(engine: Engine) -> None:
    """Tried: Twilio answers 500, then 503, then 201; expect 3 attempts, backoff 2 s then
    4 s, and the row ends sent with attempts=3 and the last error kept."""
    error = {"code": 20500, "message": "Internal Server Error", "status": 500}
    with RecordingServer([Answer(500, error), Answer(503, error), Answer(201, CREATED)]
                         ) as server:
        service, sleeps = _service(engine, server.url)
        result = await service.send(to="+989131234567", body="سلام")
    assert result.ok and result.attempts == 3 and len(server.requests) == 3
    assert sleeps == [2.0, 4.0]
    [row] = _rows(engine)
    assert row.status == SmsStatus.SENT and row.attempts == 3 and "503" in (row.error or "")


async def test_a_permanent_error_is_not_retried(engine: Engine) -> None:
    """Tried: Twilio answers 400 (invalid To number); expect one attempt, status failed,
    the error recorded, and no exception to the caller."""
    error = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
    with RecordingServer([Answer(400, error)]) as server:
        service, sleeps = _service(engine, server.url)
        result = await service.send(to="+989131234567", body="x")
    assert not result.ok and result.attempts == 1 and sleeps == []
    [row] = _rows(engine)
    assert row.status == SmsStatus.FAILED and "21211" in (row.error or "")


async def test_timeouts_exhaust_the_attempts_and_end_failed(engine: Engine) -> None:
    """Tried: Twilio never answers within the client timeout (0.3 s) twice; expect two
    attempts, status failed, a timeout error stored."""
    with RecordingServer([Answer(201, CREATED, delay=1.0)]) as server:
        service, sleeps = _service(engine, server.url, attempts=2, timeout=0.3)
        result = await service.send(to="+989131234567", body="x")
    assert not result.ok and result.attempts == 2 and sleeps == [2.0]
    [row] = _rows(engine)
    assert row.status == SmsStatus.FAILED and "Timeout" in (row.error or "")


async def test_log_provider_is_the_development_default(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Tried: build_sms with the default settings; expect the log transport: at INFO
    neither the number nor the text is logged (personal data), the text only at DEBUG;
    the message is stored as sent."""
    service = build_sms(Settings(), engine)
    with caplog.at_level(logging.INFO):
        result = await service.send(to="+989131234567", body="آزمایش")
    assert result.ok
    assert "آزمایش" not in caplog.text and "+989131234567" not in caplog.text
    assert "567" in caplog.text  # the masked number says which citizen, for support
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="callcenter.sms.service"):
        await service.send(to="+989131234567", body="آزمایش")
    assert "آزمایش" in caplog.text and "+989131234567" not in caplog.text
    assert _rows(engine)[0].status == SmsStatus.SENT


def test_twilio_provider_is_built_with_the_configured_base_url(engine: Engine) -> None:
    """Tried: sms_provider=twilio with a base URL; expect the real client's Api domain to
    point there (the supported override), not at api.twilio.com."""
    service = build_sms(Settings(sms_provider="twilio", twilio_api_base_url="http://127.0.0.1:9/"),
                        engine)
    assert isinstance(service.transport, TwilioTransport)
    assert service.transport.client.api.base_url == "http://127.0.0.1:9"
