"""The messenger bot over the real app and the real python-telegram-bot client, pointed
at a local server that plays the Bot API, on SQLite and PostgreSQL: a whole Persian
conversation files a request with a photo and a location and answers the code; a
status change reaches the chat; a survey by inline buttons settles the request;
forged webhooks, replayed update ids, oversized and wrong-type photos; polling mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.fake_bot_api import TOKEN, BotApiServer

from callcenter.app import create_app
from callcenter.attachments.models import Attachment
from callcenter.attachments.services import attachment_link_path
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status
from callcenter.citizens.models import Citizen
from callcenter.clock import utcnow
from callcenter.digits import persian_digits
from callcenter.followups.policy import build_policy
from callcenter.followups.surveys import settle_answered
from callcenter.media.links import LinkSigner
from callcenter.messenger import texts
from callcenter.messenger.channel import BotChannel
from callcenter.messenger.models import BotChat, BotMessage, BotUpdate
from callcenter.outbox.models import OutboxItem
from callcenter.reference.hours import Holidays
from callcenter.settings import Settings

SECRET = "test-webhook-secret_0123456789abcdef"
BASE = "https://cc137.yazd.example"
CHAT, USER = 777001, 777001
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 2000
NO_HOLIDAYS = Path(__file__).resolve().parents[1] / "e2e" / "no-holidays.yaml"


def _settings(engine: Engine, server: BotApiServer, tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        environment="test", database_url=engine.url.render_as_string(hide_password=False),
        public_base_url=BASE, data_dir=tmp_path, bot_enabled=True, bot_mode="webhook",
        bot_api_base_url=server.url, bot_token=TOKEN, bot_webhook_secret=SECRET,
        attachment_max_bytes=100_000, bot_deliver_interval_seconds=3600,
        calling_hours_start=time(0, 0), calling_hours_end=time(23, 59, 59),
        calling_on_friday=True, holidays_file=NO_HOLIDAYS)
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def bot_api() -> Iterator[BotApiServer]:
    with BotApiServer() as server:
        yield server


@pytest.fixture
async def app_client(engine: Engine, bot_api: BotApiServer, tmp_path: Path
                     ) -> AsyncIterator[tuple[httpx.AsyncClient, BotChannel]]:
    app = create_app(_settings(engine, bot_api, tmp_path), start_parts=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://testserver") as client:
        channel = app.state.services.bot
        assert channel is not None
        await asyncio.wait_for(channel.ready.wait(), 10)
        yield client, channel
    app.state.services.engine.dispose()


class Citizen_:
    """Builds updates as the platform sends them, one increasing update id each."""

    def __init__(self) -> None:
        self.update_id = 5000

    def _base(self) -> dict[str, Any]:
        self.update_id += 1
        return {"message_id": self.update_id, "date": 1764000000,
                "chat": {"id": CHAT, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "علی"}}

    def text(self, text: str) -> dict[str, Any]:
        return {"update_id": self.update_id + 1, "message": {**self._base(), "text": text}}

    def message(self, **fields: Any) -> dict[str, Any]:
        return {"update_id": self.update_id + 1, "message": {**self._base(), **fields}}

    def photo(self, file_id: str, size: int) -> dict[str, Any]:
        return self.message(photo=[{"file_id": file_id, "file_unique_id": file_id + "u",
                                    "width": 800, "height": 600, "file_size": size}])

    def button(self, data: str) -> dict[str, Any]:
        base = self._base()
        return {"update_id": self.update_id, "callback_query": {
            "id": f"cb{self.update_id}", "from": base["from"], "chat_instance": "ci",
            "data": data, "message": {**base, "text": "…"}}}


def app_settings(client: httpx.AsyncClient) -> Settings:
    app = client._transport.app  # type: ignore[attr-defined]
    settings: Settings = app.state.services.settings
    return settings


async def _post(client: httpx.AsyncClient, update: dict[str, Any], *,
                secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await client.post("/bot/webhook", json=update, headers=headers)


async def _say(client: httpx.AsyncClient, channel: BotChannel, bot_api: BotApiServer,
               update: dict[str, Any]) -> str:
    """Post one update; deliver; the text of the last message the bot sent."""
    before = len(bot_api.api.sent())
    resp = await _post(client, update)
    assert resp.status_code == 200, resp.text
    await channel.run_once()
    sent = bot_api.api.sent()
    assert len(sent) > before, "the bot answered nothing"
    return str(sent[-1]["text"])


async def _file_through_the_bot(client: httpx.AsyncClient, channel: BotChannel,
                                bot_api: BotApiServer, who: Citizen_) -> str:
    bot_api.api.files["ph1"] = JPEG
    assert "خوش آمدید" in await _say(client, channel, bot_api, who.text("/start"))
    assert "شماره تلفن" in await _say(client, channel, bot_api, who.text(texts.NEW_REQUEST))
    keyboard = bot_api.api.sent()[-1]["reply_markup"]
    assert keyboard["keyboard"][0][0]["request_contact"] is True
    reply = await _say(client, channel, bot_api, who.message(contact={
        "phone_number": "+989131234567", "first_name": "علی", "user_id": USER}))
    assert "موضوع" in reply
    labels = [b["text"] for row in bot_api.api.sent()[-1]["reply_markup"]["keyboard"]
              for b in row]
    assert "پارک‌ها و فضای سبز" in labels
    assert "محله" in await _say(client, channel, bot_api, who.text("پارک‌ها و فضای سبز"))
    assert "موقعیت" in await _say(client, channel, bot_api, who.text("فهادان"))
    assert "عکس" in await _say(client, channel, bot_api, who.message(
        location={"latitude": 31.8974, "longitude": 54.3569}))
    assert "توضیح" in await _say(client, channel, bot_api, who.photo("ph1", len(JPEG)))
    return await _say(client, channel, bot_api, who.text("درخت بزرگی روی نیمکت افتاده"))


async def test_a_conversation_files_a_request_with_photo_and_location_then_status_and_survey(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
    tmp_path: Path,
) -> None:
    """Tried: the whole guided conversation (contact, category, district, location,
    photo, description); then the department moves the request, resolves it, and the
    citizen rates 4 and says fixed. Expect: one request, channel social, routed to
    parks in fahadan, the citizen's phone linked to the chat, the photo on disk and a
    location attached, the code answered in Persian digits; a status message; the
    survey with 5 buttons, then yes/no; the answer stored and the request closed."""
    client, channel = app_client
    reply = await _file_through_the_bot(client, channel, bot_api, Citizen_())
    with Session(engine) as s:
        [request] = s.exec(select(CitizenRequest)).all()
        assert (request.channel, request.category_code, request.neighbourhood_code) == (
            "social", "parks", "fahadan")
        assert persian_digits(request.tracking_code) in reply
        citizen = s.get(Citizen, request.citizen_id)
        assert citizen is not None and citizen.phone == "+989131234567"
        chat = s.get(BotChat, CHAT)
        assert chat is not None and chat.citizen_id == citizen.id and chat.state == "idle"
        files = s.exec(select(Attachment).where(Attachment.request_id == request.id)).all()
        kinds = sorted(a.kind for a in files)
        assert kinds == ["location", "photo"]
        photo = next(a for a in files if a.kind == "photo")
        assert photo.content_type == "image/jpeg" and photo.path is not None
        assert (tmp_path / "attachments" / photo.path).read_bytes() == JPEG
        created = s.exec(select(OutboxItem).where(OutboxItem.request_id == request.id)
                         .where(OutboxItem.kind == "request_created")).one()
        assert created.payload["attachment_ids"] == [photo.id]
        assert photo.id is not None
        photo_id = photo.id
        request_id, code = request.id, request.tracking_code
        assert request_id is not None
        change_status(session=s, request=request, to_status=RequestStatus.IN_PROGRESS,
                      actor="dept")
        s.commit()
    signer = LinkSigner.from_settings(app_settings(client))
    link = signer.sign(attachment_link_path(photo_id))
    got = await client.get(link.removeprefix(BASE))
    assert got.status_code == 200 and got.content == JPEG
    assert got.headers["content-type"] == "image/jpeg"
    forged = (await client.get(link.removeprefix(BASE).replace(
        f"/attachments/{photo_id}?", f"/attachments/{photo_id + 1}?"))).status_code
    assert forged in (403, 404) and forged != 200
    [public] = (await client.get(f"/open311/v2/requests/{code}.json")).json()
    assert public["media_url"].startswith(BASE + attachment_link_path(photo_id) + "?exp=")
    await channel.run_once()
    assert bot_api.api.sent()[-1]["text"] == texts.say(
        "status_changed", code=code, status="در حال رسیدگی")
    with Session(engine) as s:
        request = s.get(CitizenRequest, request_id)
        assert request is not None
        change_status(session=s, request=request, to_status=RequestStatus.RESOLVED,
                      actor="dept")
        s.commit()
    await channel.run_once()
    survey = bot_api.api.sent()[-1]
    assert "۱ تا ۵" in survey["text"]
    buttons = survey["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"rate:{request_id}:{n}"
                                                     for n in range(1, 6)]
    who = Citizen_()
    who.update_id = 9000
    assert "برطرف" in await _say(client, channel, bot_api, who.button(f"rate:{request_id}:4"))
    assert "سپاس" in await _say(client, channel, bot_api, who.button(f"fixed:{request_id}:1"))
    assert any(c.method == "answerCallbackQuery" for c in bot_api.api.calls)
    with Session(engine) as s:
        settled = settle_answered(session=s, now=utcnow())
        assert settled == {request_id: RequestStatus.CLOSED}
        request = s.get(CitizenRequest, request_id)
        assert request is not None
        assert (request.survey_rating, request.survey_fixed, request.survey_channel) == (
            4, True, "social")


async def test_status_by_code_and_opt_out_button_stops_pushes(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
) -> None:
    """Tried: file; ask ``/status CODE`` and the bare code in Persian digits; press the
    opt-out button; the department changes the status. Expect the status and department
    twice, and the push skipped (stored, not sent) after the opt-out."""
    client, channel = app_client
    who = Citizen_()
    await _file_through_the_bot(client, channel, bot_api, who)
    with Session(engine) as s:
        [request] = s.exec(select(CitizenRequest)).all()
    code = request.tracking_code
    reply = await _say(client, channel, bot_api, who.text(f"/status {code}"))
    assert persian_digits(code) in reply and "فضای سبز" in reply
    assert reply == await _say(client, channel, bot_api, who.text(persian_digits(code)))
    assert "دیگر پیام" in await _say(client, channel, bot_api, who.text(texts.STOP_PUSH))
    sent_before = len(bot_api.api.sent())
    with Session(engine) as s:
        row = s.get(CitizenRequest, request.id)
        assert row is not None
        change_status(session=s, request=row, to_status=RequestStatus.IN_PROGRESS,
                      actor="dept")
        s.commit()
    await channel.run_once()
    assert len(bot_api.api.sent()) == sent_before
    with Session(engine) as s:
        pushed = s.exec(select(BotMessage).where(BotMessage.kind == "status")).one()
        assert (pushed.status, pushed.error) == ("skipped", "opted-out")


async def test_forged_webhook_is_refused_and_changes_nothing(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
) -> None:
    """Tried: an update without the secret header, with a wrong one, with the secret
    of another length. Expect 403 each time, no update row, no chat, nothing sent."""
    client, _channel = app_client
    update = Citizen_().text("/start")
    for secret in (None, "wrong-secret", SECRET + "x"):
        resp = await _post(client, update, secret=secret)
        assert resp.status_code == 403
        assert resp.json()["error"] == "bad-bot-secret"
    with Session(engine) as s:
        assert s.exec(select(BotUpdate)).all() == []
        assert s.exec(select(BotChat)).all() == []
    assert bot_api.api.sent() == []


async def test_a_replayed_update_id_changes_nothing(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
) -> None:
    """Tried: the filing update (the description) posted a second time, as a platform
    retries a webhook. Expect 200, still one request, no second reply."""
    client, channel = app_client
    who = Citizen_()
    bot_api.api.files["ph1"] = JPEG
    for update in (who.text(texts.NEW_REQUEST), who.message(contact={
            "phone_number": "09131234567", "first_name": "x", "user_id": USER}),
            who.text("پارک‌ها و فضای سبز"), who.text(texts.SKIP), who.text(texts.SKIP),
            who.text(texts.SKIP)):
        assert (await _post(client, update)).status_code == 200
    filing = who.text("چراغ پارک خاموش است")
    assert (await _post(client, filing)).status_code == 200
    await channel.run_once()
    sent = len(bot_api.api.sent())
    with Session(engine) as s:
        messages = len(s.exec(select(BotMessage)).all())
    assert (await _post(client, filing)).status_code == 200
    await channel.run_once()
    with Session(engine) as s:
        assert len(s.exec(select(CitizenRequest)).all()) == 1
        assert len(s.exec(select(BotMessage)).all()) == messages
    assert len(bot_api.api.sent()) == sent


async def test_oversized_and_wrong_type_photos_are_refused_with_a_clear_message(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
    tmp_path: Path,
) -> None:
    """Tried at the photo step: a photo declared 200 KB (limit 100 KB), a PDF document,
    a "photo" whose bytes are a GIF, a photo the platform reports too large at getFile.
    Expect each refused with its reason told in Persian, the state still at the photo
    step, no attachment row and no file written; then skipping goes on."""
    client, channel = app_client
    who = Citizen_()
    for update in (who.text(texts.NEW_REQUEST), who.message(contact={
            "phone_number": "09131234567", "first_name": "x", "user_id": USER}),
            who.text("پارک‌ها و فضای سبز"), who.text(texts.SKIP), who.text(texts.SKIP)):
        assert (await _post(client, update)).status_code == 200
    bot_api.api.files["gif"] = b"GIF89a" + b"\0" * 100
    bot_api.api.files["big"] = JPEG + b"\0" * 200_000
    too_large = texts.say("photo_too_large", limit="0.0953674")
    assert await _say(client, channel, bot_api, who.photo("big", 200_000)) == too_large
    assert await _say(client, channel, bot_api, who.message(document={
        "file_id": "doc", "file_unique_id": "d", "file_name": "a.pdf",
        "mime_type": "application/pdf", "file_size": 100})) == texts.say("photo_wrong_type")
    assert await _say(client, channel, bot_api, who.photo("gif", 106)) == texts.say(
        "photo_wrong_type")
    # Declared small, the platform's getFile says otherwise: refused before download.
    assert await _say(client, channel, bot_api, who.photo("big", 10)) == too_large
    assert not any(c.method == "getFile" and c.params.get("file_id") == "doc"
                   for c in bot_api.api.calls)
    with Session(engine) as s:
        assert s.exec(select(Attachment)).all() == []
        chat = s.get(BotChat, CHAT)
        assert chat is not None and chat.state == "photo"
    assert not (tmp_path / "attachments").exists() or not any(
        p.is_file() for p in (tmp_path / "attachments").rglob("*"))
    assert "توضیح" in await _say(client, channel, bot_api, who.text(texts.SKIP))


async def test_polling_mode_reads_get_updates_once_each(
    engine: Engine, bot_api: BotApiServer, tmp_path: Path
) -> None:
    """Tried: the bot in polling mode while getUpdates offers /start (and offers it
    again until the offset moves past it). Expect deleteWebhook at start, one welcome
    sent, the next getUpdates asked with offset = update_id + 1."""
    who = Citizen_()
    bot_api.api.updates.append(who.text("/start"))
    settings = _settings(engine, bot_api, tmp_path, bot_mode="polling",
                         bot_poll_timeout_seconds=0, bot_deliver_interval_seconds=0.05)
    app = create_app(settings, start_parts=False)
    async with app.router.lifespan_context(app):
        for _ in range(200):
            if bot_api.api.sent():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    app.state.services.engine.dispose()
    assert any(c.method == "deleteWebhook" for c in bot_api.api.calls)
    [welcome] = bot_api.api.sent()
    assert "خوش آمدید" in welcome["text"]
    offsets = [c.params.get("offset") for c in bot_api.api.calls if c.method == "getUpdates"]
    assert str(who.update_id + 1) in [str(o) for o in offsets]


async def test_bale_webhook_takes_the_secret_in_the_path_only(
    engine: Engine, bot_api: BotApiServer, tmp_path: Path
) -> None:
    """Tried: a Bale bot in webhook mode. Expect setWebhook to register the URL ending
    with the secret; an update on /bot/webhook/<secret> acted on; the bare path, a wrong
    path secret, and Telegram's header alone are 403 and store nothing."""
    settings = _settings(engine, bot_api, tmp_path, bot_platform="bale")
    app = create_app(settings, start_parts=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    who = Citizen_()
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://testserver") as client:
        await asyncio.wait_for(app.state.services.bot.ready.wait(), 10)
        [hook] = [c.params for c in bot_api.api.calls if c.method == "setWebhook"]
        assert hook["url"] == f"{BASE}/bot/webhook/{SECRET}"
        forged = [await _post(client, who.text("/start")),
                  await client.post("/bot/webhook/wrong", json=who.text("/start")),
                  await client.post("/bot/webhook", json=who.text("/start"))]
        assert [r.status_code for r in forged] == [403, 403, 403]
        with Session(engine) as s:
            assert s.exec(select(BotUpdate)).all() == []
        ok = await client.post(f"/bot/webhook/{SECRET}", json=who.text("/start"))
        assert ok.status_code == 200
        with Session(engine) as s:
            assert len(s.exec(select(BotUpdate)).all()) == 1
    app.state.services.engine.dispose()


async def test_failed_sends_are_retried_and_a_blocked_chat_fails_for_good(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
) -> None:
    """Tried: the Bot API answers 500 to the first sendMessage, then 403 (the citizen
    blocked the bot) to a later one. Expect the first reply sent on its second attempt
    (stored attempts=2), the second marked failed after one attempt and never retried."""
    client, channel = app_client
    channel.deliverer.retry_base = 0  # due again at once
    who = Citizen_()
    bot_api.api.fail_sends = [500]
    assert (await _post(client, who.text("/start"))).status_code == 200
    await channel.run_once()
    await channel.run_once()
    with Session(engine) as s:
        [first] = s.exec(select(BotMessage)).all()
        assert (first.status, first.attempts) == ("sent", 2)
    bot_api.api.fail_sends = [403]
    assert (await _post(client, who.text("/start"))).status_code == 200
    await channel.run_once()
    await channel.run_once()
    with Session(engine) as s:
        second = s.exec(select(BotMessage).where(BotMessage.id != first.id)).one()
        assert (second.status, second.attempts) == ("failed", 1)
        assert second.error is not None and "Forbidden" in second.error
    assert len([c for c in bot_api.api.calls if c.method == "sendMessage"]) == 3


async def test_a_status_push_outside_calling_hours_waits_for_the_next_opening(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
) -> None:
    """Tried: calling hours that exclude now; the department changes the status of a
    bot request. Expect the push stored, not sent, due at the next opening (later than
    now) with reason outside-hours; the citizen's own replies still go at once."""
    client, channel = app_client
    await _file_through_the_bot(client, channel, bot_api, Citizen_())
    now_hour = utcnow().astimezone(ZoneInfo("Asia/Tehran")).hour
    start = (now_hour + 2) % 22
    channel.deliverer.policy = build_policy(
        zone="Asia/Tehran", opens=time(start, 0), closes=time(start + 1, 0),
        open_on_friday=True, cap=3, period=timedelta(days=7),
        holidays=Holidays(yearly=frozenset(), dated=frozenset()))
    sent_before = len(bot_api.api.sent())
    with Session(engine, expire_on_commit=False) as s:
        request = s.exec(select(CitizenRequest)).one()
        change_status(session=s, request=request, to_status=RequestStatus.IN_PROGRESS,
                      actor="dept")
        s.commit()
    await channel.run_once()
    assert len(bot_api.api.sent()) == sent_before
    with Session(engine) as s:
        push = s.exec(select(BotMessage).where(BotMessage.kind == "status")).one()
        assert (push.status, push.error) == ("queued", "outside-hours")
        assert push.due_at > utcnow()


async def test_an_unreachable_bot_api_does_not_stop_the_app(
    engine: Engine, tmp_path: Path
) -> None:
    """Tried: the Bot API's address refuses connections at start. Expect the app to
    start anyway, the bot part reported ``connecting`` with the error in /health."""
    with BotApiServer() as gone:
        pass  # its port was listening a moment ago, closed now
    settings = _settings(engine, gone, tmp_path)
    app = create_app(settings, start_parts=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://testserver") as client:
        channel = app.state.services.bot
        for _ in range(100):
            if channel.last_error:
                break
            await asyncio.sleep(0.05)
        assert channel.health()["state"] == "connecting"
        assert channel.health()["last_error"].startswith("connect:")
        health = (await client.get("/health")).json()
        assert "bot" in str(health)
    app.state.services.engine.dispose()


async def _file_without_contact(client: httpx.AsyncClient, channel: BotChannel,
                                bot_api: BotApiServer, who: Citizen_) -> str:
    """New request; the contact offered with the platform's button and skipped; then
    the shortest path to filing (no district, location or photo)."""
    offer = await _say(client, channel, bot_api, who.text(texts.NEW_REQUEST))
    assert "شماره تلفن" in offer
    keyboard = bot_api.api.sent()[-1]["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    assert texts.SKIP in [b["text"] for row in keyboard for b in row]
    assert "موضوع" in await _say(client, channel, bot_api, who.text(texts.SKIP))
    assert "محله" in await _say(client, channel, bot_api, who.text("پارک‌ها و فضای سبز"))
    assert "موقعیت" in await _say(client, channel, bot_api, who.text(texts.SKIP))
    assert "عکس" in await _say(client, channel, bot_api, who.text(texts.SKIP))
    assert "توضیح" in await _say(client, channel, bot_api, who.text(texts.SKIP))
    return await _say(client, channel, bot_api, who.text("چراغ پارک خاموش است"))


async def test_a_citizen_files_without_sharing_the_contact_and_links_the_phone_later(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
) -> None:
    """Tried: a new request with the contact skipped; a status change; the resolution;
    then a second request where the citizen shares their contact. Expect the first
    request filed under a citizen with no phone number (the chat's), its code answered,
    the status pushed to the chat, no SMS survey task for it; after the contact, the
    same citizen row carries the number and holds both requests, and the contact is
    no longer asked for."""
    from callcenter.followups.models import Task
    from callcenter.followups.surveys import schedule_surveys

    client, channel = app_client
    who = Citizen_()
    reply = await _file_without_contact(client, channel, bot_api, who)
    with Session(engine, expire_on_commit=False) as s:
        [request] = s.exec(select(CitizenRequest)).all()
        assert persian_digits(request.tracking_code) in reply
        assert request.channel == "social"
        citizen = s.get(Citizen, request.citizen_id)
        assert citizen is not None and citizen.phone is None
        chat = s.get(BotChat, CHAT)
        assert chat is not None and chat.citizen_id == citizen.id
        citizen_id, code = citizen.id, request.tracking_code
        change_status(session=s, request=request, to_status=RequestStatus.IN_PROGRESS,
                      actor="dept")
        s.commit()
    await channel.run_once()
    assert bot_api.api.sent()[-1]["text"] == texts.say(
        "status_changed", code=code, status="در حال رسیدگی")
    with Session(engine, expire_on_commit=False) as s:
        request = s.exec(select(CitizenRequest)).one()
        change_status(session=s, request=request, to_status=RequestStatus.RESOLVED,
                      actor="dept")
        s.commit()
        assert schedule_surveys(session=s, now=utcnow(), delay=timedelta(0),
                                lookback=timedelta(days=1)) == 0
        assert s.exec(select(Task)).all() == []
    await channel.run_once()  # the survey goes on the bot
    assert "۱ تا ۵" in bot_api.api.sent()[-1]["text"]

    offer = await _say(client, channel, bot_api, who.text(texts.NEW_REQUEST))
    assert "شماره تلفن" in offer
    assert "موضوع" in await _say(client, channel, bot_api, who.message(contact={
        "phone_number": "+989131234567", "first_name": "علی", "user_id": USER}))
    with Session(engine) as s:
        citizen = s.get(Citizen, citizen_id)
        assert citizen is not None and citizen.phone == "+989131234567"
    await _say(client, channel, bot_api, who.text("/cancel"))
    assert "موضوع" in await _say(client, channel, bot_api, who.text(texts.NEW_REQUEST))


async def test_a_shared_contact_joins_the_account_to_the_citizen_the_store_knows(
    app_client: tuple[httpx.AsyncClient, BotChannel], bot_api: BotApiServer, engine: Engine,
) -> None:
    """Tried: the store knows +989131234567 from a call (a phone request); the same
    person files through the bot without their contact, then sends their contact card
    from the main menu. Expect the bot's request moved to the phone's citizen (one
    timeline with both requests), the chat linked to it, the bot saying so."""
    from callcenter.intake.services import file_request, timeline

    with Session(engine) as s:
        phoned = file_request(session=s, phone="09131234567", channel="phone",
                              category_code="waste", description="زباله").request
        s.commit()
        phone_citizen = phoned.citizen_id
    client, channel = app_client
    who = Citizen_()
    await _file_without_contact(client, channel, bot_api, who)
    linked = await _say(client, channel, bot_api, who.message(contact={
        "phone_number": "+989131234567", "first_name": "علی", "user_id": USER}))
    assert linked == texts.say("contact_linked")
    with Session(engine) as s:
        requests = s.exec(select(CitizenRequest)).all()
        assert {r.channel for r in requests} == {"phone", "social"}
        assert {r.citizen_id for r in requests} == {phone_citizen}
        chat = s.get(BotChat, CHAT)
        assert chat is not None and chat.citizen_id == phone_citizen
        codes = {e.tracking_code for e in timeline(session=s, citizen_id=phone_citizen)}
        assert codes == {r.tracking_code for r in requests}
