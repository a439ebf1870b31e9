"""The one calendar of the contact center (Asia/Tehran): opening hours, calling hours,
working-hours deadlines and the reports all read it.

* Weekdays Saturday-Thursday; Friday closed unless configured.
* Official holidays of Iran from the maintained ``holidays`` package (country ``IR``:
  solar and lunar holidays, computed per year, so the lunar ones need no yearly edit).
* ``config/reference/holidays.yaml`` keeps only local changes: ``add`` (a closure the
  government or the city announces, Jalali ``YYYY-MM-DD``, or ``MM-DD`` every year) and
  ``remove`` (an official holiday the city works, Jalali ``YYYY-MM-DD``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
import jdatetime
import yaml

from callcenter.locations import find_config
from callcenter.reference.services import ReferenceDataError

FRIDAY = 4  # datetime.weekday()
OFFICIAL_COUNTRY = "IR"


def jalali_key(day: date) -> tuple[str, str]:
    """``("YYYY-MM-DD", "MM-DD")`` of ``day`` in the Jalali calendar."""
    jalali = jdatetime.date.fromgregorian(date=day)
    month_day = f"{jalali.month:02d}-{jalali.day:02d}"
    return f"{jalali.year:04d}-{month_day}", month_day


def _dates(rows: object, *, key: str, path: Path) -> frozenset[str]:
    if rows is None:
        return frozenset()
    if not isinstance(rows, list):
        raise ReferenceDataError(f"{path}: `{key}` must be a list")
    return frozenset(str(row["date"]) for row in rows)


@dataclass(frozen=True)
class Holidays:
    """Closed days: the official calendar of ``country`` (``None``: none) plus local
    additions (``yearly`` Jalali ``MM-DD``, ``dated`` Jalali ``YYYY-MM-DD``) minus
    ``removed`` (Jalali ``YYYY-MM-DD``)."""

    yearly: frozenset[str]
    dated: frozenset[str]
    removed: frozenset[str] = frozenset()
    country: str | None = None
    # Official days per Gregorian year, computed once per instance (not module state).
    _years: dict[int, dict[date, str]] = field(default_factory=dict, compare=False,
                                               repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Holidays:
        """``path`` defaults to the first ``reference/holidays.yaml`` of the search order.

        Version 1 files (``yearly``/``dated`` only) are read as before, with no official
        calendar; version 2 adds the ``country`` calendar (default ``IR``)."""
        path = path or find_config("reference/holidays.yaml")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            version = int(data.get("version", 1))
            if version == 1:
                return cls(yearly=_dates(data.get("yearly"), key="yearly", path=path),
                           dated=_dates(data.get("dated"), key="dated", path=path))
            added = _dates(data.get("add"), key="add", path=path)
            country = data.get("country", OFFICIAL_COUNTRY)
            holidays = cls(
                yearly=frozenset(d for d in added if len(d) == 5),
                dated=frozenset(d for d in added if len(d) == 10),
                removed=_dates(data.get("remove"), key="remove", path=path),
                country=str(country) if country else None)
            if len(holidays.yearly) + len(holidays.dated) != len(added):
                raise ReferenceDataError(f"{path}: `add` dates are MM-DD or YYYY-MM-DD")
            holidays.official(date.today().year)  # an unknown country fails here, at load
            return holidays
        except ReferenceDataError:
            raise
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError, ValueError,
                NotImplementedError) as exc:
            raise ReferenceDataError(f"{path}: cannot read holidays: {exc}") from None

    def official(self, year: int) -> dict[date, str]:
        """The official holidays of one Gregorian year (English names)."""
        if self.country is None:
            return {}
        days = self._years.get(year)
        if days is None:
            calendar = holiday_calendars.country_holidays(self.country, years=year)
            days = self._years[year] = {d: str(name) for d, name in calendar.items()}
        return days

    def name_of(self, day: date) -> str | None:
        """Why ``day`` is closed (``"local"`` for an addition), ``None`` if it is not."""
        full, month_day = jalali_key(day)
        if full in self.dated or month_day in self.yearly:
            return "local"
        if full in self.removed:
            return None
        return self.official(day.year).get(day)

    def is_holiday(self, day: date) -> bool:
        return self.name_of(day) is not None

    def between(self, first: date, last: date) -> Iterator[tuple[date, str]]:
        """Every closed day from ``first`` to ``last`` inclusive, with its name."""
        day = first
        while day <= last:
            name = self.name_of(day)
            if name is not None:
                yield day, name
            day += timedelta(days=1)


@dataclass(frozen=True)
class Hours:
    """A daily window in one zone, closed on Fridays (unless allowed) and holidays."""

    zone: ZoneInfo
    opens: time
    closes: time
    holidays: Holidays
    open_on_friday: bool = False

    def is_working_day(self, day: date) -> bool:
        if day.weekday() == FRIDAY and not self.open_on_friday:
            return False
        return not self.holidays.is_holiday(day)

    def is_open(self, moment: datetime) -> bool:
        return self.why_closed(moment) is None

    def why_closed(self, moment: datetime) -> str | None:
        """``None`` when open, else ``friday``, ``holiday`` or ``outside-hours``."""
        local = moment.astimezone(self.zone)
        if local.weekday() == FRIDAY and not self.open_on_friday:
            return "friday"
        if self.holidays.is_holiday(local.date()):
            return "holiday"
        if not self.opens <= local.time() < self.closes:
            return "outside-hours"
        return None

    def add_working_time(self, start: datetime, amount: timedelta,
                         *, max_days: int = 3660) -> datetime:
        """The moment ``amount`` of open time after ``start`` (a working-hours deadline):
        the clock runs only inside the daily window on working days."""
        left = amount
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(max_days):
            if self.is_working_day(day):
                window_start = datetime.combine(day, self.opens, tzinfo=self.zone)
                window_end = datetime.combine(day, self.closes, tzinfo=self.zone)
                begin = max(window_start, local)
                if begin < window_end:
                    if begin + left <= window_end:
                        return (begin + left).astimezone(start.tzinfo or self.zone)
                    left -= window_end - begin
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), tzinfo=self.zone)
        raise ReferenceDataError(f"no working time within {max_days} days of {start}")

    def working_days(self, first: date, last: date) -> int:
        """Working days from ``first`` to ``last`` inclusive (what the reports count)."""
        return sum(1 for offset in range((last - first).days + 1)
                   if self.is_working_day(first + timedelta(days=offset)))
