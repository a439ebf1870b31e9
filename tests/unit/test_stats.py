"""Contact-center figures and backlog: exact numbers from known rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from callcenter.stats.services import backlog, contact_figures, day_bounds, local_day


@dataclass
class Row:
    outcome: str
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    direction: str = "inbound"


DAY = [
    Row("answered", 4, 120), Row("answered", 20, 300), Row("answered", 21, 60),
    Row("answered", 95, 240), Row("abandoned", 35), Row("abandoned", 3),
    Row("callback", 80), Row("missed", 30), Row("ivr_only", 0),
    Row("answered", 1, 999, direction="outbound"),
]


def test_figures_of_a_known_day() -> None:
    f = contact_figures(DAY, threshold_seconds=20)
    assert (f.offered, f.answered, f.abandoned, f.callbacks, f.missed) == (8, 4, 2, 1, 1)
    assert f.answered_within_threshold == 2  # 4 s and exactly 20 s
    assert f.service_level == pytest.approx(2 / 8)
    assert f.average_speed_of_answer == pytest.approx((4 + 20 + 21 + 95) / 4)
    assert f.average_handling_time == pytest.approx((120 + 300 + 60 + 240) / 4)
    assert f.abandon_rate == pytest.approx(2 / 8)


def test_threshold_is_a_setting() -> None:
    assert contact_figures(DAY, threshold_seconds=30).answered_within_threshold == 3
    assert contact_figures(DAY, threshold_seconds=3).answered_within_threshold == 0


def test_empty_day_has_no_ratios() -> None:
    f = contact_figures([Row("ivr_only")], threshold_seconds=20)
    assert f.offered == 0
    assert f.service_level is None and f.abandon_rate is None
    assert f.average_speed_of_answer is None and f.average_handling_time is None


def test_missing_wait_counts_as_zero() -> None:
    f = contact_figures([Row("answered", None, None)], threshold_seconds=20)
    assert (f.average_speed_of_answer, f.average_handling_time, f.service_level) == (0, 0, 1)


def test_day_bounds_in_tehran() -> None:
    start, end = day_bounds(date(2026, 3, 21), "Asia/Tehran")
    assert start == datetime(2026, 3, 20, 20, 30, tzinfo=UTC)  # +03:30, no DST since 2022
    assert end - start == timedelta(days=1)


def test_local_day_crosses_midnight_before_utc() -> None:
    assert local_day(datetime(2026, 3, 20, 21, 0, tzinfo=UTC), "Asia/Tehran") == date(
        2026, 3, 21)
    assert local_day(datetime(2026, 3, 20, 20, 0, tzinfo=UTC), "Asia/Tehran") == date(
        2026, 3, 20)


@dataclass
class OpenRow:
    department_code: str
    deadline_at: datetime | None


def test_backlog_per_department() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    rows = [OpenRow("waste", now - timedelta(hours=1)), OpenRow("waste", now + timedelta(1)),
            OpenRow("parks", now - timedelta(days=3)), OpenRow("parks", None),
            OpenRow("waste", now), OpenRow("parks", now.replace(tzinfo=None) - timedelta(1))]
    lines = {line.department_code: (line.open, line.overdue) for line in backlog(rows, now=now)}
    # A deadline exactly now is not yet past; a naive (SQLite) time is read as UTC.
    assert lines == {"waste": (3, 1), "parks": (3, 2)}
