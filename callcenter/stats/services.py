"""Pure computations over call and request rows; definitions in ``docs/metrics.md``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from callcenter.clock import as_utc

# Outcomes of a call that wanted a person (everything but a call that ended in the IVR).
OFFERED_OUTCOMES = frozenset({"answered", "abandoned", "callback", "missed"})


class CallRow(Protocol):
    direction: str
    outcome: str
    wait_seconds: float | None
    talk_seconds: float | None


class OpenRequestRow(Protocol):
    department_code: str
    deadline_at: datetime | None


@dataclass(frozen=True)
class ContactFigures:
    """One period's figures; ratios and averages are ``None`` when undefined (0 calls)."""

    offered: int
    answered: int
    abandoned: int
    callbacks: int
    missed: int
    answered_within_threshold: int
    service_level: float | None
    average_speed_of_answer: float | None
    average_handling_time: float | None
    abandon_rate: float | None
    threshold_seconds: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight of ``day`` and of the next day."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return as_utc(start), as_utc(end)


def local_day(now: datetime, timezone: str) -> date:
    return as_utc(now).astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class OutcomeTotal:
    """Inbound calls of one outcome: how many, the answered ones within the threshold, and
    their summed waits and talks (what the figures need; summed in SQL by the store)."""

    outcome: str
    calls: int
    within_threshold: int
    wait_seconds: float
    talk_seconds: float


def contact_figures(calls: Iterable[CallRow], *, threshold_seconds: int) -> ContactFigures:
    """Offered, answered, abandoned, service level, ASA, AHT, abandon rate of ``calls``.

    Only inbound calls count. Offered = answered + abandoned + callback + missed (calls
    that asked for a person); service level = answered with wait <= threshold / offered.
    """
    totals: dict[str, list[float]] = {}
    for c in calls:
        if c.direction != "inbound" or c.outcome not in OFFERED_OUTCOMES:
            continue
        line = totals.setdefault(c.outcome, [0, 0, 0.0, 0.0])
        line[0] += 1
        if c.outcome == "answered":
            line[1] += (c.wait_seconds or 0.0) <= threshold_seconds
            line[2] += c.wait_seconds or 0.0
            line[3] += c.talk_seconds or 0.0
    return figures_from_totals(
        [OutcomeTotal(outcome, int(n), int(within), waits, talks)
         for outcome, (n, within, waits, talks) in totals.items()],
        threshold_seconds=threshold_seconds)


def figures_from_totals(totals: Iterable[OutcomeTotal], *,
                        threshold_seconds: int) -> ContactFigures:
    """The figures of ``contact_figures`` from per-outcome totals of inbound calls (only
    the answered line's waits, talks and threshold count are used)."""
    by_outcome = {t.outcome: t for t in totals if t.outcome in OFFERED_OUTCOMES}

    def count(outcome: str) -> int:
        return by_outcome[outcome].calls if outcome in by_outcome else 0

    answered = by_outcome.get("answered")
    offered = sum(t.calls for t in by_outcome.values())
    within = answered.within_threshold if answered else 0
    abandoned = count("abandoned")
    return ContactFigures(
        offered=offered,
        answered=count("answered"),
        abandoned=abandoned,
        callbacks=count("callback"),
        missed=count("missed"),
        answered_within_threshold=within,
        service_level=within / offered if offered else None,
        average_speed_of_answer=answered.wait_seconds / answered.calls
        if answered and answered.calls else None,
        average_handling_time=answered.talk_seconds / answered.calls
        if answered and answered.calls else None,
        abandon_rate=abandoned / offered if offered else None,
        threshold_seconds=threshold_seconds,
    )


@dataclass(frozen=True)
class BacklogLine:
    department_code: str
    open: int
    overdue: int


def backlog(requests: Iterable[OpenRequestRow], *, now: datetime) -> list[BacklogLine]:
    """Open requests per department and how many are past their deadline at ``now``."""
    counts: dict[str, list[int]] = {}
    moment = as_utc(now)
    for row in requests:
        line = counts.setdefault(row.department_code, [0, 0])
        line[0] += 1
        if row.deadline_at is not None and as_utc(row.deadline_at) < moment:
            line[1] += 1
    return [BacklogLine(code, n, late) for code, (n, late) in sorted(counts.items())]
