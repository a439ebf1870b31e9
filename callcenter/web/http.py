"""Static assets of the UI (CSS, scripts), served by the app itself: no CDN."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from callcenter.web.templates import STATIC_DIR

router = APIRouter()
router.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
