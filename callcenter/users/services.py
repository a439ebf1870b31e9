"""Staff accounts: create, authenticate (argon2id password hashes)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from callcenter.errors import Conflict, InvalidInput
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

