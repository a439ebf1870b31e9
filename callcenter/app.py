"""``create_app(settings)``: ``compose`` plus the routers, and the lifespan that runs it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from callcenter.compose import compose, prepare_store
from callcenter.errors import DomainError
from callcenter.http_routes import routers
from callcenter.settings import Settings
from callcenter.web.security import app_options
from callcenter.web.security import install as install_web_security

log = logging.getLogger(__name__)
__all__ = ["create_app", "prepare_store"]


def create_app(settings: Settings, *, start_parts: bool = True,
               extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """Build the web app; its lifespan migrates the store and runs every part.

    ``start_parts=False`` composes the web side only (no AMI, FastAGI, scheduler or
    SMS provider); ``extra_routers`` are mounted after the app's own (tests mount
    their hooks here: production never does).
    """
    composition = compose(settings, telephony=start_parts)
    services = composition.services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_store(services.engine, reference_dir=settings.reference_dir)
        await services.runtime.start()
        # The hubs subscribe before any page opens, so the board follows calls at once.
        services.panel_hub.start()
        services.supervisor_hub.start()
        try:
            yield
        finally:
            await services.supervisor_hub.stop()
            await services.notifier.drain()  # pops in flight read the store: let them end
            services.panel_hub.stop()
            # In-flight deliveries (call records) finish before the parts stop and the
            # engine is disposed; citizen SMS are rows (the next start sends what is left).
            await services.notifier.drain()
            await services.runtime.stop()

    app = FastAPI(title="137 call center bridge", version="0.1.0", lifespan=lifespan,
                  **app_options(settings))
    app.state.services = services
    install_web_security(app, settings)  # headers; docs behind a login in production

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.status_code)

    for router in [*routers(), *extra_routers]:
        app.include_router(router)
    return app
