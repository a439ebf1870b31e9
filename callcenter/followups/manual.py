"""Click-to-call from the agents' follow-up list: ring the agent's phone, then the
citizen (dialplan ``[outbound] callback``). The same contact policy applies, except the
per-citizen cap (a person decided); every decision goes to the contact log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.citizens.models import Citizen
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.errors import Conflict, DomainError, InvalidInput
from callcenter.followups.models import ContactChannel, ContactDecision
from callcenter.followups.policy import ContactPolicy, ContactSubject
from callcenter.followups.ports import Originator
from callcenter.followups.services import CLOSED_STATES, get_task, log_action
from callcenter.followups.steps import dial_number
from callcenter.followups.store import record_contact


class ContactRefused(DomainError):
    """The contact policy says no (opted out, outside calling hours...)."""

    error_id = "contact-refused"
    status_code = 409


class CallNotPlaced(DomainError):
    error_id = "call-not-placed"
    status_code = 502


@dataclass(frozen=True)
class PlacedCall:
    task_id: int
    agent: str
    uniqueid: str


async def click_to_call(
    *, engine: Engine, actions: Originator | None, policy: ContactPolicy, task_id: int,
    extension: str | None, user_id: int, context: str = "outbound",
    acting_user_id: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    actor: str = "agent", actor_name: str | None = None, purpose: str = "call",
) -> PlacedCall:
    """Ring ``PJSIP/<extension>``; when the agent answers, Asterisk dials the citizen."""
    if not extension:
        raise InvalidInput("your account has no phone extension")
    if actions is None:
        raise CallNotPlaced("the PBX connection is not configured")
    now = clock()

    def check(session: Session) -> tuple[str, str | None]:
        task = get_task(session=session, task_id=task_id, acting_user_id=acting_user_id)
        if task.state in CLOSED_STATES:
            raise Conflict("task already closed", task_id=task_id, state=task.state)
        citizen = session.get(Citizen, task.citizen_id) if task.citizen_id else None
        if citizen is None or citizen.phone is None:
            raise InvalidInput("this task has no citizen to call", task_id=task_id)
        phone = citizen.phone
        decision = policy.decide(subject=ContactSubject(opted_out=citizen.opted_out,
                                                        manual=True),
                                 now=now, recent_contacts=[])
        if not decision.allowed:
            record_contact(session=session, task_id=task_id, citizen_id=citizen.id,
                           channel=ContactChannel.VOICE, decision=ContactDecision.SKIPPED,
                           reason=decision.reason, now=now, detail={"user_id": user_id})
            return "", decision.reason
        task.attempts += 1
        task.assigned_user_id = task.assigned_user_id or user_id
        task.updated_at = now
        session.add(task)
        record_contact(session=session, task_id=task_id, citizen_id=citizen.id,
                       channel=ContactChannel.VOICE, decision=ContactDecision.SENT,
                       reason="click-to-call", now=now, detail={"user_id": user_id})
        log_action(session=session, task=task, action=f"{purpose}-now", actor=actor,
                   actor_name=actor_name, data={"extension": extension})
        return phone, None

    phone, refused = await asyncio.to_thread(_in_session, engine, check)
    if refused:
        raise ContactRefused(f"not calling: {refused}", reason=refused)
    number = dial_number(phone)
    agent = f"PJSIP/{extension}"
    try:
        placed = await actions.originate(
            channel=agent, context=context, exten="callback",
            caller_id=f'"{number}" <{number}>',
            variables={"CITIZEN": number,
                       "CALL_PURPOSE": "survey" if purpose == "survey" else "click-to-call"},
            ring_seconds=30)
    except Exception as exc:  # AmiError and friends: tell the agent, keep the task
        raise CallNotPlaced(f"the call was not placed: {exc}") from None
    return PlacedCall(task_id=task_id, agent=agent, uniqueid=placed.uniqueid)


def _in_session(engine: Engine, work: Callable[[Session], tuple[str, str | None]]
                ) -> tuple[str, str | None]:
    with session_scope(engine) as session:
        return work(session)
