"""The one dependency through which routes reach the app's parts: ``AppServices``.

``create_app`` puts ``compose``'s ``Services`` on ``app.state.services``; a route (or a
websocket) declares ``services: AppServices`` and reads what it needs from it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from callcenter.compose import Services


def get_services(connection: HTTPConnection) -> Services:
    """The app's ``Services`` (for helpers handed a request rather than a route)."""
    services: Services = connection.app.state.services
    return services


AppServices = Annotated[Services, Depends(get_services)]
