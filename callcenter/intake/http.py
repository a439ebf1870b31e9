"""Possible duplicates (rule 2) for agents and supervisors; supervisors confirm."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from callcenter.auth.deps import StaffUser, SupervisorUser
from callcenter.db.engine import session_scope
from callcenter.deps import AppServices
from callcenter.http_types import RowIdPath
from callcenter.intake.duplicates import (
    confirm_duplicate,
    dismiss_duplicate,
    open_suggestions,
    undo_duplicate,
)
from callcenter.intake.models import SuggestionPublic

router = APIRouter(prefix="/intake", tags=["intake"])


@router.get("/duplicates", response_model=list[SuggestionPublic])
async def list_duplicates(services: AppServices, user: StaffUser) -> list[SuggestionPublic]:
    def work() -> list[SuggestionPublic]:
        with session_scope(services.engine) as session:
            return [
                SuggestionPublic(
                    id=s.id, state=s.state, request_code=r.tracking_code,  # type: ignore[arg-type]
                    original_code=o.tracking_code, category_code=r.category_code,
                    neighbourhood_code=r.neighbourhood_code, created_at=s.created_at)
                for s, r, o in open_suggestions(session=session)
            ]

    return await asyncio.to_thread(work)


@router.post("/duplicates/{suggestion_id}/confirm")
async def confirm(services: AppServices, suggestion_id: RowIdPath, user: SupervisorUser
                  ) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with session_scope(services.engine) as session:
            original = confirm_duplicate(session=session, suggestion_id=suggestion_id,
                                         actor=f"user:{user.username}")
            return {"original": original.tracking_code,
                    "reporter_count": original.reporter_count}

    return await asyncio.to_thread(work)


@router.post("/duplicates/{suggestion_id}/dismiss")
async def dismiss(services: AppServices, suggestion_id: RowIdPath, user: StaffUser
                  ) -> dict[str, Any]:
    def work() -> None:
        with session_scope(services.engine) as session:
            dismiss_duplicate(session=session, suggestion_id=suggestion_id,
                              actor=f"user:{user.username}")

    await asyncio.to_thread(work)
    return {"dismissed": suggestion_id}


@router.post("/duplicates/{suggestion_id}/undo")
async def undo(services: AppServices, suggestion_id: RowIdPath, user: SupervisorUser
               ) -> dict[str, Any]:
    """Undo a confirmed duplicate: the request is back on its own (supervisors, as for
    confirming)."""
    def work() -> dict[str, Any]:
        with session_scope(services.engine) as session:
            request = undo_duplicate(session=session, suggestion_id=suggestion_id,
                                     actor=f"user:{user.username}")
            return {"request": request.tracking_code, "status": request.status}

    return await asyncio.to_thread(work)
