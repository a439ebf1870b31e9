"""Find or create citizens by phone; opt-outs."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from callcenter.citizens.models import Citizen
from callcenter.citizens.phone import normalise_phone
from callcenter.clock import utcnow


def find_citizen(*, session: Session, phone: str) -> Citizen | None:
    return session.exec(select(Citizen).where(Citizen.phone == normalise_phone(phone))).first()


def get_or_create_citizen(*, session: Session, phone: str, name: str | None = None) -> Citizen:
    """The citizen with this number (any Iranian format), created on first contact."""
    e164 = normalise_phone(phone)
    citizen = session.exec(select(Citizen).where(Citizen.phone == e164)).first()
    if citizen is None:
        citizen = Citizen(phone=e164, name=name or None)
        try:
            with session.begin_nested():
                session.add(citizen)
        except IntegrityError:  # created meanwhile by another channel
            citizen = session.exec(select(Citizen).where(Citizen.phone == e164)).one()
    elif name and not citizen.name:
        citizen.name = name
        session.add(citizen)
    return citizen


def set_opt_out(*, session: Session, citizen: Citizen, opted_out: bool) -> Citizen:
    """Opt a citizen out of (or back into) every follow-up channel."""
    citizen.opted_out = opted_out
    citizen.opted_out_at = utcnow() if opted_out else None
    session.add(citizen)
    return citizen
