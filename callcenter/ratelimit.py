"""A per-key token bucket for public endpoints (status lookups, Open311 posts).

In memory, one instance per app built by ``compose`` (never module-level). Good for
one process; several instances would each allow the rate (acceptable for enumeration
defence: the code space is 10^7 valid codes).
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import Request

from callcenter.settings import Settings


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBucketLimiter:
    """``rate_per_minute`` tokens refill per key; ``burst`` is the bucket size."""

    def __init__(
        self,
        *,
        rate_per_minute: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst if burst is not None else max(1, int(rate_per_minute)))
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when its bucket is empty."""
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(tokens=self._burst, stamp=now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.stamp) * self._rate)
        bucket.stamp = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        self._buckets[key] = bucket  # most recently used last
        while len(self._buckets) > self._max_keys:  # bounded memory under a flood of keys
            self._buckets.popitem(last=False)
        return allowed

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` has a token again (for the Retry-After header)."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.tokens >= 1.0 or self._rate == 0:
            return 0
        return max(1, int((1.0 - bucket.tokens) / self._rate + 0.999))


def client_ip(request: Request) -> str:
    """The client's address for limits and logs: the peer, unless the peer is one of
    ``settings.trusted_proxies``; then the right-most ``X-Forwarded-For`` entry that is
    not a trusted proxy (the left ones are whatever the client wrote). Trusting the
    header from anyone would let every request pick its own limiter key."""
    peer = request.client.host if request.client else "unknown"
    trusted = _networks(tuple(request.app.state.services.settings.trusted_proxies))
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, trusted):
            return hop if _parse(hop) is not None else peer
    return peer


@functools.lru_cache(maxsize=8)
def _networks(specs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network,
                                               ...]:
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
            ) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in networks)


class Limiter(Protocol):
    """A token bucket per key: this module's in memory, or ``cluster.limits``'s in the
    store (several instances)."""

    def allow(self, key: str) -> bool: ...

    def retry_after(self, key: str) -> int: ...


@dataclass(frozen=True)
class PublicLimiters:
    """The app's limiters of public endpoints, one per endpoint family."""

    status: Limiter
    open311_post: Limiter
    open311_read: Limiter

    @classmethod
    def from_settings(cls, settings: Settings) -> PublicLimiters:
        return cls(
            status=TokenBucketLimiter(rate_per_minute=settings.status_lookups_per_minute),
            open311_post=TokenBucketLimiter(rate_per_minute=settings.open311_posts_per_minute),
            open311_read=TokenBucketLimiter(rate_per_minute=settings.open311_reads_per_minute),
        )
