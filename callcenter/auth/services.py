"""Signing in and out: who the session belongs to, and the login rules."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.auth.ratelimit import LoginRateLimiter
from callcenter.auth.sessions import SessionCodec, SessionData, new_csrf_token
from callcenter.db.engine import session_scope
from callcenter.users.models import Role, User
from callcenter.users.services import authenticate


@dataclass(frozen=True)
class SignedInUser:
    """The staff member behind a valid session (a detached copy of the user row)."""

    id: int
    username: str
    full_name: str
    role: Role
    extension: str | None
    language: str
    csrf_token: str

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass
class AuthState:
    """Per-app auth machinery (built by ``compose``): the cookie codec and the login
    limiter."""

    codec: SessionCodec
    limiter: LoginRateLimiter


def signed_in_user(*, engine: Engine, session_data: SessionData | None) -> SignedInUser | None:
    """Load the active user a session cookie names, or ``None``."""
    if session_data is None:
        return None
    with Session(engine) as session:
        user = session.get(User, session_data.user_id)
        if user is None or not user.active:
            return None
        return _signed_in(user, session_data.csrf_token)


def _signed_in(user: User, csrf_token: str) -> SignedInUser:
    assert user.id is not None
    return SignedInUser(
        id=user.id, username=user.username, full_name=user.full_name, role=Role(user.role),
        extension=user.extension, language=user.language, csrf_token=csrf_token,
    )


@dataclass(frozen=True)
class LoginOutcome:
    """A login attempt: the new session, or why it was refused."""

    session: SessionData | None = None
    user: SignedInUser | None = None
    retry_after: float = 0.0


def log_in(
    *, engine: Engine, limiter: LoginRateLimiter, username: str, password: str, client: str
) -> LoginOutcome:
    """Check the limiter, then the password (argon2); a success starts a fresh session."""
    keys = (f"user:{username.strip().lower()}", f"ip:{client}")
    wait = limiter.retry_after(*keys)
    if wait > 0:
        return LoginOutcome(retry_after=wait)
    with session_scope(engine) as session:
        user = authenticate(session=session, username=username, password=password)
        if user is None:
            limiter.failed(*keys)
            return LoginOutcome()
        data = SessionData(user_id=user.id, csrf_token=new_csrf_token())  # type: ignore[arg-type]
        signed_in = _signed_in(user, data.csrf_token)
    limiter.succeeded(keys[0])
    return LoginOutcome(session=data, user=signed_in)
