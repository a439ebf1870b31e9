"""Presence and rate limits shared by two instances over PostgreSQL (issue 19): a
break or the end of wrap-up taken on one instance shows on the other; a restarted
instance loads who is where; limits count once across instances."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from support.databases import POSTGRES_URL, create_postgres_database, drop_postgres_database

from callcenter.agent_panel.presence import AgentBoard, AgentState
from callcenter.cluster.bus import PgEventBus
from callcenter.cluster.dsn import libpq_dsn
from callcenter.cluster.limits import StoreLoginLimiter, StoreTokenBucket
from callcenter.cluster.presence import SharedPresence
from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine
from callcenter.db.migrate import alembic_config
from callcenter.notifier import Notifier

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="shared state needs PostgreSQL")


@pytest.fixture
def url() -> Iterator[str]:
    url = create_postgres_database("cc_shared")
    engine = build_engine(url)
    prepare_store(engine)
    engine.dispose()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def store(url: str) -> Iterator[Engine]:
    engine = build_engine(url)
    yield engine
    engine.dispose()


class Instance:
    def __init__(self, url: str, engine: Engine, name: str) -> None:
        self.notifier = Notifier()
        self.board = AgentBoard()
        self.bus = PgEventBus(dsn=libpq_dsn(url), engine=engine, notifier=self.notifier,
                              instance=name)
        self.presence = SharedPresence(board=self.board, bus=self.bus, engine=engine,
                                       notifier=self.notifier, instance=name)

    async def start(self) -> None:
        await self.bus.start()
        await self.presence.start()

    async def stop(self) -> None:
        await self.presence.stop()
        await self.bus.stop()


async def until(predicate: Any, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.01)


async def test_a_break_and_a_ready_on_one_instance_show_on_the_other(
        url: str, store: Engine) -> None:
    a, b = Instance(url, store, "a"), Instance(url, store, "b")
    await a.start()
    await b.start()
    try:
        a.board.fire("2101", "join")
        a.board.fire("2101", "pause", reason="lunch")
        await until(lambda: b.board.get("2101").state == AgentState.ON_BREAK)
        assert b.board.get("2101").reason == "lunch"
        b.board.fire("2101", "resume")  # the agent's panel is on b now
        await until(lambda: a.board.get("2101").state == AgentState.AVAILABLE)
        # a restarted instance c loads the current presence from the store
        a.board.fire("2102", "join")
        a.board.fire("2102", "pause", reason="training")
        await until(lambda: b.board.get("2102").state == AgentState.ON_BREAK)
        await until(lambda: a.presence.health()["pending"] == 0)
        await asyncio.sleep(0.2)
        c = Instance(url, store, "c")
        await c.start()
        try:
            assert c.board.get("2102").state == AgentState.ON_BREAK
            assert c.board.get("2102").reason == "training"
            assert c.board.get("2101").state == AgentState.AVAILABLE
        finally:
            await c.stop()
    finally:
        await a.stop()
        await b.stop()


async def test_an_older_presence_never_overwrites_a_newer(url: str, store: Engine) -> None:
    board = AgentBoard()
    board.fire("2101", "join", at=100.0)
    assert not board.apply("2101", state="on_break", since=50.0, reason="old")
    assert board.get("2101").state == AgentState.AVAILABLE
    assert board.apply("2101", state="on_break", since=150.0, reason="new")
    assert (board.get("2101").state, board.get("2101").reason) == (AgentState.ON_BREAK, "new")


def test_a_token_bucket_counts_once_across_instances(store: Engine) -> None:
    now = [1000.0]
    one = StoreTokenBucket(engine=store, family="status", rate_per_minute=6, burst=3,
                           clock=lambda: now[0])
    two = StoreTokenBucket(engine=store, family="status", rate_per_minute=6, burst=3,
                           clock=lambda: now[0])
    answers = [limiter.allow("10.0.0.1") for limiter in (one, two, one, two, one)]
    assert answers == [True, True, True, False, False]
    assert two.retry_after("10.0.0.1") == 10  # 6 per minute: one token in 10 s
    assert one.allow("10.0.0.2")  # another key has its own bucket
    now[0] += 10
    assert two.allow("10.0.0.1") and not one.allow("10.0.0.1")
    other = StoreTokenBucket(engine=store, family="open311-read", rate_per_minute=6,
                             burst=3, clock=lambda: now[0])
    assert other.allow("10.0.0.1")  # families are apart


def test_the_login_limits_count_across_instances(store: Engine) -> None:
    now = [5000.0]

    def limiter() -> StoreLoginLimiter:
        return StoreLoginLimiter(engine=store, max_failures=3, window_seconds=60,
                                 user_max_failures=5, user_lockout_cap=20,
                                 clock=lambda: now[0])

    a, b = limiter(), limiter()
    for instance in (a, b, a):
        assert instance.attempt(source_key="ip:1", user_key="user:ali") == 0
    assert b.attempt(source_key="ip:1", user_key="user:ali") == pytest.approx(60)
    # a right password on b returns the source's slot and clears the user on a too
    b.succeeded(source_key="ip:1", user_key="user:ali")
    assert a.attempt(source_key="ip:1", user_key="user:ali") == 0
    # the user's lockout is capped across sources
    for n in range(4):
        (a, b)[n % 2].attempt(source_key=f"ip:{10 + n}", user_key="user:reza")
    assert a.attempt(source_key="ip:20", user_key="user:reza") == 0  # the 5th
    assert b.attempt(source_key="ip:21", user_key="user:reza") == pytest.approx(20)
    now[0] += 21
    assert a.attempt(source_key="ip:22", user_key="user:reza") == 0


def test_concurrent_logins_on_two_instances_never_pass_the_limit(store: Engine) -> None:
    import concurrent.futures

    limiters = [StoreLoginLimiter(engine=store, max_failures=5, window_seconds=300)
                for _ in range(2)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(
            lambda n: limiters[n % 2].attempt(source_key="ip:9", user_key=f"user:u{n}"),
            range(40)))
    assert sum(1 for wait in waits if wait == 0) == 5


def test_two_instances_starting_together_migrate_one_after_the_other() -> None:
    import concurrent.futures

    fresh = create_postgres_database("cc_migrate")
    engines = [build_engine(fresh) for _ in range(2)]
    try:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(prepare_store, engine) for engine in engines]:
                future.result()  # neither failed on the other's half-made schema
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(engines[0])).get_current_head()
        with engines[0].connect() as conn:
            from sqlalchemy import text as sql

            assert conn.execute(sql("SELECT version_num FROM alembic_version")).scalar_one() \
                == head
    finally:
        for engine in engines:
            engine.dispose()
        drop_postgres_database(fresh)
