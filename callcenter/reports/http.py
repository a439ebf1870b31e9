"""``/reports`` (the page) and ``/api/reports/...`` (the same figures as JSON, CSV, XLSX).

Thin: parse the filters, call ``services.build_report``, shape the answer. Managers,
supervisors and admins read reports; the abandoned-calls list carries phone numbers
and is for supervisors and admins only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from callcenter.auth.deps import DbSession, ReportsUser, SupervisorUser
from callcenter.auth.services import SignedInUser
from callcenter.clock import as_utc, utcnow
from callcenter.deps import get_services
from callcenter.reference.services import populations
from callcenter.reports import page
from callcenter.reports.exports import to_csv, to_xlsx
from callcenter.reports.filters import ReportFilters
from callcenter.reports.jobs import EXPORT_NAME, ReportJobs, job_view
from callcenter.reports.models import JobKind, JobState
from callcenter.reports.monthly import PDF_NAME, built_reports
from callcenter.reports.periods import jalali
from callcenter.reports.schemas import ReportOut, ReportParams, ReportQuery, filters_of
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
    return filters_of(params, settings, now=utcnow())


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


class ExportJobIn(BaseModel):
    """A background export: the whole report (every table) or one table."""

    table: str | None = Field(None, max_length=40, description="A table key; none: all")
    format: ExportFormat = ExportFormat.XLSX


class JobOut(BaseModel):
    key: str
    kind: str
    state: str = Field(description="pending, running, done or failed")
    progress: int = Field(description="0-100")
    step: str
    error: str | None
    report: str | None
    table: str | None
    format: str | None
    download: str | None = Field(description="The file's URL once done")


@router.post("/api/reports/{report}/export-jobs", response_model=JobOut, status_code=202)
def start_export(report: ReportName, request: Request, params: ReportParams,
                 body: ExportJobIn, user: ReportsUser) -> JobOut:
    """Start an export in the background (long ranges): poll ``/api/reports/jobs/{key}``
    for its progress, download the file when it is done. A bad filter is a 422."""
    jobs = get_services(request).report_jobs
    key = jobs.submit_export(report=str(report), query=params, table=body.table,
                             fmt=str(body.format), language=language_of(request),
                             user_id=user.id)
    return _job_out(jobs, key, user)


def _job_out(jobs: ReportJobs, key: str, user: SignedInUser) -> JobOut:
    job = jobs.get(key)
    if job is None or job.kind != JobKind.EXPORT or job.requested_by != user.id:
        raise HTTPException(404, "no such export job")
    return JobOut.model_validate(job_view(job))


@router.get("/api/reports/jobs/{key}", response_model=JobOut)
def read_job(key: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], request: Request,
             user: ReportsUser) -> JobOut:
    """An export job's state and progress (only the one who started it sees it)."""
    return _job_out(get_services(request).report_jobs, key, user)


@router.get("/api/reports/jobs/{key}/file")
def job_file(key: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], request: Request,
             user: ReportsUser) -> Response:
    """The finished export's file (CSV or XLSX)."""
    jobs = get_services(request).report_jobs
    out = _job_out(jobs, key, user)
    job = jobs.get(key)
    if out.state != JobState.DONE or job is None or not job.file_name \
            or not EXPORT_NAME.fullmatch(job.file_name):
        raise HTTPException(409, "the export is not done")
    media = ("text/csv; charset=utf-8" if job.file_name.endswith(".csv") else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    params = job.params or {}
    name = f"{params.get('report')}-{params.get('table') or 'all'}.{job.file_name[-4:].strip('.')}"
    return FileResponse(jobs.folder / job.file_name, media_type=media, filename=name)


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
    services = get_services(request)
    return page.render_page(request, session=session, user=user,
                            monthly=built_reports(services.settings),
                            exports=services.report_jobs.recent_exports(user.id),
                            filters=filters, report=built, names=[str(n) for n in ReportName])


@router.get("/reports/monthly/{name}", include_in_schema=False)
def monthly_pdf(name: str, request: Request, _user: ReportsUser) -> Response:
    """A built monthly PDF (only names ``report-YYYY-MM.pdf`` from ``data/reports/``)."""
    settings: Settings = get_services(request).settings
    if not PDF_NAME.fullmatch(name) or name not in built_reports(settings):
        return Response("no such report", status_code=404)
    return FileResponse(settings.data_dir / "reports" / name, media_type="application/pdf",
                        filename=name)
