"""A report's table: named columns and rows of plain values, shown, charted and exported.

Ratios and averages are ``None`` when undefined (nothing to divide by); the page and
the exports show them as "-".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EMPTY = "-"


@dataclass(frozen=True)
class Column:
    key: str
    fa: str
    en: str
    kind: str = "int"  # int, float, ratio (0..1), seconds, text

    def label(self, language: str) -> str:
        return self.en if language == "en" else self.fa


@dataclass
class Table:
    """``rows`` hold one dict per line keyed by the columns' ``key``."""

    key: str
    fa: str
    en: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def title(self, language: str) -> str:
        return self.en if language == "en" else self.fa

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "title_fa": self.fa, "title_en": self.en,
            "columns": [{"key": c.key, "fa": c.fa, "en": c.en, "kind": c.kind}
                        for c in self.columns],
            "rows": self.rows,
        }


def ratio(part: float | None, whole: float | None) -> float | None:
    """``part / whole``, or ``None`` when ``whole`` is 0 or unknown (never a crash)."""
    if part is None or not whole:
        return None
    return part / whole


def plain(value: Any, kind: str) -> Any:
    """A cell as an export writes it: rounded numbers, "-" for an undefined figure."""
    if value is None:
        return EMPTY
    if kind == "ratio":
        return round(float(value) * 100, 1)
    if kind in ("float", "seconds"):
        return round(float(value), 1)
    return value


@dataclass(frozen=True)
class Chart:
    """A chart drawn from a table: ``x`` column as labels, ``series`` columns as values.

    ``kind``: ``line``, ``bars``, ``stacked`` (one bar per label, the series stacked).
    """

    key: str
    fa: str
    en: str
    kind: str
    table: str
    x: str
    series: tuple[str, ...]


@dataclass
class Report:
    """One report: headline figures, its tables and the charts drawn from them."""

    key: str
    figures: dict[str, Any]
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "figures": self.figures,
                "tables": [t.as_dict() for t in self.tables],
                "charts": [{"key": c.key, "kind": c.kind, "table": c.table, "x": c.x,
                            "series": list(c.series)} for c in self.charts]}
