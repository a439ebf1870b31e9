"""The AMI lease on PostgreSQL (issue 19): one holder per PBX, never two, and a standby
takes over when the holder's session dies (pg_terminate_backend: what a SIGKILL or a
lost database connection looks like from the server)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from support.databases import POSTGRES_URL, create_postgres_database, drop_postgres_database

from callcenter.cluster.dsn import libpq_dsn
from callcenter.cluster.lease import AmiLease, lease_holders
from callcenter.db.engine import build_engine

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="the lease needs PostgreSQL")


@pytest.fixture
def dsn() -> Iterator[str]:
    url = create_postgres_database("cc_lease")
    yield libpq_dsn(url)
    drop_postgres_database(url)


class Holders:
    """Who holds, as the leases' hooks saw it; any overlap is recorded."""

    def __init__(self) -> None:
        self.now: set[str] = set()
        self.overlaps = 0
        self.history: list[tuple[str, str]] = []

    def lease(self, dsn: str, name: str, pbx: str = "pbx-a") -> AmiLease:
        async def up() -> None:
            if self.now:
                self.overlaps += 1
            self.now.add(name)
            self.history.append(("up", name))

        async def down() -> None:
            self.now.discard(name)
            self.history.append(("down", name))

        return AmiLease(dsn=dsn, pbx=pbx, instance=name, on_acquired=up, on_lost=down,
                        retry_seconds=0.1, heartbeat_seconds=0.1, heartbeat_timeout=1.0)


@contextlib.asynccontextmanager
async def running(*leases: AmiLease) -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks = [asyncio.create_task(lease.run()) for lease in leases]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def wait_for(predicate: object, limit: float = 10.0) -> float:
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - start > limit:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def terminate(dsn: str, instance: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (f"callcenter:{instance}",)).fetchall()  # not another test's instance "a"
    return len(rows)


async def test_one_holder_and_takeover_after_a_connection_kill(dsn: str) -> None:
    holders = Holders()
    a, b = holders.lease(dsn, "a"), holders.lease(dsn, "b")
    async with running(a):
        await wait_for(lambda: a.holding)
        async with running(b):
            await asyncio.sleep(0.5)  # b tries five times meanwhile
            assert (a.holding, b.holding) == (True, False)
            assert holders.now == {"a"}
            engine = build_engine(dsn)
            try:
                assert lease_holders(engine, ["pbx-a", "pbx-b"]) == {"pbx-a": "a",
                                                                     "pbx-b": None}
                assert terminate(dsn, "a") == 1
                took = await wait_for(lambda: b.holding)
                assert took < 10
                await wait_for(lambda: not a.holding)
                assert lease_holders(engine, ["pbx-a"]) == {"pbx-a": "b"}
            finally:
                engine.dispose()
            # a's loop came back as a standby and stays one
            await asyncio.sleep(0.5)
            assert (a.holding, b.holding) == (False, True)
    assert holders.overlaps == 0
    assert ("down", "a") in holders.history


async def test_never_two_holders_under_repeated_kills(dsn: str) -> None:
    holders = Holders()
    leases = [holders.lease(dsn, name) for name in ("a", "b", "c")]
    async with running(*leases):
        for _ in range(6):
            await wait_for(lambda: sum(lease.holding for lease in leases) == 1)
            holder = next(lease for lease in leases if lease.holding)
            terminate(dsn, holder.instance)
            await wait_for(lambda h=holder: not h.holding)  # type: ignore[misc]
            assert sum(lease.holding for lease in leases) <= 1
        await wait_for(lambda: sum(lease.holding for lease in leases) == 1)
    assert holders.overlaps == 0
    assert sum(1 for what, _ in holders.history if what == "up") >= 7


async def test_each_pbx_has_its_own_lease(dsn: str) -> None:
    holders_a, holders_b = Holders(), Holders()
    one = holders_a.lease(dsn, "one", pbx="north")
    two = holders_b.lease(dsn, "two", pbx="south")
    async with running(one, two):
        await wait_for(lambda: one.holding and two.holding)
        engine = build_engine(dsn)
        try:
            assert lease_holders(engine, ["north", "south"]) == {"north": "one",
                                                                 "south": "two"}
        finally:
            engine.dispose()


async def test_a_database_that_cannot_be_reached_is_no_lease() -> None:
    holders = Holders()
    lease = holders.lease("postgresql://nobody@127.0.0.1:1/none", "x")
    async with running(lease):
        await asyncio.sleep(0.5)
        assert not lease.holding
    assert lease.last_error is not None
    assert holders.history == []
