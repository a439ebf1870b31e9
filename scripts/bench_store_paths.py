"""The hot paths ``scripts/bench-store`` times, each through the product's own functions.

Each entry makes one call from a random generator: half the phones and codes exist in
the store (heavy callers included), half do not (a first-time caller, a mistyped code).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from datetime import time as day_time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import bench_store_build as build
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.agent_panel.services import (
    first_pop,
    load_reference_names,
    pop_history,
    save_from_pop,
)
from callcenter.agent_panel.tasks import task_rows
from callcenter.agi.backend import StoreIvrBackend
from callcenter.auth.services import SignedInUser
from callcenter.callrecords.services import record_call
from callcenter.calls.events import AgentRinging, CallEnded, Outcome
from callcenter.cases.http import list_cases, read_case
from callcenter.cases.models import CitizenRequest
from callcenter.clock import utcnow
from callcenter.errors import DomainError
from callcenter.intake.duplicates import suggest_duplicates
from callcenter.reference.hours import Holidays, Hours
from callcenter.sms.messages import load_catalogue
from callcenter.stats import queries
from callcenter.status_page.services import public_status
from callcenter.users.models import Role

TIMEZONE = "Asia/Tehran"
Work = Callable[[Session], Any]
Maker = Callable[[random.Random], Work]


class Picks:
    """Random existing and unknown phones, codes and requests of a store of ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.citizens = max(200, size * 2 // 5)

    def caller(self, rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.1:
            return build.national(rng.randint(1, build.HEAVY_CITIZENS))
        if roll < 0.5:
            return build.national(rng.randint(build.HEAVY_CITIZENS + 1, self.citizens))
        return build.unknown_phone(rng)

    def code(self, rng: random.Random) -> str:
        if rng.random() < 0.5:
            return build.tracking_code(rng.randint(1, self.size))
        if rng.random() < 0.5:  # well-formed, not in the store
            return build.tracking_code(rng.randint(self.size + 1_000, 8_999_999))
        return f"{rng.randrange(10**7, 10**8)}"  # mostly a failed check digit

    def request_id(self, rng: random.Random) -> int:
        return rng.randint(1, self.size)


def _swallow(work: Callable[[Session], Any]) -> Work:
    def run(session: Session) -> Any:
        try:
            return work(session)
        except DomainError:  # unknown code or phone: the path's own answer
            return None
    return run


def _ringing(rng: random.Random, picks: Picks) -> AgentRinging:
    code = picks.code(rng) if rng.random() < 0.3 else None
    return AgentRinging(linkedid=f"bench.{rng.randrange(10**9)}", at=time.time(),
                        agent="2101", interface="PJSIP/2101", caller=picks.caller(rng),
                        caller_name="", queue="citizen-requests",
                        ivr_path=("lang:fa", "menu:0", "category:1"), request_code=code)


def _ended(rng: random.Random, picks: Picks, linkedid: str) -> CallEnded:
    now = time.time()
    outcome = Outcome.ABANDONED if rng.random() < 0.2 else Outcome.ANSWERED
    answered = outcome == Outcome.ANSWERED
    return CallEnded(
        linkedid=linkedid, at=now, outcome=outcome, caller=picks.caller(rng), caller_name="",
        parties=("PJSIP/2101",) if answered else (), answered_by="PJSIP/2101" if answered
        else None, transfers=(), queue="citizen-requests", started_at=now - 120,
        answered_at=now - 100 if answered else None, ended_at=now, wait_seconds=20.0,
        talk_seconds=100.0 if answered else 0.0, hangup_by="caller",
        ivr_path=("lang:fa", "menu:0"))


def _backlog(session: Session) -> Any:
    return queries.backlog_lines(session=session, now=utcnow())


def hot_paths(*, engine: Engine, size: int) -> list[tuple[str, Maker, bool]]:
    """(name, maker of one call, whether the call commits) for every hot path."""
    picks = Picks(size)
    with Session(engine) as session:
        reference = load_reference_names(session=session)
        categories = [c for c in reference.names["category"]]
        hoods = [h for h in reference.names["neighbourhood"]]
    catalogue = load_catalogue()
    supervisor = SignedInUser(id=1, username="bench", full_name="Bench", role=Role.SUPERVISOR,
                              extension=None, language="fa", csrf_token="x")
    backend = StoreIvrBackend(
        engine=engine, queue_name="citizen-requests",
        hours=Hours(zone=ZoneInfo(TIMEZONE), opens=day_time(0), closes=day_time(23, 59),
                    holidays=Holidays(frozenset(), frozenset())))
    loop = asyncio.new_event_loop()
    filed: list[str] = []  # linkedids of calls a request was filed from (linked at end)
    serial = itertools.count(1)

    def pop(rng: random.Random) -> Work:
        event = _ringing(rng, picks)
        return lambda _s: first_pop(event=event, reference=reference)

    def history(rng: random.Random) -> Work:
        event = _ringing(rng, picks)
        return lambda s: pop_history(session=s, event=event, reference=reference)

    def today(_rng: random.Random) -> Work:
        return lambda s: queries.today_report(session=s, now=utcnow(), timezone=TIMEZONE,
                                              threshold_seconds=20)

    def follow_ups(_rng: random.Random) -> Work:
        return lambda s: task_rows(session=s, user=supervisor)

    def by_phone(rng: random.Random) -> Work:
        phone = picks.caller(rng)
        return _swallow(lambda s: list_cases(None, s, phone=phone, code=None, status=None,  # type: ignore[arg-type]
                                             page=1, per_page=50))

    def by_code(rng: random.Random) -> Work:
        code = picks.code(rng)
        return _swallow(lambda s: list_cases(None, s, phone=None, code=code, status=None,  # type: ignore[arg-type]
                                             page=1, per_page=50))

    def read(rng: random.Random) -> Work:
        code = picks.code(rng)
        return _swallow(lambda s: read_case(code, None, s))  # type: ignore[arg-type]

    def status(rng: random.Random) -> Work:
        code = picks.code(rng)
        return _swallow(lambda s: public_status(session=s, code=code, catalogue=catalogue,
                                                timezone=TIMEZONE))

    def greeting(rng: random.Random) -> Work:
        phone = picks.caller(rng)
        return lambda _s: loop.run_until_complete(backend.open_requests(phone=phone))

    def duplicates(rng: random.Random) -> Work:
        request_id = picks.request_id(rng)

        def run(s: Session) -> Any:
            # the request by its key, then the rule-2 query (never committed: a check)
            request = s.exec(select(CitizenRequest).where(CitizenRequest.id == request_id)).one()
            return suggest_duplicates(session=s, request=request, window=timedelta(hours=72))
        return run

    def filing(rng: random.Random) -> Work:
        linkedid = f"bench.file.{time.time():.0f}.{next(serial)}"
        filed.append(linkedid)
        phone, category = picks.caller(rng), rng.choice(categories)
        hood = rng.choice(hoods)
        return lambda s: save_from_pop(
            session=s, actor="bench", linkedid=linkedid, phone=phone, category_code=category,
            neighbourhood_code=hood, description="bench", citizen_name=None,
            tracking_code=None, new_status=None, note=None)

    def call_end(rng: random.Random) -> Work:
        linkedid = filed.pop() if filed and rng.random() < 0.5 else (
            f"bench.call.{time.time():.0f}.{next(serial)}")
        ended = _ended(rng, picks, linkedid)
        return lambda s: record_call(session=s, ended=ended)

    return [
        ("screen-pop: first pop", pop, False),
        ("screen-pop: history", history, False),
        ("supervisor: today figures", today, False),
        ("supervisor: follow-up list", follow_ups, False),
        ("supervisor: backlog per department", lambda _r: _backlog, False),
        ("case search by phone", by_phone, False),
        ("case search by code", by_code, False),
        ("case read", read, False),
        ("status page", status, False),
        ("IVR open-requests greeting", greeting, False),
        ("duplicate check at filing", duplicates, False),
        ("filing a request", filing, True),
        ("recording a call's end", call_end, True),
    ]
