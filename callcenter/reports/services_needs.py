"""Neighbourhood needs: the neighbourhood x category table (and per 1,000 residents),
rising problems against the mean of earlier periods, the biggest duplicate clusters."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from callcenter.reference.models import Neighbourhood
from callcenter.reports import queries_needs as q
from callcenter.reports.filters import ReportFilters
from callcenter.reports.tables import Column, Report, Table

# Rising: this period's count >= RISE_FACTOR x the mean of the EARLIER_PERIODS periods of
# the same length before it, and at least RISE_MIN_EXTRA requests above that mean (so
# one request where there were none is not a rise).
EARLIER_PERIODS = 3
RISE_FACTOR = 2.0
RISE_MIN_EXTRA = 3


def is_rising(count: int, baseline: float) -> bool:
    """The rule above, in one place (the page prints it beside the table)."""
    return count >= RISE_FACTOR * baseline and count - baseline >= RISE_MIN_EXTRA


def _matrix(session: Session, filters: ReportFilters,
            populations: dict[str, int]) -> list[Table]:
    cells = q.matrix(session=session, filters=filters)
    categories = sorted({c for _, c, _ in cells})
    places = sorted({p for p, _, _ in cells})
    counts = {(p, c): n for p, c, n in cells}
    columns = [Column("neighbourhood", "محله", "Neighbourhood", "text"),
               *(Column(c, c, c) for c in categories), Column("total", "جمع", "Total")]
    table = Table("needs_matrix", "محله × موضوع", "Neighbourhood x category", columns)
    per_k = Table("needs_per_1000", "محله × موضوع در هر هزار نفر",
                  "Neighbourhood x category per 1,000 residents",
                  [columns[0], *(Column(c.key, c.fa, c.en, "float") for c in columns[1:])])
    for place in places:
        row: dict[str, Any] = {"neighbourhood": place,
                               **{c: counts.get((place, c), 0) for c in categories}}
        row["total"] = sum(counts.get((place, c), 0) for c in categories)
        table.rows.append(row)
        people = populations.get(place)
        if people:
            per_k.rows.append({"neighbourhood": place, **{
                key: value * 1000 / people for key, value in row.items()
                if key != "neighbourhood"}})
    return [table, per_k]


def _rising(session: Session, filters: ReportFilters) -> Table:
    history = q.pair_history(session=session, filters=filters, earlier=EARLIER_PERIODS)
    pairs: dict[tuple[str, str], list[int]] = {}
    for place, category, k, n in history:
        pairs.setdefault((place, category), [0] * (EARLIER_PERIODS + 1))[k] = n
    table = Table("rising", "مشکلات رو به افزایش", "Rising problems", [
        Column("neighbourhood", "محله", "Neighbourhood", "text"),
        Column("category", "موضوع", "Category", "text"),
        Column("count", "این دوره", "This period"),
        Column("baseline", "میانگین دوره‌های پیشین", "Mean of earlier periods", "float")])
    for (place, category), counts in sorted(pairs.items()):
        baseline = sum(counts[:EARLIER_PERIODS]) / EARLIER_PERIODS
        if is_rising(counts[EARLIER_PERIODS], baseline):
            table.rows.append({"neighbourhood": place, "category": category,
                               "count": counts[EARLIER_PERIODS], "baseline": baseline})
    table.rows.sort(key=lambda row: row["count"] - row["baseline"], reverse=True)
    return table


def _districts(session: Session, matrix: Table, populations: dict[str, int]) -> Table:
    """Requests, residents and requests per 1,000 residents per district; a district's
    residents are the sum of its neighbourhoods' (``None`` where one has no figure)."""
    district_of = {n.code: n.district for n in session.exec(select(Neighbourhood)).all()}
    residents: dict[int, int | None] = {}
    for code, district in district_of.items():
        people = populations.get(code)
        known = residents.get(district, 0)
        residents[district] = None if people is None or known is None else known + people
    requests: dict[int, int] = {}
    for row in matrix.rows:
        place = district_of.get(row["neighbourhood"])
        if place is not None:
            requests[place] = requests.get(place, 0) + int(row["total"])
    table = Table("needs_districts", "منطقه‌ها در هر هزار نفر", "Districts per 1,000 residents", [
        Column("district", "منطقه", "District", "text"),
        Column("requests", "درخواست", "Requests"),
        Column("residents", "جمعیت (برآورد)", "Residents (estimate)"),
        Column("per_1000", "در هر هزار نفر", "Per 1,000 residents", "float")])
    for district in sorted(residents):
        found, n = residents[district], requests.get(district, 0)
        table.rows.append({"district": str(district), "requests": n, "residents": found,
                           "per_1000": None if not found else n * 1000 / found})
    return table


def needs(*, session: Session, filters: ReportFilters, populations: dict[str, int]) -> Report:
    """The needs tables of the period (``populations``: residents per neighbourhood)."""
    matrix, per_k = _matrix(session, filters, populations)
    districts = _districts(session, matrix, populations)
    clusters = Table("clusters", "بزرگ‌ترین خوشه‌های تکراری", "Biggest duplicate clusters", [
        Column("tracking_code", "کد پیگیری", "Tracking code", "text"),
        Column("category", "موضوع", "Category", "text"),
        Column("neighbourhood", "محله", "Neighbourhood", "text"),
        Column("status", "وضعیت", "Status", "text"),
        Column("reporters", "گزارش‌دهندگان", "Reporters")],
        q.clusters(session=session, filters=filters))
    rising = _rising(session, filters)
    head = {"requests": sum(row["total"] for row in matrix.rows),
            "rising": len(rising.rows), "rule": {"earlier_periods": EARLIER_PERIODS,
                                                  "factor": RISE_FACTOR,
                                                  "min_extra": RISE_MIN_EXTRA}}
    return Report("needs", head, [matrix, per_k, districts, rising, clusters])
