"""Two real ``callcenter serve`` processes on PostgreSQL against the sandbox Asterisk
(issue 19): A holds the AMI lease and serves FastAGI on 4573, B stands by (FastAGI on
4574, the dialplan's second host) with the agent's panel.

(a) a SIPp call rings the agent: the pop reaches the panel on B;
(b) A is SIGKILLed while 20 SIPp calls wait or talk: B takes the AMI over within 10 s,
    every call ends up recorded exactly once, and the pop of a call placed after the
    takeover reaches the panel.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import websockets
from sqlalchemy import text
from support.ami_client import AmiClient
from support.cluster import PASSWORD, Instance, holding, sign_in, standby
from support.databases import POSTGRES_URL, create_postgres_database, drop_postgres_database
from support.sipp import AwaitHangup, Digits, Hangup, Pause, SippRunner
from test_ivr_calls import GREETING, PLEASE_HOLD, add_agent

from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine, session_scope
from callcenter.users.services import create_user

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="several instances need PostgreSQL")


@pytest.fixture
def store_url() -> Iterator[str]:
    url = create_postgres_database("cc_e2e_two")
    engine = build_engine(url)
    prepare_store(engine)
    with session_scope(engine) as session:
        create_user(session=session, username="agent1", password=PASSWORD, role="agent",
                    extension="2101")
    engine.dispose()
    yield url
    drop_postgres_database(url)


def ami_ready(health: dict[str, Any]) -> bool:
    ami = health.get("parts", {}).get("ami", {})
    return holding(health) and ami.get("state") == "connected" and ami.get("resyncs", 0) >= 1


@pytest.fixture
async def instances(bridge_env: dict[str, str], store_url: str, tmp_path: Path,
                    ami: AmiClient) -> AsyncIterator[tuple[Instance, Instance]]:
    env = {**bridge_env, "CALLCENTER_DATABASE_URL": store_url,
           "CALLCENTER_FOLLOWUPS_ENABLED": "false",
           "CALLCENTER_RECOVERY_INTERVAL_SECONDS": "2"}
    a = Instance(name="a", database_url=store_url, workdir=tmp_path,
                 env={**env, "CALLCENTER_AGI_PORT": "4573"}, log_level="info")
    b = Instance(name="b", database_url=store_url, workdir=tmp_path,
                 env={**env, "CALLCENTER_AGI_PORT": "4574"}, log_level="info")
    try:
        await asyncio.to_thread(a.start, ready=ami_ready, timeout=90)
        await asyncio.to_thread(b.start, ready=standby)
        yield a, b
    finally:
        await asyncio.to_thread(a.kill)
        await asyncio.to_thread(b.stop)


async def pop_for(panel: websockets.ClientConnection, caller: str,
                  limit: float = 40.0) -> dict[str, Any]:
    async with asyncio.timeout(limit):
        while True:
            message = json.loads(await panel.recv())
            if message.get("type") == "pop" and message.get("caller") == caller:
                return message


def recorded(url: str, callers: list[str]) -> Counter[str]:
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT caller FROM call WHERE caller = ANY(:c)"),
                                {"c": callers}).all()
    finally:
        engine.dispose()
    return Counter(row[0] for row in rows)


def of_caller(event: dict[str, str], name: str, caller: str) -> bool:
    return event.get("Event") == name and event.get("CallerIDNum") == caller


async def test_pop_on_b_then_sigkill_a_with_20_calls_in_progress(
        instances: tuple[Instance, Instance], store_url: str, sipp: SippRunner,
        ami: AmiClient) -> None:
    a, b = instances
    cookie = await sign_in(b.url, "agent1")
    panel = await websockets.connect(f"{b.ws_url}/agent/ws",
                                     additional_headers={"Cookie": f"cc_session={cookie}"})
    try:
        # (a) A consumes AMI; the ring's pop reaches the panel on B
        await add_agent(ami, "2101")
        await add_agent(ami, "2102")
        first = "09135551900"
        agent = await sipp.agent(extension="2101", answer_after=1, talk_for=2, max_seconds=60)
        citizen = await sipp.citizen(callers=[first], max_seconds=60,
                                     steps=[Pause(GREETING), Digits("0"), AwaitHangup(40)])
        pop = await pop_for(panel, first)
        assert pop["event_id"] > 0
        assert (await citizen.wait()).ok
        await agent.wait()

        # (b) 20 calls in the queue or talking; SIGKILL A
        callers = [f"091355519{n:02d}" for n in range(1, 21)]
        agents = [await sipp.agent(extension=ext, answer_after=1, talk_for=4, max_seconds=90)
                  for ext in ("2101", "2102")]
        start = len(ami.events)
        calls = await sipp.citizen(
            callers=callers, rate=4, max_seconds=90,
            steps=[Pause(GREETING), Digits("0"), Pause(PLEASE_HOLD + 10), Hangup()])
        for number in callers:
            await ami.wait_for(partial(of_caller, name="QueueCallerJoin", caller=number),
                               seconds=60, start=start)
        killed = time.monotonic()
        await asyncio.to_thread(a.kill)
        await asyncio.to_thread(b.wait, holding, timeout=10)
        takeover = time.monotonic() - killed
        assert takeover <= 10
        result = await calls.wait()
        assert result.successful + result.failed == len(callers), result.describe()
        for agent in agents:
            await agent.wait()

        deadline = time.monotonic() + 60
        while recorded(store_url, callers) != Counter(callers):
            assert time.monotonic() < deadline, recorded(store_url, callers)
            await asyncio.sleep(1)
        await asyncio.sleep(3)  # a further recovery pass adds nothing
        assert recorded(store_url, callers) == Counter(callers)  # each exactly once

        # the pop of a call placed after the takeover arrives (B consumes AMI now)
        later = "09135551999"
        agent = await sipp.agent(extension="2101", answer_after=1, talk_for=2, max_seconds=60)
        citizen = await sipp.citizen(callers=[later], max_seconds=60,
                                     steps=[Pause(GREETING), Digits("0"), AwaitHangup(40)])
        after = await pop_for(panel, later)
        assert after["event_id"] > pop["event_id"]
        await citizen.wait()
        await agent.wait()
        print(f"takeover after SIGKILL with 20 calls up: {takeover:.2f} s")
    finally:
        await panel.close()
