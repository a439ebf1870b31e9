"""The ``/reports`` page: a report's tables as display cells, its charts as SVG
(``views.py``), the filters, the monthly PDFs and the background exports."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlmodel import Session
from starlette.responses import HTMLResponse

from callcenter.auth.services import SignedInUser
from callcenter.reports.filters import ReportFilters
from callcenter.reports.periods import Granularity, Preset, jalali
from callcenter.reports.services_needs import EARLIER_PERIODS, RISE_FACTOR, RISE_MIN_EXTRA
from callcenter.reports.tables import Report
from callcenter.reports.views import Labeller, charts_view, reference_names, table_view
from callcenter.web.templating import language_of, render


def render_page(request: Request, *, session: Session, user: SignedInUser,
                filters: ReportFilters, report: Report, names: list[str],
                monthly: list[str], exports: list[dict[str, Any]]) -> HTMLResponse:
    """The report page for ``report`` with its filters, charts, tables and exports."""
    language = language_of(request)
    reference = reference_names(session)
    labels = Labeller(reference, language)
    query = {k: v for k, v in request.query_params.items() if k not in ("report", "lang")}
    return render(request, "reports.html", {
        "user": user, "report": report, "names": names, "monthly": monthly,
        "exports": exports,
        "tables": [table_view(t, labels) for t in report.tables],
        "charts": charts_view(report, labels),
        "figures": report.figures,
        "period_first": jalali(filters.period.first), "period_last": jalali(filters.period.last),
        "query": urlencode(query), "params": request.query_params,
        "presets": [str(p) for p in Preset], "granularities": [str(g) for g in Granularity],
        "reference": sorted(reference.items()),
        "rule": {"earlier": EARLIER_PERIODS, "factor": RISE_FACTOR, "extra": RISE_MIN_EXTRA},
        "boot": {"report": report.key, "query": urlencode(query)},
    })
