"""In from Shahrbin: a signed status update moves the request (HMAC-SHA256 over
``<timestamp>.<raw body>`` with the shared secret; stale timestamps are refused so a
captured webhook cannot be replayed later)."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, get_request_by_code
from callcenter.citizens.models import Citizen
from callcenter.clock import utcnow
from callcenter.followups.escalations import clear_overdue
from crm_bridge.config import ShahrbinConfig
from crm_bridge.exceptions import BadSignature, BadStatusUpdate


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex signature Shahrbin sends (and tests use)."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(*, config: ShahrbinConfig, secret: str, headers: dict[str, str], body: bytes,
           now: float | None = None) -> None:
    """Raise ``BadSignature`` unless the signature is right and the timestamp fresh."""
    timestamp = headers.get(config.inbound.timestamp_header.lower(), "")
    signature = headers.get(config.inbound.signature_header.lower(), "")
    if not timestamp or not signature:
        raise BadSignature("signature or timestamp header missing")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise BadSignature("timestamp is not a number")  # int() takes "١٧٠٠" too
    skew = abs((now if now is not None else time.time()) - int(timestamp))
    if skew > config.inbound.max_skew_seconds:
        raise BadSignature("timestamp too old or in the future", skew_seconds=int(skew))
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str (was a 500).
    given = signature.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), given):
        raise BadSignature("signature does not match")


@dataclass(frozen=True)
class StatusOutcome:
    request_id: int
    tracking_code: str
    status: str
    changed: bool
    citizen_phone: str | None  # None: known by a messenger account only (the bot pushes)
    citizen_opted_out: bool


def apply_status_update(*, session: Session, config: ShahrbinConfig, data: dict[str, Any]
                        ) -> StatusOutcome:
    """Map Shahrbin's fields, then move the request (same status again: no change)."""
    names = config.inbound.fields
    code = data.get(names.get("tracking_code", "tracking_code"))
    theirs = data.get(names.get("status", "status"))
    note = data.get(names.get("note", "note"))
    if not isinstance(code, str) or not isinstance(theirs, str):
        raise BadStatusUpdate("tracking code and status are required strings")
    ours = config.inbound.status_map.get(theirs)
    if ours is None or ours not in set(RequestStatus):
        raise BadStatusUpdate(f"unknown status {theirs!r}", status=theirs)
    request: CitizenRequest = get_request_by_code(session=session, code=code)
    changed = request.status != ours
    if changed:
        change_status(session=session, request=request, to_status=ours, actor="shahrbin",
                      notify_crm=False,
                      note=note if isinstance(note, str) else None,
                      data={"shahrbin_status": theirs,
                            "event_id": str(data.get(names.get("event_id", "event_id")))})
    # Any update from the department (even the same status again) answers the overdue
    # alert: its open overdue task leaves the agents' list.
    assert request.id is not None
    clear_overdue(session=session, request_id=request.id, now=utcnow(), actor="shahrbin")
    citizen = session.get(Citizen, request.citizen_id)
    assert citizen is not None and request.id is not None
    return StatusOutcome(request.id, request.tracking_code, request.status, changed,
                         citizen.phone, citizen.opted_out)
