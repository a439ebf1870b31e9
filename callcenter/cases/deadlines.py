"""A request's deadline from its category: calendar hours, or working hours of the
contact center's calendar (``reference.hours.Hours``: opening hours, no Fridays, no
official holidays). Escalation levels are fractions of the same allotted time."""

from __future__ import annotations

from datetime import datetime, timedelta

from callcenter.reference.hours import Hours
from callcenter.reference.models import Category


def deadline_after(*, start: datetime, hours: float, basis: str,
                   calendar: Hours | None) -> datetime:
    """``hours`` of the category's basis after ``start``. A working-hours category with
    no calendar at hand counts calendar hours (every production path passes one)."""
    amount = timedelta(hours=hours)
    if basis == "working" and calendar is not None:
        return calendar.add_working_time(start, amount)
    return start + amount


def category_deadline(*, category: Category, start: datetime, calendar: Hours | None,
                      percent: float = 100.0) -> datetime:
    """When ``percent`` of the category's allotted time has run since ``start``."""
    return deadline_after(start=start, hours=category.deadline_hours * percent / 100.0,
                          basis=category.deadline_basis, calendar=calendar)
