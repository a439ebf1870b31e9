"""The guided conversation: named states, one handler per state, replies as rows.

States (``bot_chat.state``)::

    idle --new--> contact? --> category --> district --> location --> photo
         --> description --files--> idle

``contact`` is offered (the platform's contact button, or skip) while the chat's
citizen has no phone number: a citizen who skips files under their messenger account
alone (``identity.py``) and is linked to their number whenever they share it, here or
by sending their contact card from the main menu. From any state: a tracking code (or
``/status CODE``) gets its status, ``/cancel`` or the cancel button goes back to idle,
the opt-out button stops status pushes. Replies are returned; ``inbound`` stores them
as ``bot_message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from callcenter.attachments.services import (
    AttachmentRefused,
    add_location,
    add_photo,
    attach_pending,
    drop_pending,
    photos_to_outbox,
)
from callcenter.cases.models import RequestEvent
from callcenter.citizens.phone import InvalidPhone
from callcenter.clock import utcnow
from callcenter.intake.services import file_request
from callcenter.messenger import texts
from callcenter.messenger.followup import answer_callback, status_reply, tracking_code_in
from callcenter.messenger.identity import chat_citizen, has_phone, link_phone
from callcenter.messenger.incoming import Incoming
from callcenter.messenger.models import BotChat, BotRequest
from callcenter.reference.models import Category, Neighbourhood
from callcenter.sms.messages import SmsCatalogue

CHANNEL = "social"


@dataclass(frozen=True)
class Reply:
    text: str
    markup: dict[str, Any] | None = None
    request_id: int | None = None


@dataclass
class Context:
    """What one update may use besides the store: the downloaded photo, limits."""

    catalogue: SmsCatalogue
    attachments_root: Path
    max_photo_bytes: int
    duplicate_window: timedelta = timedelta(hours=72)
    photo_bytes: bytes | None = None
    photo_refused: AttachmentRefused | None = None
    replies: list[Reply] = field(default_factory=list)


def converse(*, session: Session, chat: BotChat, incoming: Incoming, ctx: Context
             ) -> list[Reply]:
    """Act on one action of ``chat``; the caller stores the replies and commits."""
    if incoming.callback_data is not None:
        return [Reply(t, m) for t, m in answer_callback(
            session=session, chat=chat, data=incoming.callback_data)]
    text = (incoming.text or "").strip()
    if text == "/start":  # the platform's start button, or the citizen starting over
        _reset(session, chat, ctx)
        return [Reply(texts.say("welcome"), texts.main_menu(opted_out=chat.opted_out))]
    if text in ("/cancel", texts.CANCEL):
        _reset(session, chat, ctx)
        return [Reply(texts.say("cancelled"), texts.main_menu(opted_out=chat.opted_out))]
    if text in (texts.STOP_PUSH, texts.START_PUSH, "/stop"):
        chat.opted_out = text != texts.START_PUSH
        key = "push_stopped" if chat.opted_out else "push_started"
        return [Reply(texts.say(key), texts.main_menu(opted_out=chat.opted_out))]
    code = tracking_code_in(text)
    if code is not None:
        return [Reply(status_reply(session=session, code=code, catalogue=ctx.catalogue),
                      texts.main_menu(opted_out=chat.opted_out))]
    handler = _HANDLERS.get(chat.state, _idle)
    return handler(session, chat, incoming, ctx)


def _idle(session: Session, chat: BotChat, incoming: Incoming, ctx: Context) -> list[Reply]:
    text = (incoming.text or "").strip()
    if incoming.contact_phone is not None:  # their card sent from the main menu
        linked = _link(session, chat, incoming)
        return [Reply(texts.say("contact_linked" if linked else "not_own_contact"),
                      texts.main_menu(opted_out=chat.opted_out))]
    if text == texts.FOLLOW_UP:
        return [Reply(texts.say("ask_code"), texts.main_menu(opted_out=chat.opted_out))]
    if text != texts.NEW_REQUEST:
        return [Reply(texts.say("welcome"), texts.main_menu(opted_out=chat.opted_out))]
    _reset(session, chat, ctx)  # what an abandoned conversation collected is not reused
    if not has_phone(session=session, chat=chat):
        chat.state = "contact"
        return [Reply(texts.say("ask_contact"), texts.contact_keyboard())]
    return _ask_category(session, chat)


def _contact(session: Session, chat: BotChat, incoming: Incoming, ctx: Context
             ) -> list[Reply]:
    """Offered, never required: skip files under the messenger account alone."""
    if incoming.contact_phone is None and (incoming.text or "").strip() == texts.SKIP:
        return _ask_category(session, chat)
    if not _link(session, chat, incoming):
        return [Reply(texts.say("not_own_contact"), texts.contact_keyboard())]
    return _ask_category(session, chat)


def _link(session: Session, chat: BotChat, incoming: Incoming) -> bool:
    """Link the chat to the shared number; False for someone else's card or none."""
    if incoming.contact_phone is None or not incoming.contact_is_own:
        return False
    try:
        link_phone(session=session, chat=chat, phone=incoming.contact_phone)
    except InvalidPhone:
        return False
    return True


def _ask_category(session: Session, chat: BotChat) -> list[Reply]:
    chat.state = "category"
    names = [c.name_fa for c in session.exec(select(Category).order_by(col(Category.digit)))]
    return [Reply(texts.say("ask_category"), texts.choices_keyboard(names))]


def _category(session: Session, chat: BotChat, incoming: Incoming, ctx: Context
              ) -> list[Reply]:
    text = (incoming.text or "").strip()
    category = session.exec(select(Category).where(Category.name_fa == text)).first()
    if category is None:
        return [Reply(texts.say("pick_from_keyboard"), None), *_ask_category(session, chat)]
    chat.draft = {**chat.draft, "category": category.code}
    return _ask_district(session, chat)


def _ask_district(session: Session, chat: BotChat) -> list[Reply]:
    chat.state = "district"
    names = [n.name_fa for n in session.exec(
        select(Neighbourhood).order_by(col(Neighbourhood.district), col(Neighbourhood.code)))]
    return [Reply(texts.say("ask_district"), texts.choices_keyboard(names, per_row=3,
                                                                     skip=True))]


def _district(session: Session, chat: BotChat, incoming: Incoming, ctx: Context
              ) -> list[Reply]:
    text = (incoming.text or "").strip()
    if text != texts.SKIP:
        place = session.exec(select(Neighbourhood).where(Neighbourhood.name_fa == text)).first()
        if place is None:
            return [Reply(texts.say("pick_from_keyboard")), *_ask_district(session, chat)]
        chat.draft = {**chat.draft, "neighbourhood": place.code}
    chat.state = "location"
    return [Reply(texts.say("ask_location"), texts.location_keyboard())]


def _location(session: Session, chat: BotChat, incoming: Incoming, ctx: Context
              ) -> list[Reply]:
    if incoming.latitude is not None and incoming.longitude is not None:
        try:
            add_location(session=session, latitude=incoming.latitude,
                         longitude=incoming.longitude, channel=CHANNEL, chat_id=chat.chat_id)
        except AttachmentRefused:
            return [Reply(texts.say("ask_location"), texts.location_keyboard())]
    elif (incoming.text or "").strip() != texts.SKIP:
        return [Reply(texts.say("ask_location"), texts.location_keyboard())]
    chat.state = "photo"
    return [Reply(texts.say("ask_photo"), texts.choices_keyboard([], skip=True))]


def _photo(session: Session, chat: BotChat, incoming: Incoming, ctx: Context) -> list[Reply]:
    again = texts.choices_keyboard([], skip=True)
    refused = ctx.photo_refused
    if incoming.photo is not None and refused is None and ctx.photo_bytes is not None:
        try:
            add_photo(session=session, root=ctx.attachments_root, content=ctx.photo_bytes,
                      max_bytes=ctx.max_photo_bytes, channel=CHANNEL, chat_id=chat.chat_id)
        except AttachmentRefused as exc:
            refused = exc
    if refused is not None:
        if refused.reason == "too-large":
            limit = f"{ctx.max_photo_bytes / (1024 * 1024):g}"
            return [Reply(texts.say("photo_too_large", limit=limit), again)]
        return [Reply(texts.say("photo_wrong_type"), again)]
    if incoming.photo is None and (incoming.text or "").strip() != texts.SKIP:
        return [Reply(texts.say("ask_photo"), again)]
    chat.state = "description"
    return [Reply(texts.say("ask_description"), {"remove_keyboard": True})]


def _description(session: Session, chat: BotChat, incoming: Incoming, ctx: Context
                 ) -> list[Reply]:
    text = (incoming.text or "").strip()
    if not text:
        return [Reply(texts.say("ask_description"))]
    result = file_request(
        session=session, phone=None, citizen=chat_citizen(session=session, chat=chat),
        channel=CHANNEL,
        category_code=chat.draft["category"], neighbourhood_code=chat.draft.get("neighbourhood"),
        description=text[:2000], actor="bot", duplicate_window=ctx.duplicate_window)
    request = result.request
    assert request.id is not None
    attach_pending(session=session, chat_id=chat.chat_id, request_id=request.id)
    photos_to_outbox(session=session, request=request)
    if session.get(BotRequest, request.id) is None:
        session.add(BotRequest(request_id=request.id, chat_id=chat.chat_id,
                               after_event_id=_last_event_id(session, request.id)))
    chat.state, chat.draft = "idle", {}
    key = "repeat" if result.repeat_of else "filed"
    return [Reply(texts.say(key, code=request.tracking_code),
                  texts.main_menu(opted_out=chat.opted_out), request_id=request.id)]


def _last_event_id(session: Session, request_id: int) -> int:
    value = session.exec(select(func.max(RequestEvent.id))
                         .where(RequestEvent.request_id == request_id)).one()
    return int(value or 0)


def _reset(session: Session, chat: BotChat, ctx: Context) -> None:
    drop_pending(session=session, root=ctx.attachments_root, chat_id=chat.chat_id)
    chat.state, chat.draft, chat.updated_at = "idle", {}, utcnow()


_HANDLERS = {
    "idle": _idle,
    "contact": _contact,
    "category": _category,
    "district": _district,
    "location": _location,
    "photo": _photo,
    "description": _description,
}
