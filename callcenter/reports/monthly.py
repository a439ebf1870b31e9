"""The monthly management report: one Jalali month as a right-to-left PDF (WeasyPrint)
with the charts and key tables of the contact-center, requests, satisfaction and
neighbourhood-needs reports, written to ``data/reports/report-YYYY-MM.pdf``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine

from callcenter.db.engine import read_scope
from callcenter.reference.services import populations
from callcenter.reports.filters import ReportFilters
from callcenter.reports.periods import jalali, month_period
from callcenter.reports.services import build_report
from callcenter.reports.views import Labeller, charts_view, reference_names, table_view
from callcenter.settings import Settings
from callcenter.web.formatting import digits
from callcenter.web.templates import STATIC_DIR, WEB_DIR

# Report -> the tables worth printing (the page and the exports have all of them).
SECTIONS: dict[str, tuple[str, ...]] = {
    "contact": ("contact_total", "contact_queues"),
    "requests": ("requests_summary", "status_funnel", "resolution", "deadlines",
                 "backlog_ageing"),
    "satisfaction": ("csat_total", "survey_flow", "csat_department"),
    "needs": ("needs_matrix", "rising", "clusters"),
}


PDF_NAME = re.compile(r"report-\d{4}-\d{2}\.pdf")


def built_reports(settings: Settings) -> list[str]:
    """Names of the monthly PDFs in ``data/reports/``, newest month first."""
    folder = settings.data_dir / "reports"
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if PDF_NAME.fullmatch(p.name)),
                  reverse=True)


def report_path(settings: Settings, month: str) -> Path:
    year, number = month.replace("/", "-").split("-")
    return settings.data_dir / "reports" / f"report-{int(year):04d}-{int(number):02d}.pdf"


def build_monthly(*, engine: Engine, settings: Settings, month: str, now: datetime,
                  progress: Callable[[str], None] = lambda _line: None) -> Path:
    """Build the PDF for ``month`` (``1405-09``), calling ``progress`` at each step."""
    from weasyprint import HTML  # heavy (Pango): imported only when a PDF is made

    filters = ReportFilters(period=month_period(month, settings.timezone))
    labels_fa: Labeller
    sections: list[dict[str, Any]] = []
    with read_scope(engine) as session:  # reads only: progress writes may interleave
        labels_fa = Labeller(reference_names(session), "fa")
        for step, (name, keep) in enumerate(SECTIONS.items(), start=1):
            progress(f"[{step}/{len(SECTIONS) + 1}] {name}")
            report = build_report(name, session=session, filters=filters, settings=settings,
                                  now=now, populations=populations(settings.reference_dir))
            sections.append({
                "title": _TITLES[name],
                "charts": charts_view(report, labels_fa),
                "tables": [table_view(report.table(key), labels_fa) for key in keep]})
    progress(f"[{len(SECTIONS) + 1}/{len(SECTIONS) + 1}] pdf")
    env = Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")),
                      autoescape=select_autoescape())
    html = env.get_template("reports_monthly.html").render(
        sections=sections, month=digits(month, "fa"),
        first=digits(jalali(filters.period.first), "fa"),
        last=digits(jalali(filters.period.last), "fa"),
        font_dir=(STATIC_DIR / "fonts").as_uri())
    target = report_path(settings, month)
    target.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, base_url=str(STATIC_DIR)).write_pdf(target)
    return target


_TITLES = {"contact": "مرکز تماس", "requests": "درخواست‌ها", "satisfaction": "رضایت شهروندان",
           "needs": "نیاز محله‌ها"}
