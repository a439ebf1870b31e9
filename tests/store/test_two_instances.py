"""Two real ``callcenter serve`` processes on one PostgreSQL store (issue 19), their AMI
a fake server at the protocol edge (the sandbox-Asterisk version is e2e work still):

(a) A holds the AMI lease; an agent's panel is on B: A's pop reaches B;
(d) the agent takes a break on B (B's events-off AMI login sends QueuePause): both
    supervisor pages show the agent on break;
(c) B restarts while the panel is open: the reconnecting panel gets the pop it missed;
(b) A is SIGKILLed: B takes the lease within 10 s, recovers the calls that ended
    meanwhile from the PBX's CDR, every call is stored exactly once, and pops go on.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text
from support.cluster import PASSWORD, Instance, csrf_of, holding, sign_in, standby
from support.databases import POSTGRES_URL, create_postgres_database, drop_postgres_database
from support.fake_ami import FakeAmi, block, start_fake_ami, stop_fake_ami

from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine, session_scope
from callcenter.users.services import create_user

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="several instances need PostgreSQL")
QUEUE = "citizen-requests"


@pytest.fixture
def url() -> Iterator[str]:
    url = create_postgres_database("cc_two")
    engine = build_engine(url)
    prepare_store(engine)
    with session_scope(engine) as session:
        create_user(session=session, username="agent1", password=PASSWORD, role="agent",
                    extension="2101")
        create_user(session=session, username="sup1", password=PASSWORD, role="supervisor")
    engine.dispose()
    yield url
    drop_postgres_database(url)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    fake = await start_fake_ami()

    async def pause(action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        writer.write(block(Response="Success", ActionID=action["ActionID"],
                           Message="Interface paused successfully"))
        fake.broadcast(Event="QueueMemberPause", Queue=action.get("Queue", QUEUE),
                       Interface=action["Interface"], MemberName="agent1",
                       Paused="1" if action["Paused"] == "true" else "0",
                       PausedReason=action.get("Reason", ""))

    fake.replies["QueuePause"] = pause
    yield fake
    await stop_fake_ami(fake)


def cdr_line(n: int, ended: datetime) -> str:
    start = (ended - timedelta(seconds=40)).strftime("%Y-%m-%d %H:%M:%S")
    end = ended.strftime("%Y-%m-%d %H:%M:%S")
    return (f'"","0912{1000000 + n}","137","citizens","""x"" <0912{1000000 + n}>",'
            f'"PJSIP/trunk-{n:08x}","","Hangup","","{start}","","{end}","40","0",'
            f'"NO ANSWER","DOCUMENTATION","1790000000.{n}",""\n')


def write_cdr(log_dir: Path, numbers: range) -> None:
    cdr = log_dir / "cdr-csv" / "Master.csv"
    cdr.parent.mkdir(parents=True, exist_ok=True)
    ended = datetime.now(UTC) - timedelta(minutes=5)
    with cdr.open("a") as handle:
        for n in numbers:
            handle.write(cdr_line(n, ended))


def calls(url: str) -> list[tuple[str, str]]:
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(text("SELECT pbx, linkedid FROM call"))]
    finally:
        engine.dispose()


async def until(predicate: Any, limit: float = 15.0) -> float:
    start = time.monotonic()
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() - start < limit, "not in time"
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def message(ws: websockets.ClientConnection, kind: str, *, limit: float = 10.0,
                  where: Any = None) -> dict[str, Any]:
    async with asyncio.timeout(limit):
        while True:
            data = json.loads(await ws.recv())
            if data.get("type") == kind and (where is None or where(data)):
                return data


def ringing(linkedid: str) -> dict[str, Any]:
    return {"linkedid": linkedid, "agent": "2101", "interface": "PJSIP/2101",
            "caller": "09121234567", "caller_name": "", "queue": QUEUE, "ivr_path": ["1"]}


def on_break(picture: dict[str, Any]) -> bool:
    return any(agent["extension"] == "2101" and agent["state"] == "on_break"
               and agent["reason"] == "lunch" for agent in picture.get("agents", []))


async def test_two_instances_share_pops_breaks_and_the_ami(
        url: str, fake: FakeAmi, tmp_path: Path) -> None:
    log_dir = tmp_path / "asterisk"
    write_cdr(log_dir, range(20))  # calls that ended before either instance ran
    env = {"CALLCENTER_AMI_PORT": str(fake.port), "CALLCENTER_PBX_LOG_DIR": str(log_dir),
           "CALLCENTER_FOLLOWUPS_ENABLED": "false"}
    a = Instance(name="a", database_url=url, workdir=tmp_path, env=env)
    b = Instance(name="b", database_url=url, workdir=tmp_path, env=env)
    try:
        await asyncio.to_thread(a.start, ready=holding)
        await asyncio.to_thread(b.start, ready=standby)
        health = await asyncio.to_thread(b.health)
        assert health["parts"]["cluster"]["lease_holders"] == {"default": "a"}
        await until(lambda: len(calls(url)) == 20)

        agent = await sign_in(b.url, "agent1")
        panel = await websockets.connect(f"{b.ws_url}/agent/ws",
                                         additional_headers={"Cookie": f"cc_session={agent}"})
        first = await message(panel, "state")
        last_seen = int(first["event_id"])

        # (a) the pop of a call A consumes reaches the panel on B
        async with httpx.AsyncClient(base_url=a.url) as hook:
            await hook.post("/test/events/AgentRinging", json=ringing("1790000100.1"))
        pop = await message(panel, "pop")
        assert pop["linkedid"] == "1790000100.1" and pop["event_id"] > last_seen
        last_seen = pop["event_id"]
        async with httpx.AsyncClient(base_url=a.url) as hook:
            await hook.post("/test/events/CallEnded", json={
                "linkedid": "1790000100.1", "outcome": "missed", "caller": "09121234567",
                "caller_name": "", "parties": [], "answered_by": None, "transfers": [],
                "queue": QUEUE, "started_at": time.time(), "answered_at": None,
                "ended_at": time.time(), "wait_seconds": 0, "talk_seconds": 0,
                "hangup_by": None})

        # (d) a break taken on B shows on both supervisor pages
        fake.broadcast(Event="QueueMemberAdded", Queue=QUEUE, Interface="PJSIP/2101",
                       MemberName="agent1", StateInterface="PJSIP/2101", Status="1",
                       Paused="0", Membership="dynamic", CallsTaken="0")
        supervisor = {name: await sign_in(inst.url, "sup1") for name, inst in
                      (("a", a), ("b", b))}
        pages = {name: await websockets.connect(
            f"{inst.ws_url}/supervisor/ws",
            additional_headers={"Cookie": f"cc_session={supervisor[name]}"})
            for name, inst in (("a", a), ("b", b))}
        csrf = await asyncio.to_thread(csrf_of, b.url, agent)
        async with httpx.AsyncClient(base_url=b.url, cookies={"cc_session": agent}) as api:
            answer = await api.post("/api/agent/break", json={"reason": "lunch"},
                                    headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 200, answer.text
        assert fake.sent("QueuePause")[-1]["Interface"] == "PJSIP/2101"
        for page in pages.values():
            await message(page, "live", where=on_break)
        for page in pages.values():
            await page.close()

        # (c) B restarts under the open panel; a pop rings meanwhile; it is not lost
        await asyncio.to_thread(b.stop)
        async with httpx.AsyncClient(base_url=a.url) as hook:
            await hook.post("/test/events/AgentRinging", json=ringing("1790000100.2"))
        await panel.close()
        await asyncio.to_thread(b.start, ready=standby)
        panel = await websockets.connect(  # as common.js reconnects: ?since=<last id>
            f"{b.ws_url}/agent/ws?since={last_seen}",
            additional_headers={"Cookie": f"cc_session={agent}"})
        missed = await message(panel, "pop")
        assert missed["linkedid"] == "1790000100.2" and missed["resumed"] is True

        # (b) SIGKILL A: B takes over within 10 s and recovers what ended meanwhile
        write_cdr(log_dir, range(20, 25))
        killed = time.monotonic()
        await asyncio.to_thread(a.kill)
        await asyncio.to_thread(b.wait, holding, timeout=10)
        takeover = time.monotonic() - killed
        assert takeover < 10
        await until(lambda: len(calls(url)) == 25)
        stored = calls(url)
        assert len(set(stored)) == len(stored) == 25
        assert {pbx for pbx, _ in stored} == {"default"}
        async with httpx.AsyncClient(base_url=b.url) as hook:
            await hook.post("/test/events/AgentRinging", json=ringing("1790000100.3"))
        after = await message(panel, "pop", where=lambda m: m["linkedid"] == "1790000100.3")
        assert after["event_id"] > missed["event_id"]
        health = await asyncio.to_thread(b.health)
        assert health["parts"]["cluster"]["lease_holders"] == {"default": "b"}
        await panel.close()
        print(f"takeover after SIGKILL: {takeover:.2f} s")
    finally:
        await asyncio.to_thread(a.kill)
        await asyncio.to_thread(b.stop)
