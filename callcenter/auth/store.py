"""Session rows: start one at login, find a live one per request, revoke on logout,
password change or a disabled account."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, or_, update

from callcenter.auth.models import StaffSession
from callcenter.auth.sessions import SESSION_MAX_AGE_SECONDS, new_csrf_token
from callcenter.users.models import User

# A dead session row (revoked, idle or past its maximum age) is kept this long for the
# record of who was signed in when, then deleted by ``prune_sessions``.
KEEP_DEAD_SESSIONS = timedelta(days=30)

# A request refreshes ``last_seen_at`` at most this often: one write a minute per user,
# not one per request (SQLite has one writer).
TOUCH_EVERY = timedelta(seconds=60)


def start_session(*, session: Session, user_id: int, now: datetime) -> StaffSession:
    row = StaffSession(id=secrets.token_urlsafe(32), user_id=user_id,
                       csrf_token=new_csrf_token(), created_at=now, last_seen_at=now)
    session.add(row)
    return row


def live_session(*, session: Session, session_id: str, now: datetime,
                 idle: timedelta) -> tuple[StaffSession, User] | None:
    """The session and its active user, or ``None`` when revoked, idle too long, too old,
    or the user is gone or disabled. Reads only (see ``touch``)."""
    row = session.get(StaffSession, session_id)
    if row is None or row.revoked_at is not None:
        return None
    if now - row.last_seen_at > idle:
        return None
    if now - row.created_at > timedelta(seconds=SESSION_MAX_AGE_SECONDS):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def touch(*, session: Session, session_id: str, now: datetime) -> bool:
    """Move ``last_seen_at`` on when it is ``TOUCH_EVERY`` old; True when written."""
    result = session.exec(
        update(StaffSession)
        .where(col(StaffSession.id) == session_id,
               col(StaffSession.last_seen_at) <= now - TOUCH_EVERY)
        .values(last_seen_at=now))
    return bool(result.rowcount)


def revoke_session(*, session: Session, session_id: str, now: datetime,
                   why: str = "logout") -> None:
    row = session.get(StaffSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at, row.revoked_why = now, why
        session.add(row)


def revoke_user_sessions(*, session: Session, user_id: int, now: datetime, why: str) -> int:
    """End every live session of ``user_id`` (password changed, account disabled)."""
    result = session.exec(
        update(StaffSession)
        .where(col(StaffSession.user_id) == user_id, col(StaffSession.revoked_at).is_(None))
        .values(revoked_at=now, revoked_why=why))
    return int(result.rowcount or 0)



def prune_sessions(*, session: Session, now: datetime, idle: timedelta,
                   keep: timedelta = KEEP_DEAD_SESSIONS) -> int:
    """Delete the session rows that have been dead for longer than ``keep``: revoked, idle
    longer than ``idle`` or past the maximum age, before ``now - keep``. A live session
    is never deleted, whatever ``keep`` is. The number deleted."""
    cutoff = now - keep
    result = session.exec(
        delete(StaffSession).where(or_(
            col(StaffSession.revoked_at) < cutoff,
            col(StaffSession.last_seen_at) < cutoff - idle,
            col(StaffSession.created_at) < cutoff - timedelta(seconds=SESSION_MAX_AGE_SECONDS),
        )))
    return int(result.rowcount or 0)
