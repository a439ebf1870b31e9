"""``/reports`` (the page) and ``/api/reports/...`` (the same figures as JSON, CSV, XLSX).

Thin: parse the filters, call ``services.build_report``, shape the answer. Managers,
supervisors and admins read reports; the abandoned-calls list carries phone numbers
and is for supervisors and admins only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from callcenter.auth.deps import DbSession, ReportsUser, SupervisorUser
from callcenter.clock import as_utc, utcnow
from callcenter.deps import get_services
from callcenter.reference.services import populations
from callcenter.reports import page
from callcenter.reports.exports import to_csv, to_xlsx
from callcenter.reports.filters import ReportFilters
from callcenter.reports.monthly import PDF_NAME, built_reports
from callcenter.reports.periods import jalali, month_period, preset_period
from callcenter.reports.schemas import ReportOut, ReportParams, ReportQuery
from callcenter.reports.services import build_report
from callcenter.reports.tables import Report
from callcenter.settings import Settings
from callcenter.web.templating import language_of

router = APIRouter(tags=["reports"])


class ReportName(StrEnum):
    CONTACT = "contact"
    AGENTS = "agents"
    IVR = "ivr"
    REPEATS = "repeats"
    REQUESTS = "requests"
    SATISFACTION = "satisfaction"
    NEEDS = "needs"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def report_filters(params: ReportQuery, settings: Settings) -> ReportFilters:
    """The period and filters the query names (the period in ``settings.timezone``)."""
    if params.month:
        period = month_period(params.month, settings.timezone)
    else:
        period = preset_period(params.preset, now=utcnow(), timezone=settings.timezone,
                               first=params.date_from, last=params.date_to)
    return ReportFilters(
        period=period, granularity=params.granularity, department=params.department,
        category=params.category, neighbourhood=params.neighbourhood,
        district=params.district, channel=params.channel and str(params.channel))


def _report(name: str, request: Request, params: ReportQuery,
            session: DbSession) -> tuple[ReportFilters, Report]:
    settings: Settings = get_services(request).settings
    filters = report_filters(params, settings)
    report = build_report(name, session=session, filters=filters, settings=settings,
                          now=utcnow(), populations=populations(settings.reference_dir),
                          exclude_short=params.exclude_short_abandons)
    return filters, report


def report_out(filters: ReportFilters, report: Report) -> ReportOut:
    body: dict[str, Any] = report.as_dict()
    period = filters.period
    return ReportOut.model_validate({
        **body, "filters": dict(filters.described()),
        "period": {"first": jalali(period.first), "last": jalali(period.last),
                   "start_utc": as_utc(period.start).isoformat(),
                   "end_utc": as_utc(period.end).isoformat()},
    })


def _export(filters: ReportFilters, report: Report, table: str, fmt: ExportFormat,
            language: str) -> Response:
    try:
        found = report.table(table)
    except KeyError:
        return Response(f"no table {table!r} in report {report.key!r}", status_code=404)
    name = f"{report.key}-{table}-{jalali(filters.period.first)}"
    if fmt == ExportFormat.CSV:
        return Response(to_csv(found, filters, language), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(
        to_xlsx(found, filters, language),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/api/reports/abandoned-calls", response_model=ReportOut)
def abandoned_calls(request: Request, params: ReportParams, _user: SupervisorUser,
                    session: DbSession) -> ReportOut:
    """Abandoned calls with number, wait and whether a callback was made (supervisors)."""
    return report_out(*_report("abandoned", request, params, session))


@router.get("/api/reports/abandoned-calls/export")
def abandoned_export(request: Request, params: ReportParams, _user: SupervisorUser,
                     session: DbSession,
                     fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.CSV,
                     ) -> Response:
    """The abandoned-calls list as CSV or XLSX (supervisors)."""
    filters, report = _report("abandoned", request, params, session)
    return _export(filters, report, "abandoned", fmt, language_of(request))


@router.get("/api/reports/{report}", response_model=ReportOut)
def read_report(report: ReportName, request: Request, params: ReportParams, _user: ReportsUser,
                session: DbSession) -> ReportOut:
    """One report's figures (totals), tables and chart definitions for the filters."""
    return report_out(*_report(report, request, params, session))


@router.get("/api/reports/{report}/export")
def export_table(report: ReportName, request: Request, params: ReportParams,
                 _user: ReportsUser, session: DbSession,
                 table: Annotated[str, Query(max_length=40, description="A table key")],
                 fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.CSV,
                 ) -> Response:
    """One table of a report as CSV (UTF-8 with BOM) or XLSX, the filters on top."""
    filters, built = _report(report, request, params, session)
    return _export(filters, built, table, fmt, language_of(request))


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(request: Request, params: ReportParams, user: ReportsUser,
                 session: DbSession,
                 report: Annotated[ReportName, Query()] = ReportName.CONTACT) -> HTMLResponse:
    filters, built = _report(report, request, params, session)
    settings: Settings = get_services(request).settings
    return page.render_page(request, session=session, user=user,
                            monthly=built_reports(settings), filters=filters, report=built,
                            names=[str(n) for n in ReportName])


@router.get("/reports/monthly/{name}", include_in_schema=False)
def monthly_pdf(name: str, request: Request, _user: ReportsUser) -> Response:
    """A built monthly PDF (only names ``report-YYYY-MM.pdf`` from ``data/reports/``)."""
    settings: Settings = get_services(request).settings
    if not PDF_NAME.fullmatch(name) or name not in built_reports(settings):
        return Response("no such report", status_code=404)
    return FileResponse(settings.data_dir / "reports" / name, media_type="application/pdf",
                        filename=name)
