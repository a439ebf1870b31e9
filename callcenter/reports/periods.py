"""Jalali report periods and their buckets, as UTC instants of local midnights.

Every bound is a local midnight in the configured zone (Asia/Tehran), converted to the
UTC instant the store compares with: stored times are UTC, people think in local days.
A Jalali week starts on Saturday; a Jalali month ends on its 29th, 30th or 31st (Esfand
has 30 days in a leap year), which ``jdatetime`` knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import jdatetime

from callcenter.errors import InvalidInput
from callcenter.stats.services import day_bounds, local_day

_JALALI_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_JALALI_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
MAX_PERIOD_DAYS = 3 * 366  # a longer range is a mistake, not a report


class Preset(StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    THIS_WEEK = "this_week"
    LAST_WEEK = "last_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_YEAR = "this_year"
    CUSTOM = "custom"


class Granularity(StrEnum):
    HOUR = "hour"  # hour of day (0-23), summed over the period's days
    DAY = "day"
    WEEK = "week"  # Jalali week, Saturday to Friday
    MONTH = "month"  # Jalali month


@dataclass(frozen=True)
class Period:
    """Local days ``first`` .. ``last`` (both included) and their UTC bounds."""

    first: date
    last: date
    timezone: str

    @property
    def start(self) -> datetime:
        return day_bounds(self.first, self.timezone)[0]

    @property
    def end(self) -> datetime:
        return day_bounds(self.last, self.timezone)[1]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def shifted(self, periods: int) -> Period:
        """The period of the same length ``periods`` lengths earlier (negative: earlier)."""
        offset = timedelta(days=self.days * periods)
        return Period(self.first + offset, self.last + offset, self.timezone)

    def label(self) -> str:
        return f"{jalali(self.first)} - {jalali(self.last)}"


@dataclass(frozen=True)
class Bucket:
    """One column of a time series: ``key`` is stable (``1405-09``, ``1405-09-01``, ``13``)."""

    key: str
    start: datetime | None  # None for hour-of-day buckets (they are not one range)
    end: datetime | None


def jalali(day: date) -> str:
    """``2026-11-22`` -> ``1405-09-01``."""
    return jdatetime.date.fromgregorian(date=day).strftime("%Y-%m-%d")


def parse_jalali(text: str) -> date:
    """``1405/09/01`` or ``1405-09-01`` -> the Gregorian date; a clear error otherwise."""
    found = _JALALI_DATE.match(text.strip())
    if not found:
        raise InvalidInput(f"not a Jalali date (YYYY-MM-DD): {text!r}", value=text)
    year, month, day = (int(part) for part in found.groups())
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError as exc:
        raise InvalidInput(f"no such Jalali date {text!r}: {exc}", value=text) from None


def month_period(text: str, timezone: str) -> Period:
    """``1405-09`` -> the whole Jalali month."""
    found = _JALALI_MONTH.match(text.strip())
    if not found:
        raise InvalidInput(f"not a Jalali month (YYYY-MM): {text!r}", value=text)
    year, month = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        raise InvalidInput(f"no such Jalali month {text!r}", value=text)
    first = jdatetime.date(year, month, 1)
    return Period(first.togregorian(), _month_last(first).togregorian(), timezone)


def _month_last(first: jdatetime.date) -> jdatetime.date:
    following = (jdatetime.date(first.year + 1, 1, 1) if first.month == 12
                 else jdatetime.date(first.year, first.month + 1, 1))
    return following - timedelta(days=1)


def _week_first(day: date) -> date:
    # Python: Monday=0 .. Saturday=5; a Jalali week starts on Saturday.
    return day - timedelta(days=(day.weekday() - 5) % 7)


def preset_period(preset: Preset, *, now: datetime, timezone: str,
                  first: str | None = None, last: str | None = None) -> Period:
    """The period a preset names at ``now`` (custom: ``first``/``last`` Jalali dates)."""
    today = local_day(now, timezone)
    jtoday = jdatetime.date.fromgregorian(date=today)
    if preset == Preset.CUSTOM:
        if not first or not last:
            raise InvalidInput("a custom period needs both 'from' and 'to' Jalali dates")
        period = Period(parse_jalali(first), parse_jalali(last), timezone)
        if period.last < period.first:
            raise InvalidInput("'to' is before 'from'", first=first, last=last)
        if period.days > MAX_PERIOD_DAYS:
            raise InvalidInput(f"a period may span at most {MAX_PERIOD_DAYS} days")
        return period
    if preset == Preset.TODAY:
        return Period(today, today, timezone)
    if preset == Preset.YESTERDAY:
        yesterday = today - timedelta(days=1)
        return Period(yesterday, yesterday, timezone)
    if preset in (Preset.THIS_WEEK, Preset.LAST_WEEK):
        start = _week_first(today) - timedelta(days=7 if preset == Preset.LAST_WEEK else 0)
        return Period(start, start + timedelta(days=6), timezone)
    if preset == Preset.THIS_MONTH:
        return month_period(f"{jtoday.year}-{jtoday.month}", timezone)
    if preset == Preset.LAST_MONTH:
        earlier = jdatetime.date(jtoday.year, jtoday.month, 1) - timedelta(days=1)
        return month_period(f"{earlier.year}-{earlier.month}", timezone)
    year_first = jdatetime.date(jtoday.year, 1, 1).togregorian()
    year_last = jdatetime.date(jtoday.year + 1, 1, 1).togregorian() - timedelta(days=1)
    return Period(year_first, year_last, timezone)


def _month_days(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


def _jalali_days(first: date, last: date) -> list[tuple[date, int, int, int]]:
    """``(day, jalali year, month, day)`` for each day, counted on from one conversion
    (``jdatetime`` converts slowly, and a year has 365 days to label)."""
    j = jdatetime.date.fromgregorian(date=first)
    year, month, day = j.year, j.month, j.day
    found = []
    for offset in range((last - first).days + 1):
        found.append((first + timedelta(days=offset), year, month, day))
        day += 1
        if day > _month_days(year, month):
            day, month = 1, month + 1
            if month > 12:
                month, year = 1, year + 1
    return found


def buckets(period: Period, granularity: Granularity) -> list[Bucket]:
    """The period cut into buckets; the first and last may be partial weeks or months."""
    if granularity == Granularity.HOUR:
        return [Bucket(f"{hour:02d}", None, None) for hour in range(24)]
    starts: list[tuple[date, str]] = []
    for day, year, month, jday in _jalali_days(period.first, period.last):
        if (day == period.first or granularity == Granularity.DAY
                or (granularity == Granularity.WEEK and day.weekday() == 5)
                or (granularity == Granularity.MONTH and jday == 1)):
            key = (f"{year:04d}-{month:02d}" if granularity == Granularity.MONTH
                   else f"{year:04d}-{month:02d}-{jday:02d}")
            starts.append((day, key))
    ends = [day for day, _ in starts[1:]] + [period.last + timedelta(days=1)]
    return [Bucket(key, day_bounds(start, period.timezone)[0],
                   day_bounds(end, period.timezone)[0])
            for (start, key), end in zip(starts, ends, strict=True)]
