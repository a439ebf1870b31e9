"""Login attempt limiting per username and per client address (sliding window)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class LoginRateLimiter:
    """At most ``max_failures`` failed logins per key within ``window_seconds``.

    Keys are ``user:<name>`` and ``ip:<address>``; a success clears the username key.
    One instance per app (``Services.auth``, built by ``compose``), never module-level.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and now - stamps[0] > self._window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def retry_after(self, *keys: str) -> float:
        """Seconds until any of ``keys`` may try again; 0 when all are allowed."""
        wait = 0.0
        for key in keys:
            stamps = self._recent(key)
            if len(stamps) >= self._max:
                wait = max(wait, self._window - (self._clock() - stamps[0]))
        return wait

    def failed(self, *keys: str) -> None:
        if len(self._failures) >= self._max_keys:
            for key in list(self._failures)[: self._max_keys // 10]:
                del self._failures[key]  # bounded memory under a spray of names
        for key in keys:
            self._failures.setdefault(key, deque()).append(self._clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
