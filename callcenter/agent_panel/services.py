"""The pop's content and the requests filed from it (no I/O beyond the given session)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from callcenter.attachments.schemas import attachment_out
from callcenter.attachments.services import request_attachments
from callcenter.callrecords.models import Call
from callcenter.calls.events import AgentRinging
from callcenter.cases.models import OPEN_STATUSES, CitizenRequest, RequestChannel
from callcenter.cases.services import add_event, change_status, get_request_by_code
from callcenter.citizens.models import Citizen
from callcenter.citizens.phone import normalise_phone
from callcenter.citizens.services import find_citizen
from callcenter.clock import as_utc
from callcenter.errors import DomainError, InvalidInput
from callcenter.intake.services import file_request
from callcenter.reference.hours import Hours
from callcenter.reference.models import Category, Department, Neighbourhood
from callcenter.web.formatting import national

EARLIER_CALLS = 10
EARLIER_REQUESTS = 20


def ivr_steps(path: Sequence[str]) -> list[str]:
    """Flatten the tracker's path (steps may hold ``a>b`` chains) into single steps."""
    return [step for part in path for step in part.split(">") if step]


def category_digit(path: Sequence[str]) -> int | None:
    """The last ``category:N`` the caller chose in the IVR, if any."""
    for step in reversed(ivr_steps(path)):
        name, _, value = step.partition(":")
        if name == "category" and value.isdigit():
            return int(value)
    return None


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


@dataclass(frozen=True)
class ReferenceNames:
    """Names of categories, departments and neighbourhoods (read once: the pop is on the
    hot path, and the reference tables only change when ``sync_reference`` runs)."""

    names: dict[str, dict[str, dict[str, str]]]
    category_by_digit: dict[int, str]

    def of(self, kind: str, code: str | None) -> dict[str, str] | None:
        if not code:
            return None
        return self.names[kind].get(code, {"code": code, "fa": code, "en": code})


def load_reference_names(*, session: Session) -> ReferenceNames:
    categories = session.exec(select(Category)).all()
    rows: dict[str, Sequence[Category | Department | Neighbourhood]] = {
        "category": categories,
        "department": session.exec(select(Department)).all(),
        "neighbourhood": session.exec(select(Neighbourhood)).all(),
    }
    names = {kind: {row.code: {"code": row.code, "fa": row.name_fa, "en": row.name_en}
                    for row in found} for kind, found in rows.items()}
    digits = {c.digit: c.code for c in categories}
    return ReferenceNames(names=names, category_by_digit=digits)


def request_summary(reference: ReferenceNames, request: CitizenRequest) -> dict[str, Any]:
    return {
        "tracking_code": request.tracking_code,
        "status": request.status,
        "open": request.status in OPEN_STATUSES,
        "channel": request.channel,
        "category": reference.of("category", request.category_code),
        "department": reference.of("department", request.department_code),
        "neighbourhood": reference.of("neighbourhood", request.neighbourhood_code),
        "description": request.description or "",
        "created_at": _iso(request.created_at),
        "deadline_at": _iso(request.deadline_at),
        # The pop plays it from /api/requests/{code}/recording (never a path on the PBX).
        "has_recording": bool(request.recording_path),
    }


def _safe_phone(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except DomainError:
        return None


def earlier_calls(*, session: Session, citizen: Citizen | None, phone: str | None,
                  exclude_linkedid: str) -> list[dict[str, Any]]:
    """The caller's latest calls (by citizen or by the raw caller number).

    One newest-first query per condition, each read in order from its own index and
    merged here: an ``OR`` of the two makes the planner walk the whole call history.
    """
    conditions = []
    if citizen is not None:
        conditions.append(col(Call.citizen_id) == citizen.id)
    if phone:
        conditions.append(col(Call.caller) == phone)
    found: dict[int | None, Call] = {}
    for condition in conditions:
        for call in session.exec(
            select(Call).where(condition, col(Call.linkedid) != exclude_linkedid)
            .order_by(col(Call.entered_at).desc()).limit(EARLIER_CALLS)
        ).all():
            found[call.id] = call
    rows = sorted(found.values(), key=lambda c: as_utc(c.entered_at), reverse=True)
    rows = rows[:EARLIER_CALLS]
    return [
        {"linkedid": c.linkedid, "at": _iso(c.entered_at), "outcome": c.outcome,
         "agent": c.agent or "", "talk_seconds": c.talk_seconds, "ivr_path": c.ivr_path or ""}
        for c in rows
    ]


def first_pop(*, event: AgentRinging, reference: ReferenceNames) -> dict[str, Any]:
    """What the ring itself says (no store query): pushed the moment the phone rings."""
    phone = _safe_phone(event.caller)
    digit = category_digit(event.ivr_path)
    return {
        "type": "pop",
        "linkedid": event.linkedid,
        "event_at": event.at,
        "agent": event.agent,
        "queue": event.queue,
        "caller": event.caller,
        "phone": phone or event.caller,
        "phone_display": national(phone) if phone else event.caller,
        "caller_name": event.caller_name or "",
        "ivr_path": ivr_steps(event.ivr_path),
        "ivr_request_code": event.request_code,
        "prefill": {
            "category_code": reference.category_by_digit.get(digit) if digit else None,
            "neighbourhood_code": None,
            "tracking_code": event.request_code,
            "description": "",
        },
    }


def pop_history(*, session: Session, event: AgentRinging,
                reference: ReferenceNames) -> dict[str, Any]:
    """The caller from the store: name, earlier calls and requests, open ones; follows
    the first pop as ``pop_history`` for the same ``linkedid``."""
    phone = _safe_phone(event.caller)
    citizen = find_citizen(session=session, phone=phone) if phone else None
    requests = session.exec(
        select(CitizenRequest).where(CitizenRequest.citizen_id == citizen.id)
        .order_by(col(CitizenRequest.created_at).desc(), col(CitizenRequest.id).desc())
        .limit(EARLIER_REQUESTS)
    ).all() if citizen else []
    ivr_request = None
    if event.request_code:
        try:
            ivr_request = request_summary(
                reference, get_request_by_code(session=session, code=event.request_code))
        except DomainError:
            ivr_request = None
    summaries = [{**request_summary(reference, r),
                  "attachments": _attachments(session, r)} for r in requests]
    return {
        "type": "pop_history",
        "linkedid": event.linkedid,
        "event_at": event.at,
        "caller_name": (citizen.name if citizen and citizen.name else event.caller_name) or "",
        "known_citizen": citizen is not None,
        "neighbourhood_code": citizen.neighbourhood_code if citizen else None,
        "ivr_request": ivr_request,
        "calls": earlier_calls(session=session, citizen=citizen, phone=event.caller,
                               exclude_linkedid=event.linkedid),
        "requests": summaries,
        "open_requests": [s for s in summaries if s["open"]],
    }


def _attachments(session: Session, request: CitizenRequest) -> list[dict[str, Any]]:
    """Photos and locations of a request as the pop shows them (staff-only links)."""
    if request.id is None:
        return []
    return [attachment_out(request.tracking_code, a).model_dump()
            for a in request_attachments(session=session, request_id=request.id)]


def build_pop(*, session: Session, event: AgentRinging,
              reference: ReferenceNames | None = None) -> dict[str, Any]:
    """The whole pop in one dict (the first pop merged with its history)."""
    reference = reference or load_reference_names(session=session)
    pop = first_pop(event=event, reference=reference)
    history = pop_history(session=session, event=event, reference=reference)
    pop.update({k: v for k, v in history.items() if k != "type"})
    pop["prefill"]["neighbourhood_code"] = history["neighbourhood_code"]
    return pop


def save_from_pop(
    *, session: Session, actor: str, linkedid: str, phone: str,
    category_code: str | None, neighbourhood_code: str | None, description: str | None,
    citizen_name: str | None, tracking_code: str | None, new_status: str | None,
    note: str | None, calendar: Hours | None = None,
) -> tuple[CitizenRequest, bool]:
    """File a request from a call, or update an existing one's status; either way the
    request's history gets a ``contact`` event carrying the call's ``linkedid`` (the call
    recorder links ``Call.request_id`` through it when the call ends)."""
    if tracking_code:
        request = get_request_by_code(session=session, code=tracking_code)
        if new_status and new_status != request.status:
            change_status(session=session, request=request, to_status=new_status, actor=actor,
                          note=note)
        created = False
    else:
        if not category_code:
            raise InvalidInput("choose a category", field="category_code")
        request, created = file_through_intake(
            session=session, actor=actor, phone=phone, channel=RequestChannel.PHONE,
            category_code=category_code, neighbourhood_code=neighbourhood_code,
            description=description, citizen_name=citizen_name, linkedid=linkedid,
            calendar=calendar,
        )
    add_event(session=session, request=request, kind="contact", actor=actor,
              channel=RequestChannel.PHONE, note=note or None, data={"linkedid": linkedid})
    session.flush()
    return request, created


def file_through_intake(
    *, session: Session, actor: str, phone: str, channel: RequestChannel,
    category_code: str, neighbourhood_code: str | None, description: str | None,
    citizen_name: str | None, linkedid: str | None = None, calendar: Hours | None = None,
) -> tuple[CitizenRequest, bool]:
    """File via the intake service (duplicate rules, Shahrbin outbox); returns the
    request and whether it is a new one."""
    result = file_request(
        session=session, phone=phone, channel=channel, category_code=category_code,
        description=description or None, neighbourhood_code=neighbourhood_code or None,
        citizen_name=citizen_name or None, actor=actor, linkedid=linkedid, calendar=calendar,
    )
    return result.request, not result.repeat_of


def file_walk_in(
    *, session: Session, actor: str, phone: str, category_code: str,
    neighbourhood_code: str | None, description: str, citizen_name: str | None,
    calendar: Hours | None = None,
) -> tuple[CitizenRequest, bool]:
    """A citizen at the counter (channel ``walk_in``)."""
    request, created = file_through_intake(
        session=session, actor=actor, phone=phone, channel=RequestChannel.WALK_IN,
        category_code=category_code, neighbourhood_code=neighbourhood_code,
        description=description, citizen_name=citizen_name, calendar=calendar,
    )
    session.flush()
    return request, created


def reference_lists(*, session: Session) -> dict[str, list[dict[str, Any]]]:
    """Categories and neighbourhoods for the forms' select boxes."""
    categories = session.exec(select(Category).order_by(col(Category.digit))).all()
    hoods = session.exec(select(Neighbourhood).order_by(col(Neighbourhood.name_fa))).all()
    return {
        "categories": [{"code": c.code, "fa": c.name_fa, "en": c.name_en} for c in categories],
        "neighbourhoods": [{"code": n.code, "fa": n.name_fa, "en": n.name_en} for n in hoods],
    }
