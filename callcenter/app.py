"""``create_app(settings)``: the one place that builds everything and wires it together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from callcenter.db.engine import build_engine, session_scope
from callcenter.db.migrate import upgrade
from callcenter.errors import DomainError
from callcenter.http_routes import routers
from callcenter.notifier import Notifier
from callcenter.pools import POOLS_KEY, WorkerPools
from callcenter.reference.services import sync_reference
from callcenter.runtime import DatabasePart, Runtime
from callcenter.settings import Settings
from callcenter.sms.notify import drain as drain_sms
from callcenter.web.security import app_options
from callcenter.web.security import install as install_web_security

log = logging.getLogger(__name__)


@dataclass
class Container:
    """Everything built once per process and handed to routes and parts."""

    settings: Settings
    engine: Engine
    notifier: Notifier
    runtime: Runtime
    # Set by ``wiring.telephony_parts`` when the parts exist (None in web-only tests):
    queue_state: Any = None  # callcenter.calls.queue_state: live queue/agent snapshot
    ami_actions: Any = None  # callcenter.ami.actions: originate, queue add/pause, hangup
    sms: Any = None  # callcenter.sms: SMS service (send)
    extras: dict[str, Any] = field(default_factory=dict)


def prepare_store(engine: Engine) -> None:
    """Migrate to the newest schema and load the reference data (idempotent)."""
    upgrade(engine)
    with session_scope(engine) as session:
        sync_reference(session=session)




def create_app(settings: Settings, *, start_parts: bool = True) -> FastAPI:
    """Build the web app; its lifespan migrates the store and runs every part."""
    engine = build_engine(settings.database_url)
    notifier = Notifier()
    pools = WorkerPools.from_settings(settings)  # issue 12: store/send/auth pools
    runtime = Runtime([DatabasePart(engine), pools])
    container = Container(settings=settings, engine=engine, notifier=notifier, runtime=runtime)
    container.extras[POOLS_KEY] = pools
    if start_parts:
        from callcenter.wiring import telephony_parts

        runtime.parts.extend(telephony_parts(container))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_store(engine)
        await runtime.start()
        try:
            yield
        finally:
            # In-flight deliveries (call records, SMS) finish before the parts stop and
            # the engine is disposed: nothing is lost, no connection left open.
            await notifier.drain()
            await drain_sms(container)
            await runtime.stop()

    app = FastAPI(title="137 call center bridge", version="0.1.0", lifespan=lifespan,
                  **app_options(settings))
    app.state.container = container
    install_web_security(app, settings)  # headers; docs behind a login in production

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.status_code)

    for router in routers():
        app.include_router(router)
    return app
