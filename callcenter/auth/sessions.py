"""Signed session cookies (itsdangerous over ``settings.secret_key``) and CSRF tokens.

The cookie holds only the id of a session row (``auth.models.StaffSession``), signed and
timestamped; the row and the user are read again on every request and websocket, so a
logout, a password change, a deactivated account or a changed role takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from callcenter.settings import Settings

SESSION_COOKIE = "cc_session"
LOGIN_CSRF_COOKIE = "cc_login_csrf"
SESSION_MAX_AGE_SECONDS = 12 * 3600
LOGIN_CSRF_MAX_AGE_SECONDS = 3600


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class SessionCodec:
    """Signs and reads the session and login-CSRF cookies with the app's secret key."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.secret_key.get_secret_value()
        self._sessions = URLSafeTimedSerializer(secret, salt="callcenter.session")
        self._login = URLSafeTimedSerializer(secret, salt="callcenter.login-csrf")
        self._secure = settings.environment == "production"

    def encode(self, session_id: str) -> str:
        return self._sessions.dumps({"sid": session_id})

    def decode(self, cookie: str | None) -> str | None:
        """The session id in ``cookie``; ``None`` when absent, forged, malformed or
        expired (whether the session still lives is the store's answer)."""
        if not cookie:
            return None
        try:
            raw = self._sessions.loads(cookie, max_age=SESSION_MAX_AGE_SECONDS)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        sid = raw.get("sid")
        return sid if isinstance(sid, str) and 0 < len(sid) <= 64 else None

    def set_session(self, response: Response, session_id: str) -> None:
        response.set_cookie(
            SESSION_COOKIE, self.encode(session_id), max_age=SESSION_MAX_AGE_SECONDS,
            httponly=True, samesite="lax", secure=self._secure, path="/",
        )

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=self._secure
        )

    def set_login_csrf(self, response: Response, token: str) -> None:
        """The double-submit cookie for the login form (no session exists yet)."""
        response.set_cookie(
            LOGIN_CSRF_COOKIE, self._login.dumps(token), max_age=LOGIN_CSRF_MAX_AGE_SECONDS,
            httponly=True, samesite="lax", secure=self._secure, path="/login",
        )

    def read_login_csrf(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            token = self._login.loads(cookie, max_age=LOGIN_CSRF_MAX_AGE_SECONDS)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None
