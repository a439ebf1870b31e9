"""Capped exponential backoff for reconnecting to Asterisk."""

from __future__ import annotations

import random
from collections.abc import Callable

from callcenter.backoff import backoff_delay


class Backoff:
    """``base * factor**attempt`` seconds, capped at ``cap``, with optional jitter.

    ``jitter`` is the fraction of the delay that may be taken off at random, so many
    bridges restarted together do not hammer Asterisk in step.
    """

    def __init__(
        self,
        *,
        base: float = 0.5,
        factor: float = 2.0,
        cap: float = 30.0,
        jitter: float = 0.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if base <= 0 or factor < 1 or cap < base or not 0 <= jitter < 1:
            raise ValueError("backoff needs base > 0, factor >= 1, cap >= base, 0 <= jitter < 1")
        self.base = base
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self._rand = rand
        self.attempts = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; counts the attempt."""
        delay = backoff_delay(attempt=self.attempts + 1, base=self.base, cap=self.cap,
                              factor=self.factor)
        self.attempts += 1
        if self.jitter:
            delay -= delay * self.jitter * self._rand()
        return delay

    def reset(self) -> None:
        """A connection succeeded: start again from ``base`` next time."""
        self.attempts = 0
