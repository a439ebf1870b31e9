"""Jalali periods and buckets: month ends (29/30 Esfand), weeks from Saturday, local
midnight in Tehran as UTC bounds, presets, and bad input refused with a clear error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from callcenter.errors import InvalidInput
from callcenter.reports.charts import chart_svg
from callcenter.reports.periods import (
    Granularity,
    Preset,
    buckets,
    month_period,
    parse_jalali,
    preset_period,
)

TZ = "Asia/Tehran"


def test_esfand_has_30_days_in_a_leap_year_and_29_otherwise() -> None:
    leap = month_period("1403-12", TZ)
    assert (leap.first, leap.last, leap.days) == (date(2025, 2, 19), date(2025, 3, 20), 30)
    plain = month_period("1404-12", TZ)
    assert plain.days == 29 and plain.last == date(2026, 3, 20)


def test_bounds_are_local_midnight_in_utc() -> None:
    period = month_period("1403-12", TZ)
    assert period.start == datetime(2025, 2, 18, 20, 30, tzinfo=UTC)
    assert period.end == datetime(2025, 3, 20, 20, 30, tzinfo=UTC)


def test_presets_weeks_start_on_saturday() -> None:
    wednesday = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 1405-09-11
    week = preset_period(Preset.THIS_WEEK, now=wednesday, timezone=TZ)
    assert week.first == date(2026, 11, 28) and week.first.weekday() == 5  # Saturday
    assert week.days == 7
    last = preset_period(Preset.LAST_WEEK, now=wednesday, timezone=TZ)
    assert last.first == date(2026, 11, 21)
    month = preset_period(Preset.THIS_MONTH, now=wednesday, timezone=TZ)
    assert (month.first, month.days) == (date(2026, 11, 22), 30)  # Azar 1405
    previous = preset_period(Preset.LAST_MONTH, now=wednesday, timezone=TZ)
    assert previous.first == date(2026, 10, 23) and previous.days == 30  # Aban
    year = preset_period(Preset.THIS_YEAR, now=wednesday, timezone=TZ)
    assert year.first == date(2026, 3, 21) and year.days == 365
    # 21:00 UTC is already tomorrow in Tehran (00:30 local).
    late = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)
    assert preset_period(Preset.TODAY, now=late, timezone=TZ).first == date(2026, 12, 3)
    assert preset_period(Preset.YESTERDAY, now=late, timezone=TZ).first == date(2026, 12, 2)


def test_week_and_month_buckets() -> None:
    esfand = month_period("1403-12", TZ)
    weeks = buckets(esfand, Granularity.WEEK)
    assert [b.key for b in weeks] == ["1403-12-01", "1403-12-04", "1403-12-11", "1403-12-18",
                                      "1403-12-25"]
    assert weeks[-1].end == esfand.end
    custom = preset_period(Preset.CUSTOM, now=datetime.now(UTC), timezone=TZ,
                           first="1403-11-20", last="1404-01-05")
    assert [b.key for b in buckets(custom, Granularity.MONTH)] == ["1403-11", "1403-12",
                                                                   "1404-01"]
    assert len(buckets(custom, Granularity.HOUR)) == 24


@pytest.mark.parametrize("text", ["1403-12-31", "1404-12-30", "1405/13/01", "yesterday", ""])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_jalali(text)


def test_bad_custom_ranges_are_refused() -> None:
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="both"):
        preset_period(Preset.CUSTOM, now=now, timezone=TZ, first="1403-01-01")
    with pytest.raises(InvalidInput, match="before"):
        preset_period(Preset.CUSTOM, now=now, timezone=TZ, first="1403-02-01",
                      last="1403-01-01")
    with pytest.raises(InvalidInput, match="at most"):
        preset_period(Preset.CUSTOM, now=now, timezone=TZ, first="1390-01-01",
                      last="1403-01-01")
    with pytest.raises(InvalidInput):
        month_period("1403-13", TZ)


def test_chart_draws_a_mark_per_value_and_escapes_labels() -> None:
    svg = chart_svg(kind="stacked", title="<x>", labels=["۱", "۲"],
                    series=[("پاسخ", [1, 2]), ("رها", [0, 3])], language="fa")
    assert 'data-marks="3"' in svg  # zero values draw nothing
    assert "&lt;x&gt;" in svg and "<x>" not in svg
    gaps = chart_svg(kind="line", title="t", labels=["a", "b", "c", "d"],
                     series=[("s", [1.0, 2.0, None, 4.0]), ("e", [None] * 4)], language="en")
    # an undefined value breaks the line (a run of two, then a lone point), never a 0
    assert 'data-marks="2"' in gaps and gaps.count("<polyline") == 1
    assert gaps.count("<circle") == 1


def test_offset_stretches_follow_old_daylight_saving() -> None:
    """Iran kept daylight saving until 2022: 1400 had +04:30 from 1 Farvardin to 30
    Shahrivar. The hour-of-day buckets need each stretch."""
    from callcenter.reports.periods import Period
    from callcenter.reports.sqlbits import offset_stretches

    year_1400 = Period(date(2021, 3, 1), date(2021, 10, 31), "Asia/Tehran")
    stretches = offset_stretches(year_1400)
    assert [seconds for _, seconds in stretches] == [12600, 16200, 12600]
    assert stretches[1][0] == datetime(2021, 3, 21, 20, 30, tzinfo=UTC)
    assert stretches[2][0] == datetime(2021, 9, 21, 19, 30, tzinfo=UTC)
    assert len(offset_stretches(month_period("1403-12", TZ))) == 1


def test_cli_adds_a_manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``callcenter users add NAME --role manager`` (and a wrong role is refused)."""
    from sqlmodel import select
    from typer.testing import CliRunner

    from callcenter.cli import app as cli_app
    from callcenter.db.engine import build_engine, session_scope
    from callcenter.users.models import User

    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLCENTER_ENVIRONMENT", "test")
    monkeypatch.setenv("CALLCENTER_NEW_USER_PASSWORD", "planning-pass-1")
    runner = CliRunner()
    made = runner.invoke(cli_app, ["users", "add", "mina", "--role", "manager"])
    assert made.exit_code == 0, made.output
    assert "created manager mina" in made.output
    wrong = runner.invoke(cli_app, ["users", "add", "x", "--role", "mayor"])
    assert wrong.exit_code == 1 and "unknown role" in wrong.output
    engine = build_engine(f"sqlite:///{tmp_path / 'callcenter.db'}")
    with session_scope(engine) as session:
        assert [u.role for u in session.exec(select(User)).all()] == ["manager"]
    engine.dispose()
