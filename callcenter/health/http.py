"""``GET /health``: each part's state (database, pools, AMI, FastAGI, scheduler).

In production an anonymous caller gets the bare liveness answer (``{"status": ...}``,
200 or 503, what a load balancer needs); the parts' details (hosts, ports, errors, queue
sizes) are for signed-in staff. Elsewhere the detail is public (development, tests)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from callcenter.auth.deps import session_user
from callcenter.auth.sessions import SESSION_COOKIE
from callcenter.deps import AppServices

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(request: Request, services: AppServices) -> JSONResponse:
    """200 when every part is up; 503 with the same body when one is degraded."""
    report: dict[str, Any] = services.runtime.health()
    code = 200 if report["status"] == "ok" else 503
    if services.settings.environment == "production" and await session_user(
            services, request.cookies.get(SESSION_COOKIE)) is None:
        return JSONResponse({"status": report["status"]}, status_code=code)
    return JSONResponse(report, status_code=code)
