"""SMS in: what a citizen's message means, decided once the webhook is authentic.

Order: replay (same MessageSid: the stored reply again, nothing changes) → opt-out
("لغو"/STOP) → a digit 1-5 (survey answer) → a tracking code (status reply) → anything
else files a request (channel sms): in the category whose keywords the text names
(``intake.classify``), or as "other" flagged for triage.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from callcenter.cases.exceptions import NoSuchRequest
from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import get_request_by_code
from callcenter.cases.tracking import CODE_LENGTH, normalise_code
from callcenter.citizens.phone import normalise_phone
from callcenter.citizens.services import get_or_create_citizen, set_opt_out
from callcenter.intake.classify import classify_sms
from callcenter.intake.services import file_request
from callcenter.reference.models import Department
from callcenter.sms.messages import SmsCatalogue
from callcenter.sms.models import SmsDirection, SmsMessage, SmsStatus
from callcenter.sms.survey import (
    LOW_RATING,
    awaiting_fixed,
    hold_low_rating,
    pending_survey,
    record_survey_answer,
)

STOP_WORDS = frozenset({"لغو", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    from_phone: str
    to_phone: str
    body: str


@dataclass(frozen=True)
class InboundOutcome:
    kind: str  # replay|opt_out|survey|status|unknown_code|filed|repeat|empty|no_survey
    reply: str
    request_id: int | None = None


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    return text.replace("\u200c", "").strip(" .!،")


def handle_inbound(*, session: Session, sms: InboundSms, catalogue: SmsCatalogue,
                   duplicate_window_hours: int = 72) -> InboundOutcome:
    """Act on one authentic message; the caller commits. Raises ``InvalidPhone``."""
    replay = session.exec(
        select(SmsMessage).where(SmsMessage.twilio_sid == f"{sms.message_sid}:reply")
    ).first()
    if replay is not None:
        return InboundOutcome(kind="replay", reply=replay.body, request_id=replay.request_id)
    phone = normalise_phone(sms.from_phone)
    row = SmsMessage(direction=SmsDirection.INBOUND, to_phone=sms.to_phone[:20],
                     from_phone=phone, body=sms.body, status=SmsStatus.RECEIVED,
                     twilio_sid=sms.message_sid, attempts=1)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same webhook, concurrently: the first one answers
        return InboundOutcome(kind="replay", reply="")
    outcome = _decide(session=session, phone=phone, text=_clean(sms.body),
                      raw=sms.body, catalogue=catalogue, window=duplicate_window_hours)
    row.request_id = outcome.request_id
    session.add(row)
    session.add(SmsMessage(direction=SmsDirection.OUTBOUND, to_phone=phone,
                           from_phone=sms.to_phone[:20], body=outcome.reply,
                           status=SmsStatus.SENT, attempts=1, request_id=outcome.request_id,
                           twilio_sid=f"{sms.message_sid}:reply"))
    return outcome


def _decide(*, session: Session, phone: str, text: str, raw: str, catalogue: SmsCatalogue,
            window: int) -> InboundOutcome:
    if not text:
        return InboundOutcome(kind="empty", reply=catalogue.render("empty_message"))
    citizen = get_or_create_citizen(session=session, phone=phone)
    if text.upper() in STOP_WORDS:
        set_opt_out(session=session, citizen=citizen, opted_out=True)
        return InboundOutcome(kind="opt_out", reply=catalogue.render("opted_out"))
    digits = normalise_code(text)
    if len(digits) == 1 and digits.isdigit():
        task = pending_survey(session=session, citizen=citizen)
        if task is not None and awaiting_fixed(task) and digits in ("1", "2"):
            rating = int((task.result or {})["rating"])
            request = record_survey_answer(session=session, task=task, rating=rating,
                                           fixed=digits == "1")
            return InboundOutcome(kind="survey", request_id=request.id,
                                  reply=catalogue.render("survey_thanks", rating=rating))
        if task is None or awaiting_fixed(task) or not 1 <= int(digits) <= 5:
            return InboundOutcome(kind="no_survey", reply=catalogue.render("no_survey_pending"))
        if int(digits) <= LOW_RATING:
            hold_low_rating(session=session, task=task, rating=int(digits))
            code = session.get(CitizenRequest, task.request_id)
            return InboundOutcome(kind="survey_low", request_id=task.request_id,
                                  reply=catalogue.render(
                                      "survey_ask_fixed",
                                      code=code.tracking_code if code else ""))
        request = record_survey_answer(session=session, task=task, rating=int(digits))
        return InboundOutcome(kind="survey", request_id=request.id,
                              reply=catalogue.render("survey_thanks", rating=digits))
    if len(digits) == CODE_LENGTH and digits.isascii() and digits.isdigit():
        try:
            request = get_request_by_code(session=session, code=digits)
        except NoSuchRequest:
            return InboundOutcome(kind="unknown_code",
                                  reply=catalogue.render("code_unknown", code=digits))
        department = session.get(Department, request.department_code)
        return InboundOutcome(kind="status", request_id=request.id, reply=catalogue.render(
            "status_reply", code=request.tracking_code,
            status=catalogue.status_label(request.status),
            department=department.name_fa if department else request.department_code))
    category = classify_sms(session=session, text=text)
    result = file_request(session=session, phone=phone, channel="sms",
                          category_code=category or "other", description=raw.strip(),
                          needs_triage=category is None, actor="sms",
                          duplicate_window=timedelta(hours=window))
    key = "repeat_contact" if result.repeat_of else "request_filed"
    return InboundOutcome(kind="repeat" if result.repeat_of else "filed",
                          request_id=result.request.id,
                          reply=catalogue.render(key, code=result.request.tracking_code))
