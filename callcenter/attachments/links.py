"""Signed links to attachment files: what Shahrbin, Open311 clients and agents follow.

A link names the attachment id, signed with the app's ``secret_key`` (itsdangerous,
salt of its own) and dated; it is refused once older than ``max_age``. Nobody can reach
another file by changing the id: the signature covers it.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

LINK_PATH = "/attachments/"
SHAHRBIN_LINK_DAYS = 90  # the department opens the photo days after filing


class AttachmentLinks:
    def __init__(self, *, secret_key: str, public_base_url: str) -> None:
        self._signer = URLSafeTimedSerializer(secret_key, salt="callcenter.attachment")
        self.base = public_base_url.rstrip("/")

    def token(self, attachment_id: int) -> str:
        return self._signer.dumps(attachment_id)

    def url(self, attachment_id: int) -> str:
        return f"{self.base}{LINK_PATH}{self.token(attachment_id)}"

    def path(self, attachment_id: int) -> str:
        return f"{LINK_PATH}{self.token(attachment_id)}"

    def resolve(self, token: str, *, max_age_seconds: int) -> int | None:
        """The attachment id of a genuine, unexpired token, else None."""
        try:
            value = self._signer.loads(token, max_age=max_age_seconds)
        except BadSignature:  # includes SignatureExpired
            return None
        return value if isinstance(value, int) else None
