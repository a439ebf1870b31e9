"""``GET /health``: each part's state (database, AMI, FastAGI, scheduler)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from callcenter.deps import AppServices

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(services: AppServices) -> JSONResponse:
    """200 when every part is up; 503 with the same body when one is degraded."""
    report: dict[str, Any] = services.runtime.health()
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)
