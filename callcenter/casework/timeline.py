"""The whole timeline of a request and its citizen, across every channel, for the case
page: request history (filings, status changes, re-routing, notes, surveys, contacts),
calls (IVR path, agent, outcome), SMS in and out, Shahrbin deliveries and answers, and
follow-ups (surveys and their results, triage, callbacks). Newest first.

One query per source, bounded (``LIMIT``), so an old citizen's page stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import false, or_
from sqlmodel import Session, col, select

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.citizens.models import Citizen
from callcenter.clock import as_utc
from callcenter.followups.models import Task
from callcenter.outbox.models import OutboxItem
from callcenter.sms.models import SmsMessage

LIMIT = 300


@dataclass
class Entry:
    """One line: ``source`` is history|call|sms|shahrbin|followup; ``kind`` its subtype."""

    at: datetime
    source: str
    kind: str
    code: str | None = None
    actor: str | None = None
    text: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def citizen_requests(*, session: Session, citizen_id: int) -> list[CitizenRequest]:
    return list(session.exec(
        select(CitizenRequest).where(CitizenRequest.citizen_id == citizen_id)
        .order_by(col(CitizenRequest.created_at).desc()).limit(LIMIT)
    ).all())


def build_timeline(*, session: Session, citizen: Citizen,
                   requests: list[CitizenRequest]) -> list[Entry]:
    """Every line about ``citizen`` and ``requests`` (theirs), newest first."""
    codes = {r.id: r.tracking_code for r in requests if r.id is not None}
    ids = list(codes)
    entries = [*_history(session, ids, codes), *_calls(session, citizen, codes),
               *_sms(session, citizen, ids, codes), *_shahrbin(session, ids, codes),
               *_followups(session, citizen, codes)]
    entries.sort(key=lambda e: as_utc(e.at), reverse=True)
    return entries


def _history(session: Session, ids: list[int], codes: dict[int, str]) -> list[Entry]:
    if not ids:
        return []
    events = session.exec(
        select(RequestEvent).where(col(RequestEvent.request_id).in_(ids))
        .order_by(col(RequestEvent.id).desc()).limit(LIMIT)
    ).all()
    out = []
    for event in events:
        facts: dict[str, Any] = {k: v for k, v in {
            "from": event.from_status, "to": event.to_status, "channel": event.channel,
        }.items() if v}
        data = event.data or {}
        if event.kind == "edited":
            facts["changes"] = ", ".join(sorted(data.get("changes", {})))
        elif event.kind == "rerouted":
            facts["department"] = f"{data.get('from', {}).get('department')} → " \
                                  f"{data.get('to', {}).get('department')}"
        elif event.kind == "survey":
            facts.update({k: data[k] for k in ("rating", "fixed") if k in data})
        kind = "shahrbin_answer" if event.actor == "shahrbin" else event.kind
        out.append(Entry(at=event.at, source="history", kind=kind,
                         code=codes.get(event.request_id), actor=event.actor,
                         text=event.note, facts=facts))
    return out


def _calls(session: Session, citizen: Citizen, codes: dict[int, str]) -> list[Entry]:
    calls = session.exec(
        select(Call).where(Call.citizen_id == citizen.id)
        .order_by(col(Call.entered_at).desc()).limit(LIMIT)
    ).all()
    return [Entry(at=c.entered_at, source="call", kind=c.direction,
                  code=codes.get(c.request_id) if c.request_id else None, actor=c.agent,
                  facts={"outcome": c.outcome, "ivr_path": c.ivr_path or "",
                         "talk_seconds": c.talk_seconds, "wait_seconds": c.wait_seconds})
            for c in calls]


def _sms(session: Session, citizen: Citizen, ids: list[int],
         codes: dict[int, str]) -> list[Entry]:
    # A citizen known by a messenger account alone has no SMS of their own (and
    # ``== None`` would match every row without a number).
    mine = or_(col(SmsMessage.to_phone) == citizen.phone,
               col(SmsMessage.from_phone) == citizen.phone) if citizen.phone else false()
    if ids:
        mine = or_(mine, col(SmsMessage.request_id).in_(ids))
    rows = session.exec(
        select(SmsMessage).where(mine).order_by(col(SmsMessage.id).desc()).limit(LIMIT)
    ).all()
    return [Entry(at=m.created_at, source="sms", kind=m.direction,
                  code=codes.get(m.request_id) if m.request_id else None, text=m.body,
                  facts={"status": m.status, "attempts": m.attempts})
            for m in rows]


def _shahrbin(session: Session, ids: list[int], codes: dict[int, str]) -> list[Entry]:
    if not ids:
        return []
    items = session.exec(
        select(OutboxItem).where(col(OutboxItem.request_id).in_(ids))
        .order_by(col(OutboxItem.id).desc()).limit(LIMIT)
    ).all()
    return [Entry(at=i.delivered_at or i.created_at, source="shahrbin", kind=i.kind,
                  code=codes.get(i.request_id),
                  facts={"state": i.state, "attempts": i.attempts,
                         **({"error": i.last_error} if i.last_error else {})})
            for i in items]


def _followups(session: Session, citizen: Citizen, codes: dict[int, str]) -> list[Entry]:
    ids = list(codes)
    mine = col(Task.citizen_id) == citizen.id
    if ids:
        mine = or_(mine, col(Task.request_id).in_(ids))
    tasks = session.exec(select(Task).where(mine).order_by(col(Task.id).desc()).limit(LIMIT)
                         ).all()
    out = []
    for task in tasks:
        result = task.result or {}
        facts: dict[str, Any] = {"state": task.state}
        facts.update({k: result[k] for k in ("rating", "fixed", "triage_seconds", "closed_by")
                      if k in result})
        out.append(Entry(at=task.updated_at, source="followup", kind=task.kind,
                         code=codes.get(task.request_id) if task.request_id else None,
                         text=task.note, facts=facts))
    return out
