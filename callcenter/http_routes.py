"""Every HTTP router of the app, in one visible list (each capability's ``http.py``).

Shared file: add one import and one list entry per router; don't reorder others.
"""

from __future__ import annotations

from fastapi import APIRouter

from callcenter.agent_panel.http import router as agent_panel_router
from callcenter.attachments.http import router as attachments_router
from callcenter.auth.http import router as auth_router
from callcenter.cases.http import router as cases_router
from callcenter.casework.http import router as casework_router
from callcenter.followups.http import router as followups_router
from callcenter.health.http import router as health_router
from callcenter.health.metrics import router as metrics_router
from callcenter.intake.http import router as intake_router
from callcenter.media.http import router as media_router
from callcenter.messenger.http import router as bot_router
from callcenter.open311.http import router as open311_router
from callcenter.reports.http import router as reports_router
from callcenter.sms.http import router as sms_router
from callcenter.status_page.http import router as status_page_router
from callcenter.supervisor.http import router as supervisor_router
from callcenter.web.http import router as web_router
from crm_bridge.http import router as crm_router


def routers() -> list[APIRouter]:
    """The production routers, in mounting order (test hooks are never among them)."""
    return [
        health_router,
        sms_router,
        open311_router,
        status_page_router,
        web_router,
        auth_router,
        agent_panel_router,
        supervisor_router,
        cases_router,
        casework_router,
        intake_router,
        crm_router,
        followups_router,
        reports_router,
        bot_router,
        attachments_router,
        media_router,
        metrics_router,
    ]
