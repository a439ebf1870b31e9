"""Signing in and out: who the session belongs to, and the login rules."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from callcenter.auth.ratelimit import LoginLimiter
from callcenter.auth.sessions import SessionCodec
from callcenter.auth.store import (
    TOUCH_EVERY,
    live_session,
    prune_sessions,
    revoke_session,
    start_session,
    touch,
)
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope, short_lock_wait
from callcenter.users.models import Role, User
from callcenter.users.services import authenticate

TOUCH_LOCK_WAIT_SECONDS = 0.2
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedInUser:
    """The staff member behind a live session (a detached copy of the user row)."""

    id: int
    username: str
    full_name: str
    role: Role
    extension: str | None
    language: str
    csrf_token: str
    session_id: str = ""

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass
class AuthState:
    """Per-app auth machinery (built by ``compose``): the cookie codec, the login
    limiter, the idle timeout."""

    codec: SessionCodec
    limiter: LoginLimiter
    idle: timedelta


def signed_in_user(*, engine: Engine, session_id: str | None, idle: timedelta
                   ) -> SignedInUser | None:
    """The active user of the live session ``session_id``, or ``None`` (no cookie,
    revoked, idle past ``idle``, too old, or the user disabled)."""
    if session_id is None:
        return None
    now = utcnow()
    with Session(engine) as session:
        found = live_session(session=session, session_id=session_id, now=now, idle=idle)
        if found is None:
            return None
        row, user = found
        signed_in = _signed_in(user, row.csrf_token, row.id)
        if now - row.last_seen_at >= TOUCH_EVERY:
            _touch(session, session_id, now)
    return signed_in


def _touch(session: Session, session_id: str, now: datetime) -> None:
    """Best effort: with the store's write lock held elsewhere a page still answers (the
    idle clock moves on at the next request instead)."""
    try:
        with short_lock_wait(session, TOUCH_LOCK_WAIT_SECONDS):
            touch(session=session, session_id=session_id, now=now)
        session.commit()
    except OperationalError:
        session.rollback()
        log.info("session touch skipped: the store is busy")


def _signed_in(user: User, csrf_token: str, session_id: str) -> SignedInUser:
    assert user.id is not None
    return SignedInUser(
        id=user.id, username=user.username, full_name=user.full_name, role=Role(user.role),
        extension=user.extension, language=user.language, csrf_token=csrf_token,
        session_id=session_id,
    )


@dataclass(frozen=True)
class LoginOutcome:
    """A login attempt: the new session, or why it was refused."""

    user: SignedInUser | None = None
    retry_after: float = 0.0


def log_in(
    *, engine: Engine, limiter: LoginLimiter, username: str, password: str, client: str
) -> LoginOutcome:
    """Take a limiter slot, then check the password (argon2); a success starts a fresh
    session row. The slot is taken *before* the check, so concurrent guesses cannot all
    pass a "not yet limited" test (check-then-act)."""
    user_key, source_key = f"user:{username.strip().lower()}", f"ip:{client}"
    wait = limiter.attempt(source_key=source_key, user_key=user_key)
    if wait > 0:
        return LoginOutcome(retry_after=wait)
    with session_scope(engine) as session:
        user = authenticate(session=session, username=username, password=password)
        if user is None:
            return LoginOutcome()
        assert user.id is not None
        row = start_session(session=session, user_id=user.id, now=utcnow())
        signed_in = _signed_in(user, row.csrf_token, row.id)
    limiter.succeeded(source_key=source_key, user_key=user_key)
    return LoginOutcome(user=signed_in)


def log_out(*, engine: Engine, session_id: str) -> None:
    with session_scope(engine) as session:
        revoke_session(session=session, session_id=session_id, now=utcnow())


def prune_dead_sessions(*, engine: Engine, idle: timedelta) -> int:
    """The scheduler's hourly job: session rows dead for 30 days are deleted."""
    with session_scope(engine) as session:
        pruned = prune_sessions(session=session, now=utcnow(), idle=idle)
    if pruned:
        log.info("pruned %d dead staff sessions", pruned)
    return pruned
