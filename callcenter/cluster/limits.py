"""The rate limiters in the store, so every instance counts against one budget (issue
19): the public token buckets (status page, Open311) and the login limiter's two rules.
Same interfaces as ``callcenter.ratelimit.TokenBucketLimiter`` and
``callcenter.auth.ratelimit.LoginRateLimiter``; PostgreSQL only (SQLite is one process
and keeps the in-memory ones). Clocks are wall time (``time.time``): instances compare
stamps, so their clocks must be NTP-synchronised.

Why the store and not Redis: these are low rates (a login, a status lookup), one short
statement each, and the store is already what every instance must reach; Redis would
be one more service to run and to watch for the same answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

TAKE = text(
    "INSERT INTO rate_bucket (key, tokens, stamp, allowed) VALUES (:key, :burst - 1, :now,"
    " true) ON CONFLICT (key) DO UPDATE SET"
    " tokens = LEAST(:burst, rate_bucket.tokens + (:now - rate_bucket.stamp) * :rate)"
    "  - CASE WHEN LEAST(:burst, rate_bucket.tokens + (:now - rate_bucket.stamp) * :rate)"
    "  >= 1 THEN 1 ELSE 0 END,"
    " allowed = LEAST(:burst, rate_bucket.tokens + (:now - rate_bucket.stamp) * :rate) >= 1,"
    " stamp = :now RETURNING allowed, tokens")


class StoreTokenBucket:
    """``rate_per_minute`` tokens refill per key; ``burst`` is the bucket size."""

    def __init__(self, *, engine: Engine, family: str, rate_per_minute: float,
                 burst: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.family = family
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst if burst is not None else max(1, int(rate_per_minute)))
        self._clock = clock

    def _key(self, key: str) -> str:
        return f"{self.family}:{key}"[:200]

    def allow(self, key: str) -> bool:
        with self.engine.begin() as conn:
            allowed, _tokens = conn.execute(TAKE, {
                "key": self._key(key), "burst": self._burst, "now": self._clock(),
                "rate": self._rate}).one()
        return bool(allowed)

    def retry_after(self, key: str) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT tokens, stamp FROM rate_bucket WHERE key = :key"),
                               {"key": self._key(key)}).first()
        if row is None or self._rate == 0:
            return 0
        tokens = min(self._burst, row[0] + (self._clock() - row[1]) * self._rate)
        return 0 if tokens >= 1 else max(1, int((1.0 - tokens) / self._rate + 0.999))

    def prune(self, older_than_seconds: float = 3600.0) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(text(
                "DELETE FROM rate_bucket WHERE key LIKE :family AND stamp < :before"),
                {"family": f"{self.family}:%", "before": self._clock() - older_than_seconds})
        return int(result.rowcount or 0)


class StoreLoginLimiter:
    """``LoginRateLimiter``'s rules over ``login_failure``: ``max_failures`` per source
    per window; ``user_max_failures`` per username with its lockout capped. ``attempt``
    takes both keys' transaction-level advisory locks first: concurrent attempts on two
    instances cannot both pass a "not limited yet" check."""

    def __init__(self, *, engine: Engine, max_failures: int = 5, window_seconds: float = 300.0,
                 user_max_failures: int | None = None, user_lockout_cap: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._max = max_failures
        self._user_max = user_max_failures or max_failures * 4
        self._window = window_seconds
        self._user_cap = user_lockout_cap
        self._clock = clock

    def _wait(self, conn: object, key: str, limit: int, now: float,
              cap: float | None = None) -> float:
        stamps = [row[0] for row in conn.execute(text(  # type: ignore[attr-defined]
            "SELECT at FROM login_failure WHERE key = :key AND at > :after"
            " ORDER BY at DESC LIMIT :limit"),
            {"key": key, "after": now - self._window, "limit": limit}).all()]
        if len(stamps) < limit:
            return 0.0
        until = stamps[-1] + self._window  # the oldest of the last ``limit``
        if cap is not None:
            until = min(until, stamps[0] + cap)
        return max(until - now, 0.0)

    def attempt(self, *, source_key: str, user_key: str) -> float:
        now = self._clock()
        with self.engine.begin() as conn:
            for key in sorted((source_key, user_key)):  # one order: no deadlock
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                             {"key": key})
            wait = max(self._wait(conn, source_key, self._max, now),
                       self._wait(conn, user_key, self._user_max, now, self._user_cap))
            if wait > 0:
                return wait
            conn.execute(text("INSERT INTO login_failure (key, at) VALUES (:s, :now),"
                              " (:u, :now)"), {"s": source_key, "u": user_key, "now": now})
            conn.execute(text("DELETE FROM login_failure WHERE key IN (:s, :u)"
                              " AND at < :before"),
                         {"s": source_key, "u": user_key, "before": now - self._window})
        return 0.0

    def succeeded(self, *, source_key: str, user_key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM login_failure WHERE key = :u"), {"u": user_key})
            conn.execute(text(
                "DELETE FROM login_failure WHERE id = (SELECT max(id) FROM login_failure"
                " WHERE key = :s)"), {"s": source_key})
