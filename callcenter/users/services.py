"""Staff accounts: create, change password, disable, authenticate (argon2id hashes)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from callcenter.auth.store import revoke_user_sessions
from callcenter.clock import utcnow
from callcenter.errors import Conflict, InvalidInput, NotFound
from callcenter.users.models import Role, User

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role | str,
    extension: str | None = None,
    full_name: str = "",
) -> User:
    """Add a staff member; an agent needs the extension their phone rings on."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}", role=str(role)) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role == Role.AGENT and not extension:
        raise InvalidInput("an agent needs an extension")
    user = User(
        username=username.strip(), full_name=full_name, role=role, extension=extension or None,
        password_hash=hash_password(password),
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict("username or extension already taken", username=username) from None
    return user


def _user_named(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise NotFound(f"no user {username!r}", username=username)
    return user


def change_password(*, session: Session, username: str, password: str) -> User:
    """A new password; every session of the user ends (a thief's copy included)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = _user_named(session, username)
    user.password_hash = hash_password(password)
    session.add(user)
    assert user.id is not None
    revoke_user_sessions(session=session, user_id=user.id, now=utcnow(), why="password")
    return user


def set_active(*, session: Session, username: str, active: bool) -> User:
    """Enable or disable an account; disabling ends every session at once."""
    user = _user_named(session, username)
    user.active = active
    session.add(user)
    assert user.id is not None
    if not active:
        revoke_user_sessions(session=session, user_id=user.id, now=utcnow(), why="disabled")
    return user


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active:
        _HASHER.hash(password)  # same cost either way: no user enumeration by timing
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user

