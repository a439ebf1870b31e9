"""Login attempt limiting per client address and per username (sliding windows).

Two rules, because one key alone fails one way or the other:

* per source (``ip:<address>``): ``max_failures`` guesses per window, then wait out the
  window - one address cannot guess more, whatever names it tries;
* per user (``user:<name>``): a larger budget (``user_max_failures``) against guesses
  spread over many addresses, but its lockout is *capped* (``user_lockout_cap``), so
  anyone who knows a username cannot lock its owner out for the whole window.

``attempt`` takes a slot *before* the password is checked, under a lock: concurrent
requests cannot all pass a "not limited yet" test and then fail (check-then-act).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class LoginLimiter(Protocol):
    """This module's limiter, or ``cluster.limits.StoreLoginLimiter`` (several instances)."""

    def attempt(self, *, source_key: str, user_key: str) -> float: ...

    def succeeded(self, *, source_key: str, user_key: str) -> None: ...


class LoginRateLimiter:
    """One instance per app (``Services.auth``, built by ``compose``), never module-level."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_seconds: float = 300.0,
        user_max_failures: int | None = None,
        user_lockout_cap: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self._max = max_failures
        self._user_max = user_max_failures or max_failures * 4
        self._window = window_seconds
        self._user_cap = user_lockout_cap
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # log_in runs in worker threads

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and now - stamps[0] > self._window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def _wait(self, key: str, limit: int, now: float, cap: float | None = None) -> float:
        """Until the oldest of the last ``limit`` stamps leaves the window; with ``cap``,
        at most ``cap`` seconds after the last stamp."""
        stamps = self._recent(key, now)
        if len(stamps) < limit:
            return 0.0
        until = stamps[-limit] + self._window
        if cap is not None:
            until = min(until, stamps[-1] + cap)
        return max(until - now, 0.0)

    def attempt(self, *, source_key: str, user_key: str) -> float:
        """Seconds to wait before trying (nothing recorded), or 0 and the attempt counted
        as a failure until ``succeeded`` says otherwise."""
        with self._lock:
            now = self._clock()
            wait = max(self._wait(source_key, self._max, now),
                       self._wait(user_key, self._user_max, now, self._user_cap))
            if wait > 0:
                return wait
            if len(self._failures) >= self._max_keys:
                for key in list(self._failures)[: self._max_keys // 10]:
                    del self._failures[key]  # bounded memory under a spray of names
            for key in (source_key, user_key):
                self._failures.setdefault(key, deque()).append(now)
            return 0.0

    def succeeded(self, *, source_key: str, user_key: str) -> None:
        """The password was right: the user's count clears, the source's slot returns."""
        with self._lock:
            self._failures.pop(user_key, None)
            stamps = self._failures.get(source_key)
            if stamps:
                stamps.pop()
