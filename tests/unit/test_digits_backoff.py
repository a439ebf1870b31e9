"""The shared helpers: one digit table, one backoff formula."""

from __future__ import annotations

from callcenter.backoff import backoff_delay
from callcenter.digits import ascii_digits, persian_digits


def test_digits_both_ways() -> None:
    """Tried: Persian and Arabic-Indic digits typed by citizens, and ASCII for an SMS;
    expect 0-9 one way and Persian digits the other, other characters untouched."""
    assert ascii_digits("۰۹۱۳ ٠١٢-x") == "0913 012-x"
    assert persian_digits("کد 1234-5") == "کد ۱۲۳۴-۵"


def test_backoff_doubles_from_base_and_stops_at_the_cap() -> None:
    """Tried: attempts 1..5 with base 5 s, cap 30 s; expect 5, 10, 20, 30, 30."""
    assert [backoff_delay(attempt=n, base=5, cap=30) for n in range(1, 6)] == [5, 10, 20, 30,
                                                                                 30]
    assert backoff_delay(attempt=0, base=2) == 2  # never below base
    assert backoff_delay(attempt=3, base=1, factor=3) == 9
