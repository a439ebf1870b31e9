"""The delivery's store work: claim due messages, record each outcome, count the backlog.

Claiming as the follow-up engine does (``db/claiming.claim_rows``): on PostgreSQL
``FOR UPDATE SKIP LOCKED`` hands each sender different rows; everywhere, each claim is a
conditional ``UPDATE ... WHERE <still due>`` (SQLite serialises writers, so only one
sender's UPDATE changes the row). A claim is a lease: a sender that died mid-round leaves
its messages claimable again once ``claimed_until`` passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from callcenter.db.claiming import claim_rows
from callcenter.messages.models import CitizenMessage, MessageState


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(col(CitizenMessage.state) == MessageState.PENDING,
             col(CitizenMessage.next_attempt_at) <= now),
        and_(col(CitizenMessage.state) == MessageState.CLAIMED,
             col(CitizenMessage.claimed_until) < now),
    )


@dataclass(frozen=True)
class ClaimedMessage:
    """What a send needs, read in the claiming transaction."""

    id: int
    channel: str
    to: str
    body: str
    kind: str
    request_id: int | None
    attempts: int
    max_attempts: int


def claim_due(*, session: Session, owner: str, now: datetime, lease: timedelta,
              channels: Sequence[str], limit: int) -> list[ClaimedMessage]:
    """Claim up to ``limit`` due messages on ``channels`` for ``owner``; commits."""
    if not channels or limit <= 0:
        return []
    ids = claim_rows(
        session=session, table=CitizenMessage,
        due=and_(col(CitizenMessage.channel).in_(list(channels)), _due(now)),
        order_by=[col(CitizenMessage.next_attempt_at), col(CitizenMessage.id)], limit=limit,
        values={"state": MessageState.CLAIMED, "claimed_by": owner,
                "claimed_until": now + lease})
    claimed: list[ClaimedMessage] = []
    for message_id in ids:
        row = session.get(CitizenMessage, message_id)
        assert row is not None
        session.refresh(row)
        claimed.append(ClaimedMessage(
            id=message_id, channel=row.channel, to=row.to_address, body=row.body,
            kind=row.kind, request_id=row.request_id, attempts=row.attempts,
            max_attempts=row.max_attempts))
    session.commit()
    return claimed


def finish(*, session: Session, message_id: int, owner: str, values: dict[str, Any]) -> bool:
    """Write an outcome if ``owner`` still holds the claim; False when it was lost."""
    outcome = session.execute(
        update(CitizenMessage).where(col(CitizenMessage.id) == message_id)
        .where(col(CitizenMessage.claimed_by) == owner)
        .where(col(CitizenMessage.state) == MessageState.CLAIMED)
        .values(claimed_by=None, claimed_until=None, **values))
    return outcome.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Backlog:
    waiting: int  # pending or claimed
    oldest_created_at: datetime | None
    failed: int


def backlog(*, session: Session) -> Backlog:
    waiting_states = [MessageState.PENDING, MessageState.CLAIMED]
    waiting, oldest = session.exec(
        select(func.count(), func.min(CitizenMessage.created_at))
        .where(col(CitizenMessage.state).in_(waiting_states))).one()
    failed = session.exec(select(func.count()).where(
        CitizenMessage.state == MessageState.FAILED)).one()
    return Backlog(waiting=int(waiting), oldest_created_at=oldest, failed=int(failed))
