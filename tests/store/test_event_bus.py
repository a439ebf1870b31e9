"""The event bus over PostgreSQL (issue 19): what one instance publishes reaches every
instance's notifier in order, with its bus id; a panel's missed pops are found by the
last id it saw; old events are pruned."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from support.databases import POSTGRES_URL, create_postgres_database, drop_postgres_database

from callcenter.calls.events import AgentRinging, CallEnded, Outcome
from callcenter.cluster.bus import PgEventBus
from callcenter.cluster.dsn import libpq_dsn
from callcenter.cluster.events import QueueSnapshot, current_event_id
from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine
from callcenter.notifier import Notifier

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="the bus needs PostgreSQL")


@pytest.fixture
def url() -> Iterator[str]:
    url = create_postgres_database("cc_bus")
    engine = build_engine(url)
    prepare_store(engine)
    engine.dispose()
    yield url
    drop_postgres_database(url)


def ringing(n: int, agent: str = "2101") -> AgentRinging:
    return AgentRinging(linkedid=f"1700000000.{n}", at=time.time(), agent=agent,
                        interface=f"PJSIP/{agent}", caller="09121234567", caller_name="",
                        queue="citizen-requests", ivr_path=("1",))


def ended(n: int) -> CallEnded:
    return CallEnded(linkedid=f"1700000000.{n}", at=1.0, outcome=Outcome.ANSWERED,
                     caller="09121234567", caller_name="", parties=(), answered_by="2101",
                     transfers=(), queue=None, started_at=1.0, answered_at=2.0, ended_at=3.0,
                     wait_seconds=1.0, talk_seconds=1.0, hangup_by=None)


class Heard:
    def __init__(self, notifier: Notifier) -> None:
        self.events: list[tuple[int | None, Any]] = []
        notifier.subscribe(object, self.on_event)

    def on_event(self, event: Any) -> None:
        self.events.append((current_event_id.get(), event))


ENGINES: list[Any] = []


@pytest.fixture(autouse=True)
def _dispose() -> Iterator[None]:
    yield
    while ENGINES:
        ENGINES.pop().dispose()


def bus(url: str, instance: str) -> tuple[PgEventBus, Heard]:
    notifier = Notifier()
    engine = build_engine(url)
    ENGINES.append(engine)
    return (PgEventBus(dsn=libpq_dsn(url), engine=engine, notifier=notifier,
                       instance=instance), Heard(notifier))


async def until(predicate: Any, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.01)


async def test_every_instance_hears_every_event_in_order(url: str) -> None:
    (a, heard_a), (b, heard_b) = bus(url, "a"), bus(url, "b")
    await a.start()
    await b.start()
    try:
        sent: list[Any] = []
        for n in range(30):
            event = ringing(n) if n % 3 else ended(n)
            sent.append(event)
            (a if n % 2 else b).publish(event)  # both instances write
            if n % 7 == 0:
                await asyncio.sleep(0.01)
        snapshot = QueueSnapshot(pbx="default", at=1.0, queues={"q": {"members": []}})
        a.publish(snapshot)
        await until(lambda: len(heard_a.events) == 31 and len(heard_b.events) == 31)
        # The same events with the same ids on both, each once. Two writers' ids can
        # commit out of order (13 after 14): the late one is still delivered (the gap
        # is looked for again), so the order is each writer's own order, not a global one.
        assert sorted(heard_a.events, key=lambda e: e[0] or 0) == sorted(
            heard_b.events, key=lambda e: e[0] or 0)
        ids = [event_id for event_id, _ in heard_a.events]
        assert None not in ids and len(set(ids)) == 31
        for heard in (heard_a, heard_b):
            for writer in (0, 1):
                mine = [e.linkedid for _, e in heard.events
                        if hasattr(e, "linkedid") and int(e.linkedid.split(".")[1]) % 2 == writer]
                assert mine == [e.linkedid for i, e in enumerate(sent) if i % 2 == writer]
        assert sorted(map(repr, (e for _, e in heard_a.events))) == sorted(
            map(repr, [*sent, snapshot]))
        assert a.health()["state"] == "up" and a.delivered == 31
    finally:
        await a.stop()
        await b.stop()


async def test_a_reconnecting_panel_finds_the_pops_it_missed(url: str) -> None:
    (a, heard), (_b, _) = bus(url, "a"), bus(url, "b")
    await a.start()
    try:
        a.publish(ringing(1))
        await until(lambda: len(heard.events) == 1)
        seen = heard.events[0][0]
        assert seen is not None
        for n, agent in ((2, "2101"), (3, "2102"), (4, "2101")):
            a.publish(ringing(n, agent))
        await until(lambda: len(heard.events) == 4)
        missed = a.missed_pops("2101", seen)
        assert [event.linkedid for _, event in missed] == ["1700000000.2", "1700000000.4"]
        assert all(event_id > seen for event_id, _ in missed)
        assert a.missed_pops("2101", max(i for i, _ in heard.events if i)) == []
        assert a.missed_pops("2199", 0) == []
    finally:
        await a.stop()


async def test_an_instance_started_later_hears_only_what_comes_after(url: str) -> None:
    (a, heard_a), (b, heard_b) = bus(url, "a"), bus(url, "b")
    await a.start()
    try:
        a.publish(ringing(1))
        await until(lambda: len(heard_a.events) == 1)
        await b.start()
        a.publish(ringing(2))
        await until(lambda: len(heard_b.events) == 1)
        assert heard_b.events[0][1].linkedid == "1700000000.2"
    finally:
        await a.stop()
        await b.stop()


async def test_old_events_are_pruned(url: str) -> None:
    a, heard = bus(url, "a")
    await a.start()
    try:
        for n in range(3):
            a.publish(ringing(n))
        await until(lambda: len(heard.events) == 3)
        with a.engine.begin() as conn:
            conn.execute(text("UPDATE cluster_event SET created_at = now() - :age"
                              " WHERE id = (SELECT min(id) FROM cluster_event)"),
                         {"age": timedelta(hours=25)})
        assert a.prune() == 1
        with a.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cluster_event")).scalar_one() == 2
    finally:
        await a.stop()
