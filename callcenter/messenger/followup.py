"""After filing: status on request, status pushes, and the survey by inline buttons.

Status pushes are found by scanning: every ``status`` line of a request filed through
the bot (``bot_request``) newer than its filing, with no ``bot_message`` yet, becomes
one queued message (its ``event_id`` is unique, so two scans never queue it twice).
Whatever changed the status (an agent, Shahrbin, the survey) is covered, as the
follow-up engine's survey scheduling is. A resolution's message carries the survey.

The survey answer is written with ``followups.surveys.store_answer`` (channel
``social``); the follow-up engine settles it as it settles SMS and call answers.
"""

from __future__ import annotations

from sqlalchemy import exists
from sqlmodel import Session, col, select

from callcenter.cases.exceptions import NoSuchRequest
from callcenter.cases.models import CitizenRequest, RequestEvent, RequestStatus
from callcenter.cases.services import get_request_by_code
from callcenter.cases.tracking import CODE_LENGTH, normalise_code
from callcenter.clock import utcnow
from callcenter.followups.surveys import store_answer
from callcenter.messenger import texts
from callcenter.messenger.models import BotChat, BotMessage, BotMessageKind, BotRequest
from callcenter.reference.models import Department
from callcenter.sms.messages import SmsCatalogue

Markup = dict[str, object] | None


def tracking_code_in(text: str) -> str | None:
    """The code of ``/status CODE`` or of a bare code (Persian digits too), else None."""
    if text.startswith("/status"):
        text = text.removeprefix("/status").strip()
    digits = normalise_code(text)
    if len(digits) == CODE_LENGTH and digits.isascii() and digits.isdigit():
        return digits
    return None


def status_reply(*, session: Session, code: str, catalogue: SmsCatalogue) -> str:
    try:
        request = get_request_by_code(session=session, code=code)
    except NoSuchRequest:
        return texts.say("code_unknown", code=code)
    department = session.get(Department, request.department_code)
    return texts.say("status", code=request.tracking_code,
                     status=catalogue.status_label(request.status),
                     department=department.name_fa if department else request.department_code)


def queue_status_pushes(*, session: Session, catalogue: SmsCatalogue, limit: int = 100
                        ) -> int:
    """Queue a message for every new status line of a bot request; the caller commits."""
    pushed = exists().where(col(BotMessage.event_id) == col(RequestEvent.id))
    rows = session.exec(
        select(RequestEvent, BotRequest.chat_id, CitizenRequest.tracking_code)
        .join(BotRequest, col(BotRequest.request_id) == RequestEvent.request_id)
        .join(CitizenRequest, col(CitizenRequest.id) == RequestEvent.request_id)
        .where(RequestEvent.kind == "status")
        .where(col(RequestEvent.id) > BotRequest.after_event_id)
        .where(~pushed).order_by(col(RequestEvent.id)).limit(limit)
    ).all()
    for event, chat_id, code in rows:
        assert event.id is not None
        if event.to_status == RequestStatus.RESOLVED:
            message = BotMessage(chat_id=chat_id, kind=BotMessageKind.SURVEY,
                                 text=texts.say("survey", code=code),
                                 markup=texts.rating_keyboard(event.request_id),
                                 request_id=event.request_id, event_id=event.id)
        else:
            message = BotMessage(chat_id=chat_id, kind=BotMessageKind.STATUS,
                                 text=texts.say("status_changed", code=code,
                                                status=catalogue.status_label(
                                                    event.to_status or "")),
                                 request_id=event.request_id, event_id=event.id)
        session.add(message)
    return len(rows)


def answer_callback(*, session: Session, chat: BotChat, data: str
                    ) -> list[tuple[str, Markup]]:
    """``rate:<request>:<1-5>`` then ``fixed:<request>:<1|0>``; anything else is stale."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] not in ("rate", "fixed") or not (
            parts[1].isdigit() and parts[2].isdigit()):
        return [(texts.say("survey_closed"), None)]
    kind, request_id, value = parts[0], int(parts[1]), int(parts[2])
    link = session.get(BotRequest, request_id)
    request = session.get(CitizenRequest, request_id)
    if (link is None or link.chat_id != chat.chat_id or request is None
            or request.status != RequestStatus.RESOLVED
            or (request.survey_at is not None and request.resolved_at is not None
                and request.survey_at >= request.resolved_at)):
        return [(texts.say("survey_closed"), None)]
    if kind == "rate":
        if not 1 <= value <= 5:
            return [(texts.say("survey_closed"), None)]
        chat.draft = {**chat.draft, "survey": {"request_id": request_id, "rating": value}}
        return [(texts.say("survey_fixed"), texts.fixed_keyboard(request_id))]
    survey = chat.draft.get("survey") or {}
    if survey.get("request_id") != request_id or value not in (0, 1):
        return [(texts.say("survey", code=request.tracking_code),
                 texts.rating_keyboard(request_id))]
    store_answer(session=session, request=request, rating=int(survey["rating"]),
                 fixed=value == 1, channel="social", actor="citizen", now=utcnow())
    chat.draft = {k: v for k, v in chat.draft.items() if k != "survey"}
    return [(texts.say("survey_thanks"), texts.main_menu(opted_out=chat.opted_out))]
