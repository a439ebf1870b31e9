"""Shahrbin's signed status webhook, and the supervisors' dead-letter list and replay."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session

from callcenter.auth.deps import SupervisorUser
from callcenter.cases.models import CitizenRequest
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.deps import AppServices
from callcenter.followups.config import policy_from_settings
from callcenter.http_types import RowIdPath
from callcenter.intake.http_input import parse_json_object, read_limited
from callcenter.messages.models import MessageKind
from callcenter.outbox.models import OutboxPublic
from callcenter.reference.models import Department
from callcenter.sms.notify import queue_sms
from crm_bridge.inbound import StatusOutcome, apply_status_update, verify
from crm_bridge.outbox import dead_letters, replay
from crm_bridge.replay_guard import delivery_key, first_delivery

router = APIRouter(tags=["crm"])
MAX_BODY_BYTES = 16 * 1024


@router.post("/crm/shahrbin/status")
async def shahrbin_status(request: Request, services: AppServices) -> dict[str, Any]:
    settings = services.settings
    config = services.shahrbin
    raw = await read_limited(request, MAX_BODY_BYTES)
    headers = {k.lower(): v for k, v in request.headers.items()}
    verify(config=config, secret=settings.shahrbin_webhook_secret.get_secret_value(),
           headers=headers, body=raw)
    data = parse_json_object(raw)
    key = delivery_key(event_id=data.get(config.inbound.fields.get("event_id", "event_id")),
                       signature=headers.get(config.inbound.signature_header.lower(), ""))

    catalogue = services.sms_catalogue
    policy = (services.followups.policy if services.followups is not None
              else policy_from_settings(settings, holidays=services.calendar.holidays
                                        if services.calendar else None))

    def work() -> StatusOutcome | None:
        with session_scope(services.engine) as session:
            if not first_delivery(session=session, key=key, now=utcnow()):
                return None  # a replay inside the signature window: acted on already
            outcome = apply_status_update(session=session, config=config, data=data)
            if (outcome.changed and not outcome.citizen_opted_out
                    and outcome.citizen_phone is not None):
                # The citizen's SMS commits with the status change (durable messages).
                text = catalogue.render(
                    "status_changed", code=outcome.tracking_code,
                    status=catalogue.status_label(outcome.status),
                    department=_department_name(session, outcome.request_id))
                # Outside calling hours it waits for the morning (the contact policy).
                queue_sms(session=session, to=outcome.citizen_phone, body=text,
                          kind=MessageKind.STATUS_CHANGED, request_id=outcome.request_id,
                          send_at=policy.sms_send_at(now=utcnow()))
            return outcome

    outcome = await services.pools.store.run(work)
    if outcome is None:
        return {"changed": False, "replay": True}
    services.sms.wake()
    return {"tracking_code": outcome.tracking_code, "status": outcome.status,
            "changed": outcome.changed}


def _department_name(session: Session, request_id: int) -> str:
    request = session.get(CitizenRequest, request_id)
    department = session.get(Department, request.department_code) if request else None
    return department.name_fa if department else ""


@router.get("/crm/outbox/dead", response_model=list[OutboxPublic])
async def list_dead_letters(services: AppServices, user: SupervisorUser) -> list[OutboxPublic]:
    def work() -> list[OutboxPublic]:
        with session_scope(services.engine) as session:
            return [OutboxPublic.model_validate(item, from_attributes=True)
                    for item in dead_letters(session=session)]

    return await asyncio.to_thread(work)


@router.post("/crm/outbox/{item_id}/replay", response_model=OutboxPublic)
async def replay_dead_letter(services: AppServices, item_id: RowIdPath, user: SupervisorUser
                             ) -> OutboxPublic:
    def work() -> OutboxPublic:
        with session_scope(services.engine) as session:
            item = replay(session=session, item_id=item_id)
            session.flush()
            return OutboxPublic.model_validate(item, from_attributes=True)

    return await asyncio.to_thread(work)
