"""The Shahrbin outbox over both backends, delivered to a real local HTTP server that
answers, times out and fails on purpose."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from support.fake_shahrbin import Answer, RecordingServer

from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import change_status
from callcenter.clock import utcnow
from callcenter.compose import shahrbin_deliverer
from callcenter.intake.services import file_request
from callcenter.outbox.models import OutboxItem, OutboxState
from callcenter.settings import Settings
from crm_bridge.config import ShahrbinConfig, load_shahrbin_config
from crm_bridge.deliverer import OutboxDeliverer
from crm_bridge.outbox import dead_letters, replay
from crm_bridge.part import ShahrbinPart


def _config(url: str) -> ShahrbinConfig:
    return load_shahrbin_config(Settings(shahrbin_base_url=url + "/api"))


def _deliverer(engine: Engine, url: str, http: httpx.AsyncClient, attempts: int = 3
               ) -> OutboxDeliverer:
    return OutboxDeliverer(engine=engine, config=_config(url), token="s3cret", http=http,
                           max_attempts=attempts, base_backoff_seconds=5,
                           max_backoff_seconds=20)


def _items(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all())


def _make_due(engine: Engine) -> None:
    with Session(engine) as s:
        for item in s.exec(select(OutboxItem)).all():
            item.next_attempt_at = utcnow() - timedelta(seconds=1)
            s.add(item)
        s.commit()


def _file(engine: Engine) -> str:
    with Session(engine) as s:
        request = file_request(session=s, phone="09131234567", channel="app",
                               category_code="waste", description="زباله",
                               neighbourhood_code="fahadan").request
        s.commit()
        return request.tracking_code


async def test_new_request_is_delivered_once_with_mapping_auth_and_key(engine: Engine) -> None:
    """Tried: file a request and run a round against a server answering 201; expect one
    POST to /api/requests with the configured auth header, the Idempotency-Key and
    Shahrbin's field names; the item ends delivered and a second round sends nothing."""
    code = _file(engine)
    with RecordingServer([Answer(201, {"ok": True})]) as server:
        async with httpx.AsyncClient(timeout=2) as http:
            deliverer = _deliverer(engine, server.url, http)
            report = await deliverer.deliver_due()
            again = await deliverer.deliver_due()
    [req] = server.requests
    [item] = _items(engine)
    assert report.delivered == [item.id] and again.delivered == []
    assert req.path == "/api/requests" and req.headers["Authorization"] == "Bearer s3cret"
    assert req.headers["Idempotency-Key"] == item.idempotency_key
    body = req.json()
    assert body["RequestNo"] == code and body["UnitCode"] == "waste"
    assert body["Region"] == "fahadan" and body["Body"] == "زباله"
    assert body["EventId"] == item.event_id
    assert item.state == OutboxState.DELIVERED and item.attempts == 1


async def test_failures_retry_with_capped_backoff_then_dead_letter_and_replay(
    engine: Engine
) -> None:
    """Tried: the server answers 500, then times out, then 503 (3 attempts allowed);
    expect backoff 5 s then 10 s, the item dead with the last error, listed as a dead
    letter; replayed, it is delivered with the same Idempotency-Key."""
    _file(engine)
    answers = [Answer(500, {"e": 1}), Answer(201, delay=1.5), Answer(503, {"e": 2}),
               Answer(201, {"ok": True})]
    with RecordingServer(answers) as server:
        async with httpx.AsyncClient(timeout=0.5) as http:
            deliverer = _deliverer(engine, server.url, http)
            first = await deliverer.deliver_due()
            [item] = _items(engine)
            assert first.retried == [item.id] and "HTTP 500" in (item.last_error or "")
            wait = item.next_attempt_at - utcnow()
            assert timedelta(seconds=3) < wait <= timedelta(seconds=5)
            assert (await deliverer.deliver_due()).retried == []  # not due yet
            _make_due(engine)
            await deliverer.deliver_due()
            [item] = _items(engine)
            assert "Timeout" in (item.last_error or "") and item.attempts == 2
            assert timedelta(seconds=8) < item.next_attempt_at - utcnow() <= timedelta(
                seconds=10)
            _make_due(engine)
            third = await deliverer.deliver_due()
            [item] = _items(engine)
            assert third.dead == [item.id] and item.state == OutboxState.DEAD
            with Session(engine) as s:
                assert [d.id for d in dead_letters(session=s)] == [item.id]
                replay(session=s, item_id=item.id)  # type: ignore[arg-type]
                s.commit()
            final = await deliverer.deliver_due()
    assert final.delivered == [item.id]
    keys = {r.headers["Idempotency-Key"] for r in server.requests}
    assert len(server.requests) == 4 and keys == {item.idempotency_key}
    assert deliverer.backoff(10) == timedelta(seconds=20)  # capped


async def test_changes_of_one_request_go_out_in_order(engine: Engine) -> None:
    """Tried: a created event that fails, then a status change; expect the status change
    held back until the created event is delivered (Shahrbin sees them in order)."""
    _file(engine)
    with Session(engine) as s:
        request = s.exec(select(CitizenRequest)).one()
        change_status(session=s, request=request, to_status="in_progress", actor="agent:1")
        s.commit()
    with RecordingServer([Answer(500), Answer(201), Answer(201)]) as server:
        async with httpx.AsyncClient(timeout=2) as http:
            deliverer = _deliverer(engine, server.url, http)
            await deliverer.deliver_due()
            assert len(server.requests) == 1  # the status change waited
            _make_due(engine)
            second = await deliverer.deliver_due()
            third = await deliverer.deliver_due()  # one change per request per round
    assert len(second.delivered) == 1 and len(third.delivered) == 1
    assert [r.path for r in server.requests] == [
        "/api/requests", "/api/requests", f"/api/requests/{_file_code(engine)}/events"]


def _file_code(engine: Engine) -> str:
    with Session(engine) as s:
        return s.exec(select(CitizenRequest)).one().tracking_code


async def test_unreachable_peer_is_a_retry_not_a_crash(engine: Engine) -> None:
    """Tried: nothing listens on the configured port; expect the round to finish with the
    item retried and the connection error recorded."""
    _file(engine)
    async with httpx.AsyncClient(timeout=1) as http:
        report = await _deliverer(engine, "http://127.0.0.1:9", http).deliver_due()
    [item] = _items(engine)
    assert report.retried == [item.id] and "ConnectError" in (item.last_error or "")


def test_outbox_rolls_back_with_the_request(engine: Engine) -> None:
    """Tried: file a request and roll the transaction back; expect no outbox line (the
    outbox is written in the request's own transaction)."""
    with Session(engine) as s:
        file_request(session=s, phone="09131234567", channel="app", category_code="waste")
        s.rollback()
    assert _items(engine) == []


async def test_a_trickling_peer_is_abandoned_at_the_deadline_retried_and_shown(
    engine: Engine
) -> None:
    """Tried (issue 12, Medium 6): a Shahrbin that answers one byte every 0.5 s, so no
    single read waits past httpx's 1 s timeout, and the whole answer would take ~60 s.
    Before the fix the round waited for all of it (the outbox stalled, health said
    running); now the delivery is cut at its 1.5 s total deadline, the item is retried
    with its backoff, and the deliverer's health is degraded with the count."""
    _file(engine)
    with RecordingServer([Answer(201, {"ok": True}, trickle=0.5)]) as server:
        async with httpx.AsyncClient(timeout=1) as http:
            deliverer = OutboxDeliverer(engine=engine, config=_config(server.url),
                                        token="s3cret", http=http, deadline_seconds=1.5)
            async with asyncio.timeout(10):  # the old code would sit here for a minute
                report = await deliverer.deliver_due()
    [item] = _items(engine)
    assert report.retried == [item.id] and item.state == OutboxState.PENDING
    assert item.attempts == 1 and "total deadline" in (item.last_error or "")
    assert item.next_attempt_at > utcnow()  # backoff, not an immediate retry
    health = deliverer.health()
    assert health["state"] == "degraded" and health["abandoned_deliveries"] == 1
    assert "deadline" in health["error"]


async def test_the_shahrbin_part_shows_a_stuck_peer_in_health(engine: Engine) -> None:
    """Tried: the serve part against the trickling peer; expect /health's part degraded."""
    _file(engine)
    with RecordingServer([Answer(201, {"ok": True}, trickle=0.5)]) as server:
        settings = Settings(shahrbin_enabled=True, shahrbin_base_url=server.url + "/api",
                            shahrbin_timeout_seconds=1.0)
        part = ShahrbinPart(settings=settings, interval_seconds=0.1,
                            deliverer=shahrbin_deliverer(settings, engine,
                                                          _config(server.url)))
        await part.start()
        try:
            assert part.health()["state"] == "running"
            async with asyncio.timeout(10):
                while part.health()["state"] != "degraded":  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            await part.stop()
    assert part.health()["abandoned_deliveries"] == 1


async def test_a_voice_request_carries_a_fresh_signed_recording_link(engine: Engine) -> None:
    """Tried: a phone request with a recording and one without, delivered with the
    link signer; expect RecordingUrl on the first only, signed for its code's path, valid
    now and refused once expired (signed at send time, not when queued)."""
    from urllib.parse import parse_qs, urlsplit

    import pytest

    from callcenter.media.exceptions import BadLink
    from callcenter.media.links import LinkSigner

    with Session(engine) as s:
        voice = file_request(session=s, phone="09131234567", channel="phone",
                             category_code="parks",
                             recording_path="/var/spool/asterisk/recording/request-1.wav"
                             ).request.tracking_code
        file_request(session=s, phone="09131234568", channel="app", category_code="waste")
        s.commit()
    now = [1_800_000_000.0]
    signer = LinkSigner(secret=b"k" * 32, ttl_seconds=3600, base_url="https://cc.example",
                        clock=lambda: now[0])
    with RecordingServer([Answer(201, {}), Answer(201, {})]) as server:
        async with httpx.AsyncClient(timeout=2) as http:
            deliverer = _deliverer(engine, server.url, http)
            deliverer.links = signer
            await deliverer.deliver_due()
    first, second = (r.json() for r in server.requests)
    assert first["RequestNo"] == voice and second["RecordingUrl"] is None
    link = urlsplit(first["RecordingUrl"])
    assert (link.scheme, link.netloc, link.path) == ("https", "cc.example",
                                                     f"/media/recordings/{voice}")
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert int(query["exp"]) == 1_800_003_600
    signer.verify(link.path, exp=query["exp"], sig=query["sig"])
    now[0] += 3601
    with pytest.raises(BadLink):
        signer.verify(link.path, exp=query["exp"], sig=query["sig"])


async def test_a_request_with_photos_carries_fresh_signed_photo_links(
    engine: Engine, tmp_path: Path
) -> None:
    """Tried: a request filed with a photo whose outbox item names it (as the bot's
    filing does), delivered with the link signer. Expect ``Attachments`` in the body:
    one link to /media/attachments/<id>, signed at send time and valid."""
    from urllib.parse import parse_qs, urlsplit

    from callcenter.attachments.services import add_photo, tag_outbox
    from callcenter.media.links import LinkSigner

    with Session(engine) as s:
        filed = file_request(session=s, phone="09131234567", channel="social",
                             category_code="parks").request
        photo = add_photo(session=s, root=tmp_path, content=b"\xff\xd8\xff" + b"1" * 64,
                          max_bytes=1000, channel="social", request_id=filed.id)
        s.flush()
        assert filed.id is not None and photo.id is not None
        tag_outbox(session=s, request_id=filed.id, attachment_ids=[photo.id])
        photo_id = photo.id
        s.commit()
    signer = LinkSigner(secret=b"k" * 32, ttl_seconds=3600, base_url="https://cc.example")
    with RecordingServer([Answer(201, {})]) as server:
        async with httpx.AsyncClient(timeout=2) as http:
            deliverer = _deliverer(engine, server.url, http)
            deliverer.links = signer
            await deliverer.deliver_due()
    [body] = (r.json() for r in server.requests)
    [url] = body["Attachments"]
    link = urlsplit(url)
    assert link.path == f"/media/attachments/{photo_id}"
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    signer.verify(link.path, exp=query["exp"], sig=query["sig"])
