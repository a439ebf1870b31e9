"""Opening hours and calling hours in the contact center's zone (Asia/Tehran):
weekdays Saturday-Thursday, Friday closed unless configured, official holidays
(Jalali, ``config/reference/holidays.yaml``) closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import jdatetime
import yaml

from callcenter.locations import find_config
from callcenter.reference.services import ReferenceDataError

FRIDAY = 4  # datetime.weekday()


@dataclass(frozen=True)
class Holidays:
    yearly: frozenset[str]  # "MM-DD" Jalali
    dated: frozenset[str]  # "YYYY-MM-DD" Jalali

    @classmethod
    def load(cls, path: Path | None = None) -> Holidays:
        """``path`` defaults to the first ``reference/holidays.yaml`` of the search order."""
        path = path or find_config("reference/holidays.yaml")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            yearly = frozenset(str(row["date"]) for row in data.get("yearly") or [])
            dated = frozenset(str(row["date"]) for row in data.get("dated") or [])
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
            raise ReferenceDataError(f"{path}: cannot read holidays: {exc}") from None
        return cls(yearly=yearly, dated=dated)

    def is_holiday(self, day: date) -> bool:
        jalali = jdatetime.date.fromgregorian(date=day)
        return (f"{jalali.month:02d}-{jalali.day:02d}" in self.yearly
                or f"{jalali.year:04d}-{jalali.month:02d}-{jalali.day:02d}" in self.dated)


@dataclass(frozen=True)
class Hours:
    """A daily window in one zone, closed on Fridays (unless allowed) and holidays."""

    zone: ZoneInfo
    opens: time
    closes: time
    holidays: Holidays
    open_on_friday: bool = False

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        if local.weekday() == FRIDAY and not self.open_on_friday:
            return False
        if self.holidays.is_holiday(local.date()):
            return False
        return self.opens <= local.time() < self.closes

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
