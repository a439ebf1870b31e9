"""Capped exponential backoff arithmetic, written once: ``base * factor**(attempt-1)``.

Used by the AMI reconnect (``ami/backoff.py``, which adds jitter), the SMS retries, the
Shahrbin deliverer and the follow-up survey calls.
"""

from __future__ import annotations


def backoff_delay(*, attempt: int, base: float, cap: float | None = None,
                  factor: float = 2.0) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first):
    ``base``, ``base*factor``, ``base*factor**2`` ... at most ``cap`` when given."""
    delay = base * factor ** max(attempt - 1, 0)
    return delay if cap is None else min(cap, delay)
