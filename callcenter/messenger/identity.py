"""Who a chat is: the messenger account first, the phone number once they share it.

A citizen who never shares their contact files under a citizen row without a phone
number (``citizen.phone`` None), linked from ``bot_chat.citizen_id``: their requests,
status pushes and surveys all go through the bot. Sharing the contact later (the
platform's contact button) gives that row the number; when the store already knows
the number (an earlier call, SMS or walk-in), the account's requests and follow-ups
move to that citizen instead, so one timeline holds every channel.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.citizens.phone import normalise_phone
from callcenter.citizens.services import find_citizen, get_or_create_citizen
from callcenter.followups.models import ContactAttempt, Task
from callcenter.messenger.models import BotChat


def chat_citizen(*, session: Session, chat: BotChat) -> Citizen:
    """The chat's citizen; a new one without a phone number on its first request."""
    citizen = session.get(Citizen, chat.citizen_id) if chat.citizen_id else None
    if citizen is None:
        citizen = Citizen(phone=None)
        session.add(citizen)
        session.flush()
        chat.citizen_id = citizen.id
    return citizen


def has_phone(*, session: Session, chat: BotChat) -> bool:
    citizen = session.get(Citizen, chat.citizen_id) if chat.citizen_id else None
    return bool(citizen and citizen.phone)


def link_phone(*, session: Session, chat: BotChat, phone: str) -> Citizen:
    """Link the chat to the citizen of ``phone`` (``InvalidPhone`` if it is none).
    The caller commits."""
    e164 = normalise_phone(phone)
    current = session.get(Citizen, chat.citizen_id) if chat.citizen_id else None
    if current is not None and current.phone == e164:
        return current
    known = find_citizen(session=session, phone=e164)
    if current is not None and current.phone is None:
        if known is None:  # the account's own row takes the number
            current.phone = e164
            session.add(current)
            return current
        _move(session, source=current, target=known)
    target = known or get_or_create_citizen(session=session, phone=e164)
    chat.citizen_id = target.id
    return target


def _move(session: Session, *, source: Citizen, target: Citizen) -> None:
    """Everything of a phoneless citizen onto the citizen of the shared number; the
    empty row stays (nothing points at it any more)."""
    session.flush()
    for table in (CitizenRequest, Task, ContactAttempt, BotChat):
        session.execute(update(table).where(col(table.citizen_id) == source.id)
                        .values(citizen_id=target.id))
    session.expire_all()
