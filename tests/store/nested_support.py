"""Helpers for the nested-transaction tests: row counts per table, a fault planted inside
a service's ``begin_nested()`` block, and the pieces the services need."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.calls.events import CallEnded, Outcome
from callcenter.db.metadata import metadata
from callcenter.sms.inbound import InboundSms

REFERENCE_TABLES = {"department", "category", "neighbourhood", "alembic_version"}


def counts(bind: Engine | Session) -> dict[str, int]:
    """Rows per store table (reference tables left out): an engine counts what is
    committed, a session also what it has flushed."""
    tables = [t for t in metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    if isinstance(bind, Session):
        return {t.name: bind.execute(select(func.count()).select_from(t)).scalar_one()
                for t in tables}
    with Session(bind) as session:
        return counts(session)


def grown(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name, rows in after.items() if rows != before[name]}


class Fault(Exception):
    """Raised inside a nested block, after its INSERT reached the database."""


@contextmanager
def fault_after_insert(model: type[Any]) -> Iterator[None]:
    """The next INSERT of ``model`` runs, then ``Fault`` is raised (inside the savepoint)."""
    def boom(*_args: Any) -> None:
        raise Fault(f"planted after the {model.__name__} INSERT")

    event.listen(model, "after_insert", boom)
    try:
        yield
    finally:
        event.remove(model, "after_insert", boom)


def abandoned_call(linkedid: str = "1700000000.7", caller: str = "09135550011") -> CallEnded:
    """A caller who hung up in the queue: a call record, a citizen, an ``abandoned`` task."""
    return CallEnded(
        linkedid=linkedid, at=1700000100.0, outcome=Outcome.ABANDONED, caller=caller,
        caller_name="", parties=(caller,), answered_by=None, transfers=(),
        queue="citizen-requests", started_at=1700000000.0, answered_at=None,
        ended_at=1700000100.0, wait_seconds=100.0, talk_seconds=0.0, hangup_by=caller,
        ivr_path=("menu:0",),
    )


def sms_report(sid: str = "SM00000000000000000000000000000001",
               sender: str = "+989135550022") -> InboundSms:
    """An SMS that files a request (channel sms, flagged for triage)."""
    return InboundSms(message_sid=sid, from_phone=sender, to_phone="+98137",
                      body="چراغ خیابان کوچه ۱۲ خاموش است")
