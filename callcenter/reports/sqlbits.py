"""SQL pieces every report uses, written once for SQLite and PostgreSQL alike.

- ``bucket_index``: which bucket a timestamp falls in, as a balanced tree of ``CASE``
  comparisons against the buckets' UTC bounds (depth ~log2 of the bucket count, so a
  year by day costs ~9 comparisons a row), exact at local midnight whatever the zone did.
- ``epoch_seconds``: whole seconds since 1970 (SQLite's ``strftime('%s')`` rounds
  fractions, so the fraction is cut off first).
- ``local_hour``: the hour of day in the zone, with the zone's offset per stretch of
  constant offset (Iran kept daylight saving until 2022).
- ``ranked``/``percentile``: nearest-rank percentiles with window functions, because
  SQLite has no ``percentile_cont``; see ``docs/metrics.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from callcenter.reports.filters import ReportFilters
from callcenter.reports.periods import Bucket, Granularity, Period, buckets


class epoch_seconds(FunctionElement[int]):
    """``epoch_seconds(column)``: whole seconds since 1970-01-01 UTC."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"CAST(strftime('%s', substr({compiler.process(column, **kw)}, 1, 19)) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgres(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(column, **kw)})) AS BIGINT)"


def _tree(column: ColumnElement[Any], bounds: Sequence[Any], values: Sequence[Any],
          ) -> ColumnElement[Any]:
    """``values[i]`` where ``bounds[i-1] <= column < bounds[i]`` (``len(values)`` =
    ``len(bounds) + 1``), as nested CASEs split at the middle bound."""
    if not bounds:
        return literal(values[0])
    middle = len(bounds) // 2
    return case(
        (column < bounds[middle], _tree(column, bounds[:middle], values[:middle + 1])),
        else_=_tree(column, bounds[middle + 1:], values[middle + 1:]),
    )


def bucket_index(column: Any, series: Sequence[Bucket]) -> ColumnElement[Any]:
    """The index of the bucket of ``column`` (rows are already inside the period)."""
    bounds = [bucket.start for bucket in series[1:]]
    return _tree(column, bounds, list(range(len(series))))


def offset_stretches(period: Period) -> list[tuple[datetime, int]]:
    """``(from, offset seconds)`` for each stretch of constant UTC offset in the period.

    Steps a day at a time and, where the offset changed, finds the half hour it changed
    in (zones change at most twice a year, on the hour or half hour).
    """
    zone = ZoneInfo(period.timezone)

    def offset(moment: datetime) -> int:
        found = moment.astimezone(zone).utcoffset()
        return int(found.total_seconds()) if found is not None else 0

    stretches = [(period.start, offset(period.start))]
    moment = period.start
    while moment < period.end:
        following = min(moment + timedelta(days=1), period.end)
        if offset(following) != stretches[-1][1] or following == period.end:
            step = moment
            while step < following:
                if offset(step) != stretches[-1][1]:
                    stretches.append((step, offset(step)))
                step += timedelta(minutes=30)
        moment = following
    return stretches


def local_hour(column: Any, period: Period) -> ColumnElement[Any]:
    """The local hour of day (0-23) of ``column`` in the period's zone."""
    stretches = offset_stretches(period)
    offset = _tree(column, [start for start, _ in stretches[1:]],
                   [seconds for _, seconds in stretches])
    local = epoch_seconds(column) + cast(offset, BigInteger)
    return cast((local % 86400) // 3600, Integer)  # floor division on both backends


def rank_columns(value: Any, *partition: Any) -> list[Any]:
    """``rn`` (1-based rank by ``value``) and ``n`` (rows) within ``partition``."""
    return [
        func.row_number().over(partition_by=list(partition) or None,
                               order_by=value).label("rn"),
        func.count().over(partition_by=list(partition) or None).label("n"),
    ]


def percentile(value: Any, rn: Any, n: Any, *, numerator: int,
               denominator: int) -> ColumnElement[Any]:
    """Nearest-rank percentile p = numerator/denominator: the value of rank ceil(p*n)."""
    return func.min(case((rn * denominator >= n * numerator, value)))


def count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many rows meet ``condition`` (a SUM, so it works inside any GROUP BY)."""
    return func.coalesce(func.sum(one_if(condition)), 0)


def one_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return case((condition, 1), else_=0)


def time_key(filters: ReportFilters, column: Any) -> ColumnElement[Any]:
    """The bucket of ``column``: its index in ``buckets()``, or the local hour (0-23).

    Days in a period of one constant UTC offset are plain arithmetic (whole days since
    the first local midnight); otherwise, and for weeks and months, the CASE tree.
    """
    if filters.granularity == Granularity.HOUR:
        return local_hour(column, filters.period)
    if filters.granularity == Granularity.DAY and len(offset_stretches(filters.period)) == 1:
        start = int(filters.period.start.timestamp())
        return cast((epoch_seconds(column) - start) // 86400, Integer)
    return bucket_index(column, buckets(filters.period, filters.granularity))


def bucket_keys(filters: ReportFilters) -> list[tuple[int, str]]:
    """``(key in the SQL result, label)`` of every bucket, in order, empty ones included."""
    if filters.granularity == Granularity.HOUR:
        return [(hour, f"{hour:02d}") for hour in range(24)]
    return list(enumerate(b.key for b in buckets(filters.period, filters.granularity)))
