"""Builds the telephony parts (AMI bridge, FastAGI server, scheduler) from settings."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from callcenter.notifier import Notifier
from callcenter.runtime import Part
from callcenter.settings import Settings


def telephony_parts(settings: Settings, engine: Engine, notifier: Notifier) -> list[Part]:
    """AMI, FastAGI and scheduler parts; each is added as its capability lands."""
    return []
