"""A report's tables as display cells and its charts as SVG, for the page and the PDF.

Codes (departments, categories, neighbourhoods, channels) are shown by name in the
reader's language; numbers get Persian digits in Persian; undefined figures show "-".
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from callcenter.reference.models import Category, Department, Neighbourhood
from callcenter.reports.charts import chart_svg, heat_colour, legend
from callcenter.reports.tables import EMPTY, Column, Report, Table
from callcenter.web.formatting import digits
from callcenter.web.i18n import translate

NAMED_COLUMNS = {"department", "category", "neighbourhood", "value", "channel", "status",
                 "branch", "step", "dimension"}
HEAT_TABLES = {"needs_matrix", "needs_per_1000"}


def reference_names(session: Session) -> dict[str, tuple[str, str]]:
    """code -> (Persian, English) for departments, categories and neighbourhoods."""
    names: dict[str, tuple[str, str]] = {}
    rows: list[Any] = [*session.exec(select(Department)).all(),
                       *session.exec(select(Category)).all(),
                       *session.exec(select(Neighbourhood)).all()]
    for row in rows:
        names[row.code] = (row.name_fa, row.name_en)
    return names


class Labeller:
    """Turns codes and numbers into what a reader sees in one language."""

    def __init__(self, names: dict[str, tuple[str, str]], language: str) -> None:
        self.names, self.language = names, language

    def name(self, code: Any) -> str:
        text = str(code)
        for key in (f"channel_{text}", f"status_{text}", f"branch_{text}", f"dim_{text}"):
            found = translate(key, self.language)
            if found != key:
                return found
        pair = self.names.get(text)
        return digits(text, self.language) if pair is None else pair[
            1 if self.language == "en" else 0]

    def cell(self, value: Any, column: Column) -> str:
        if value is None:
            return EMPTY
        if isinstance(value, bool):
            return translate("yes" if value else "no", self.language)
        if column.kind == "ratio":
            return digits(f"{value * 100:.0f}", self.language) + (
                "٪" if self.language == "fa" else "%")
        if column.kind in ("float", "seconds"):
            return digits(f"{float(value):.1f}", self.language)
        if column.key in NAMED_COLUMNS:
            return self.name(value)
        return digits(value, self.language)

    def header(self, column: Column) -> str:
        pair = self.names.get(column.key)
        if pair is not None or translate(f"channel_{column.key}", self.language) != \
                f"channel_{column.key}":
            return self.name(column.key)
        return column.label(self.language)


def table_view(table: Table, labels: Labeller) -> dict[str, Any]:
    """Headers and display rows; heat tables carry a background per numeric cell."""
    heat = table.key in HEAT_TABLES
    top = max((float(v) for row in table.rows for k, v in row.items()
               if k not in ("neighbourhood", "total") and isinstance(v, int | float)),
              default=0.0)
    rows = []
    for row in table.rows:
        cells = []
        for column in table.columns:
            value = row.get(column.key)
            colour = (heat_colour(float(value), top) if heat and column.kind != "text"
                      and column.key != "total" and isinstance(value, int | float) else None)
            cells.append({"text": labels.cell(value, column), "bg": colour,
                          "raw": "" if value is None else str(value)})
        rows.append(cells)
    return {"key": table.key, "title": table.title(labels.language),
            "headers": [labels.header(c) for c in table.columns], "rows": rows}


def charts_view(report: Report, labels: Labeller) -> list[dict[str, Any]]:
    found = []
    for chart in report.charts:
        table = report.table(chart.table)
        columns = {c.key: c for c in table.columns}
        x_labels = [labels.cell(row.get(chart.x), columns[chart.x]) for row in table.rows]
        series = [(labels.header(columns[key]), [row.get(key) for row in table.rows])
                  for key in chart.series if key in columns]
        title = chart.en if labels.language == "en" else chart.fa
        found.append({"key": chart.key, "title": title,
                      "legend": legend([name for name, _ in series]), "svg": chart_svg(
            kind=chart.kind, title=title, labels=x_labels,
            series=series, language=labels.language)})
    return found
