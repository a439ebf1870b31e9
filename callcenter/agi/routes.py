"""The AGI script table (``main``, ``callback``, ``survey``) over the live store.

Used by ``serve`` (FastAGI, with the live queue state and the messages' wake) and by the
classic ``callcenter-agi`` entry point, which builds it with no arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from callcenter.agi.backend import StoreIvrBackend
from callcenter.calls.queue_state import QueueView
from callcenter.cases.tracking import is_valid_code
from callcenter.reference.calendar import opening_hours
from callcenter.reference.hours import Hours
from callcenter.reference.services import read_reference
from callcenter.settings import Settings
from callcenter.sms.messages import SmsCatalogue, load_catalogue
from ivr_flows.config import FlowConfig
from ivr_flows.flows import FlowHandler, build_flows


def hours_of(settings: Settings) -> Hours:
    """The contact center's opening hours from settings and the holiday file."""
    return opening_hours(settings)


def districts_of(settings: Settings) -> tuple[int, ...]:
    """The municipal districts of ``neighbourhoods.yaml``: the keys of the district step."""
    rows = read_reference(settings.reference_dir)["neighbourhoods"]
    return tuple(sorted({int(row["district"]) for row in rows}))


def flow_routes(*, settings: Settings, engine: Engine, queue_state: QueueView | None = None,
                wake_messages: Callable[[], None] | None = None, assume_agents: bool = False,
                catalogue: SmsCatalogue | None = None,
                runner: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
                ) -> Mapping[str, FlowHandler]:
    """The flows wired to the store; ``queue_state`` tells whether agents are logged in;
    ``catalogue`` is the app's SMS texts (read here when the caller has none); ``runner``
    runs the store work (the app's bounded ``ivr`` pool)."""
    backend = StoreIvrBackend(engine=engine, hours=hours_of(settings),
                              queue_name=settings.queue_name, queue_state=queue_state,
                              wake_messages=wake_messages, assume_agents=assume_agents,
                              catalogue=catalogue or load_catalogue(settings.sms_messages_file),
                              runner=runner)
    config = FlowConfig(recordings_dir=Path(settings.pbx_recordings_dir),
                        districts=districts_of(settings),
                        callback_offer_after=settings.callback_offer_after_seconds)
    return build_flows(backend=backend, config=config, validate_code=is_valid_code)


def build_routes() -> Mapping[str, FlowHandler]:
    """For ``callcenter-agi`` (one process per call, no AMI): settings from the
    environment/config file; with no live queue view, agents count as available and
    Asterisk's Queue() decides."""
    from callcenter.db.engine import build_engine
    from callcenter.settings import load_settings

    settings = load_settings()
    engine = build_engine(settings.database_url)
    # The SMS is queued in the store; a running ``callcenter serve`` sends it.
    return flow_routes(settings=settings, engine=engine, assume_agents=True)
