"""Signed, expiring links to media paths: ``<path>?exp=<unix seconds>&sig=<hex>``.

The signature is HMAC-SHA256 over ``"<path>\\n<exp>"`` with ``media_link_secret`` (a
placeholder secret is refused in production, like every secret setting). Whoever holds
the link may fetch that one path until it expires, without an account: what a
department needs to listen to a recording from Shahrbin. Generic over paths, so photos
or any other media can be linked the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from callcenter.media.exceptions import BadLink
from callcenter.settings import Settings


@dataclass(frozen=True)
class LinkSigner:
    secret: bytes
    ttl_seconds: float
    base_url: str = ""
    clock: Callable[[], float] = time.time

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkSigner:
        return cls(secret=settings.media_link_secret.get_secret_value().encode(),
                   ttl_seconds=settings.media_link_ttl_hours * 3600,
                   base_url=settings.public_base_url.rstrip("/"))

    def signature(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def sign(self, path: str, *, ttl_seconds: float | None = None) -> str:
        """The absolute link to ``path`` (which starts with ``/``), valid for the TTL."""
        if not path.startswith("/"):
            raise ValueError(f"a media path starts with '/': {path!r}")
        expires = int(self.clock() + (self.ttl_seconds if ttl_seconds is None else ttl_seconds))
        query = urlencode({"exp": expires, "sig": self.signature(path, expires)})
        return f"{self.base_url}{path}?{query}"

    def verify(self, path: str, *, exp: str | None, sig: str | None) -> None:
        """Raise ``BadLink`` unless ``sig`` signs ``path`` until ``exp``, not yet past."""
        if not exp or not sig or not (sig + exp).isascii() or not exp.isdigit() \
                or len(exp) > 12:
            raise BadLink("the link is incomplete")
        if not hmac.compare_digest(self.signature(path, int(exp)), sig.lower()):
            raise BadLink("the link's signature is wrong")
        if int(exp) < self.clock():
            raise BadLink("the link has expired", expired_at=int(exp))


def recording_link_path(code: str) -> str:
    """The public path a signed recording link points at."""
    return f"/media/recordings/{code}"


def recording_link(signer: LinkSigner, code: str) -> str:
    return signer.sign(recording_link_path(code))
