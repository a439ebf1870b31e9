"""The contact center's calendar built once from settings: opening hours (the IVR, the
working-hours deadlines) and the holidays every part shares (``hours.Holidays``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from callcenter.reference.hours import Holidays, Hours
from callcenter.settings import Settings


def holidays_of(settings: Settings) -> Holidays:
    return Holidays.load(settings.holidays_file)


def opening_hours(settings: Settings, holidays: Holidays | None = None) -> Hours:
    """The centre's opening hours (not the follow-ups' calling hours)."""
    return Hours(zone=ZoneInfo(settings.timezone), opens=settings.opening_time,
                 closes=settings.closing_time,
                 holidays=holidays if holidays is not None else holidays_of(settings),
                 open_on_friday=settings.open_on_friday)
