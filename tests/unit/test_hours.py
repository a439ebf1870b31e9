"""Opening hours in Asia/Tehran: Fridays, Jalali holidays, the daily window."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.reference.hours import Holidays, Hours
from callcenter.reference.services import ReferenceDataError

TEHRAN = ZoneInfo("Asia/Tehran")


def hours(**kw: object) -> Hours:
    return Hours(zone=TEHRAN, opens=time(8), closes=time(20), holidays=Holidays.load(),
                 **kw)  # type: ignore[arg-type]


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TEHRAN)


def test_window_on_a_saturday() -> None:
    h = hours()
    assert not h.is_open(at(2026, 11, 28, 7, 59))
    assert h.is_open(at(2026, 11, 28, 8, 0))
    assert h.is_open(at(2026, 11, 28, 19, 59))
    assert h.why_closed(at(2026, 11, 28, 20, 0)) == "outside-hours"


def test_utc_moment_is_read_in_tehran() -> None:
    # 05:00 UTC is 08:30 in Tehran (UTC+3:30)
    assert hours().is_open(datetime(2026, 11, 28, 5, 0, tzinfo=UTC))
    assert not hours().is_open(datetime(2026, 11, 28, 4, 0, tzinfo=UTC))


def test_friday_closed_unless_configured() -> None:
    friday = at(2026, 11, 27, 10)
    assert hours().why_closed(friday) == "friday"
    assert hours(open_on_friday=True).is_open(friday)


@pytest.mark.parametrize("day", [(2026, 3, 21), (2026, 4, 2), (2027, 2, 11)])
def test_yearly_jalali_holidays(day: tuple[int, int, int]) -> None:
    """1 Farvardin (Nowruz), 13 Farvardin, 22 Bahman fall on these Gregorian days."""
    assert hours().why_closed(at(*day, 10)) == "holiday"


def test_broken_holiday_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "holidays.yaml"
    bad.write_text("yearly: [{nodate: 1}]")
    with pytest.raises(ReferenceDataError, match=str(bad)):
        Holidays.load(bad)
