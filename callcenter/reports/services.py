"""Build a report by name: the one entry the web routes, exports and the page use.

Every figure is an SQL aggregate (see ``queries_*.py``); the builders only turn sums
into ratios and tables. Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from callcenter.reports import services_contact as contact
from callcenter.reports.filters import ReportFilters
from callcenter.reports.services_needs import needs
from callcenter.reports.services_requests import requests_report
from callcenter.reports.services_satisfaction import satisfaction
from callcenter.reports.tables import Report
from callcenter.settings import Settings

# Reports a manager may read (aggregates only). ``abandoned`` has phone numbers and is
# built apart, for supervisors and admins.
REPORT_NAMES = ("contact", "agents", "ivr", "repeats", "requests", "satisfaction", "needs")


def build_report(name: str, *, session: Session, filters: ReportFilters, settings: Settings,
                 now: datetime, populations: dict[str, int] | None = None,
                 exclude_short: bool | None = None) -> Report:
    """The report ``name`` (one of ``REPORT_NAMES`` or ``abandoned``) for ``filters``."""
    if name == "contact":
        return contact.contact_center(session=session, filters=filters, settings=settings,
                                      exclude_short=exclude_short)
    if name == "agents":
        return contact.agents(session=session, filters=filters, now=now)
    if name == "ivr":
        return contact.ivr(session=session, filters=filters)
    if name == "repeats":
        return contact.repeats(session=session, filters=filters)
    if name == "requests":
        return requests_report(session=session, filters=filters, now=now)
    if name == "satisfaction":
        return satisfaction(session=session, filters=filters)
    if name == "needs":
        return needs(session=session, filters=filters, populations=populations or {})
    if name == "abandoned":
        return contact.abandoned(session=session, filters=filters)
    raise KeyError(name)
