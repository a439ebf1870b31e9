"""Opening hours in Asia/Tehran: Fridays, Jalali holidays, the daily window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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


# -- the maintained calendar (``holidays`` package, IR) with local changes ---------------

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("day", "jalali", "name"), [
    ((2026, 6, 25), "1405-04-04", "Ashura"),
    ((2026, 11, 13), "1405-08-22", "Martyrdom of Fatima"),
    ((2027, 6, 16), "1406-03-26", "Ashura"),  # computed: the lunar date moved 9 days
    ((2027, 11, 3), "1406-08-12", "Martyrdom of Fatima"),
])
def test_lunar_holidays_of_1405_and_1406_come_from_the_package(
        day: tuple[int, int, int], jalali: str, name: str) -> None:
    from callcenter.reference.hours import jalali_key
    assert jalali_key(date(*day))[0] == jalali
    assert name in (hours().holidays.name_of(date(*day)) or "")
    # a year later the same Jalali day is an ordinary day: the package moved the holiday
    later = date(*day) + timedelta(days=365)
    assert name not in (hours().holidays.name_of(later) or "")


def test_a_lunar_holiday_on_a_weekday_closes_the_centre() -> None:
    assert hours().why_closed(at(2027, 11, 3, 10)) == "holiday"  # Wednesday, Fatima 1406
    assert hours().is_open(at(2027, 11, 2, 10))  # the Tuesday before


def test_a_local_addition_and_a_removal(tmp_path: Path) -> None:
    cal = Holidays.load(write(tmp_path, (
        'version: 2\ncountry: IR\nadd:\n  - {date: "1405-09-12", en: closure}\n'
        '  - {date: "07-01", en: city day}\nremove:\n  - {date: "1405-04-04"}\n')))
    assert cal.name_of(date(2026, 12, 3)) == "local"  # 1405-09-12, announced closure
    assert cal.is_holiday(date(2026, 9, 23)) and cal.is_holiday(date(2027, 9, 23))  # 07-01
    assert not cal.is_holiday(date(2026, 6, 25))  # Ashura 1405 removed: the city works
    assert cal.is_holiday(date(2027, 6, 16))  # ... Ashura 1406 is still closed
    assert not Holidays.load().is_holiday(date(2026, 12, 3))  # shipped file: no additions


def test_country_null_means_no_official_days(tmp_path: Path) -> None:
    cal = Holidays.load(write(tmp_path, "version: 2\ncountry: null\n"))
    assert not cal.is_holiday(date(2026, 3, 21))  # even Nowruz


def test_an_unknown_country_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="holidays"):
        Holidays.load(write(tmp_path, "version: 2\ncountry: XX\n"))


def test_working_time_skips_nights_fridays_and_a_lunar_holiday() -> None:
    h = hours()  # 08:00-20:00
    # Wednesday 2026-06-24 is Tasua, Thursday 25 Ashura, Friday 26: all closed.
    # From Tuesday 23 June 18:00, 4 working hours: 2 on Tuesday, then Saturday 08-10.
    start = at(2026, 6, 23, 18)
    assert h.add_working_time(start, timedelta(hours=4)) == at(2026, 6, 27, 10)
    # calendar hours would have ended on Tuesday 22:00
    assert h.working_days(date(2026, 6, 20), date(2026, 6, 26)) == 4  # Sat-Tue


def test_working_time_starting_before_opening_counts_from_opening() -> None:
    assert hours().add_working_time(at(2026, 11, 28, 6), timedelta(hours=1)) == \
        at(2026, 11, 28, 9)
