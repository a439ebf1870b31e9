"""What the report APIs take (query filters) and answer (figures, tables, charts)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field, field_validator

from callcenter.cases.models import RequestChannel
from callcenter.reports.filters import ReportFilters
from callcenter.reports.periods import Granularity, Preset, month_period, preset_period
from callcenter.settings import Settings


class ReportQuery(BaseModel):
    """The filters every report takes (all optional; the default is this Jalali month)."""

    preset: Preset = Preset.THIS_MONTH
    month: str | None = Field(None, description="A Jalali month, e.g. 1405-09 (wins)",
                              pattern=r"^\d{4}[-/]\d{1,2}$")
    date_from: str | None = Field(None, alias="from", description="Jalali, e.g. 1405-09-01")
    date_to: str | None = Field(None, alias="to", description="Jalali, e.g. 1405-09-30")
    granularity: Granularity = Granularity.DAY
    department: str | None = Field(None, max_length=40)
    category: str | None = Field(None, max_length=40)
    neighbourhood: str | None = Field(None, max_length=60)
    district: int | None = Field(None, ge=0, le=99)
    channel: RequestChannel | None = None
    exclude_short_abandons: bool | None = Field(
        None, description="Leave short abandons out of the service level (default: settings)")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # The page's form sends every field; an empty one means "no filter".
        return None if value == "" else value


ReportParams = Annotated[ReportQuery, Query()]


def filters_of(params: ReportQuery, settings: Settings, *, now: datetime) -> ReportFilters:
    """The period and filters the query names (the period in ``settings.timezone``);
    a bad period raises ``InvalidInput`` (422)."""
    if params.month:
        period = month_period(params.month, settings.timezone)
    else:
        period = preset_period(params.preset, now=now, timezone=settings.timezone,
                               first=params.date_from, last=params.date_to)
    return ReportFilters(
        period=period, granularity=params.granularity, department=params.department,
        category=params.category, neighbourhood=params.neighbourhood,
        district=params.district, channel=params.channel and str(params.channel))


class TableColumnOut(BaseModel):
    key: str
    fa: str
    en: str
    kind: str


class TableOut(BaseModel):
    key: str
    title_fa: str
    title_en: str
    columns: list[TableColumnOut]
    rows: list[dict[str, Any]]


class ChartOut(BaseModel):
    key: str
    kind: str
    table: str
    x: str
    series: list[str]


class PeriodOut(BaseModel):
    first: str = Field(description="Jalali first day")
    last: str = Field(description="Jalali last day (included)")
    start_utc: str
    end_utc: str


class ReportOut(BaseModel):
    """One report: ``figures`` are the totals (``null`` = undefined, shown "-")."""

    key: str
    period: PeriodOut
    filters: dict[str, str]
    figures: dict[str, Any]
    tables: list[TableOut]
    charts: list[ChartOut]
