"""Asterisk restarts under the bridge (``core restart now``) with one caller talking to an
agent and another waiting in the queue: the bridge reconnects (with backoff), resyncs,
records both cut calls exactly once, and what it shows of the queue afterwards is what
Asterisk says (the agent is back, in no call, nobody waits)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.pbx_sandbox import QUEUE, SANDBOX, SandboxPbx
from support.sipp import AwaitHangup, SippRunner
from test_call_records import TO_THE_QUEUE, calls_since, of_caller
from test_ivr_calls import add_agent

from callcenter.callrecords.models import Call


@pytest.fixture
async def quick_bridge(bridge_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Bridge]:
    """``callcenter serve`` with a short backoff cap and reconcile period."""
    workdir = tmp_path / "bridge"
    workdir.mkdir()
    env = {**bridge_env, "CALLCENTER_AMI_MAX_BACKOFF_SECONDS": "2",
           "CALLCENTER_AMI_RECONCILE_SECONDS": "5"}  # fmt: skip
    server = Bridge(env=env, workdir=workdir)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.close)


async def asterisk_back(pbx: SandboxPbx, *, seconds: float = 60) -> AmiClient:
    """A new AMI login once the restarted Asterisk is fully booted."""
    deadline = time.monotonic() + seconds
    while True:
        client = AmiClient(pbx.ami_host, pbx.ami_port, pbx.ami_user, pbx.ami_secret)
        try:
            await client.connect()
            reply = await client.action("CoreStatus")
            if reply.get("Response") == "Success":
                return client
        except Exception:  # refused, or closed while Asterisk still boots
            pass
        await client.close()
        if time.monotonic() > deadline:
            raise AssertionError(f"Asterisk did not come back in {seconds} s")
        await asyncio.sleep(1)


async def queue_of_asterisk(ami: AmiClient) -> dict[str, int]:
    start = len(ami.events)
    await ami.action("QueueStatus", Queue=QUEUE)
    await ami.wait_for(lambda e: e.get("Event") == "QueueStatusComplete", seconds=10, start=start)
    members = [e for e in ami.named("QueueMember", start) if e.get("Queue") == QUEUE]
    waiting = [e for e in ami.named("QueueEntry", start) if e.get("Queue") == QUEUE]
    return {
        "members": len(members),
        "in_call": sum(1 for m in members if m.get("InCall") == "1"),
        "waiting": len(waiting),
    }


def agent_row(picture: dict[str, Any], extension: str) -> dict[str, Any]:
    rows = [a for a in picture["agents"] if a.get("extension") == extension]
    assert len(rows) == 1, picture
    return rows[0]


async def supervisor_sees(supervisor: Any, check: Any, *, seconds: float = 20
                          ) -> dict[str, Any]:
    """Poll the supervisor's live picture (the JSON its page's websocket pushes) until
    ``check`` accepts it."""
    deadline = time.monotonic() + seconds
    while True:
        response = await asyncio.to_thread(supervisor.get, "/api/supervisor/live")
        assert response.status_code == 200, response.text
        picture: dict[str, Any] = response.json()
        if check(picture):
            return picture
        if time.monotonic() > deadline:
            raise AssertionError(f"the supervisor page never showed it: {picture}")
        await asyncio.sleep(0.5)


@pytest.fixture
async def supervisor(quick_bridge: Bridge) -> AsyncIterator[httpx.Client]:
    """A supervisor signed in to the bridge (closed whatever the test did)."""
    client = await asyncio.to_thread(quick_bridge.staff_client, "sara", role="supervisor")
    try:
        yield client
    finally:
        client.close()


async def test_asterisk_restart_with_calls_up_loses_no_call(
    quick_bridge: Bridge, sipp: SippRunner, ami: AmiClient, pbx: SandboxPbx,
    supervisor: httpx.Client,
) -> None:
    bridge = quick_bridge
    talking, waiting = "09135550431", "09135550432"
    await add_agent(ami, "2101")
    agent = await sipp.agent(extension="2101", answer_after=1, talk_for=60, max_seconds=90)
    since = datetime.now(UTC) - timedelta(seconds=2)
    start = len(ami.events)
    first = await sipp.citizen(callers=[talking], steps=[*TO_THE_QUEUE, AwaitHangup(80)],
                               max_seconds=90)  # fmt: skip
    await ami.wait_for(partial(of_caller, name="AgentConnect", caller=talking),
                       seconds=40, start=start)  # fmt: skip
    second = await sipp.citizen(callers=[waiting], steps=[*TO_THE_QUEUE, AwaitHangup(80)],
                                max_seconds=90)  # fmt: skip
    await ami.wait_for(partial(of_caller, name="QueueCallerJoin", caller=waiting),
                       seconds=40, start=start)  # fmt: skip
    await asyncio.sleep(1.5)  # the bridge has seen the join
    before: dict[str, Any] = await asyncio.to_thread(bridge.health)
    assert before["parts"]["ami"]["active_calls"] == 2, before
    # What the supervisor's page shows before: 2101 talking, one caller waiting.
    await supervisor_sees(supervisor, lambda p: (
        agent_row(p, "2101")["state"] == "on_call" and len(p["waiting"]) == 1))
    resyncs = before["parts"]["ami"]["resyncs"]

    restarted_at = time.monotonic()
    pbx.cli("core restart now")
    results = [await first.wait(), await second.wait(), await agent.wait()]
    back = await asterisk_back(pbx)
    try:

        def both(session: Session) -> list[Call] | None:
            rows = calls_since(session, [talking, waiting], since)
            return rows if len(rows) >= 2 else None

        rows = await asyncio.to_thread(bridge.wait_for, both, seconds=40)
        reconnected = time.monotonic() - restarted_at
        await asyncio.sleep(6)  # past one more reconcile: a duplicate would show now
        rows = await asyncio.to_thread(
            bridge.query, lambda s: calls_since(s, [talking, waiting], since)
        )
        assert sorted(c.caller or "" for c in rows) == [talking, waiting], rows
        by_caller = {c.caller: c for c in rows}
        assert (by_caller[talking].outcome, by_caller[talking].agent) == ("answered", "2101")
        assert by_caller[waiting].outcome == "abandoned", by_caller[waiting]
        assert by_caller[waiting].queue == QUEUE

        health: dict[str, Any] = await asyncio.to_thread(bridge.health)
        ami_part = health["parts"]["ami"]
        assert ami_part["state"] == "connected", ami_part
        assert ami_part["resyncs"] > resyncs, ami_part
        assert ami_part["active_calls"] == 0, ami_part
        truth = await queue_of_asterisk(back)
        assert truth["members"] == 1  # persistentmembers: the agent is back in the queue
        assert ami_part["queues"][QUEUE] == truth, (ami_part["queues"], truth)
        # ... and the supervisor's page agrees with Asterisk: 2101 is still logged in, no
        # longer "on call" (the cut call ended: wrap-up, which the agent ends with
        # "ready"), and nobody waits.
        picture = await supervisor_sees(supervisor, lambda p: (
            agent_row(p, "2101")["state"] in ("wrap_up", "available") and not p["waiting"]))
        assert picture["queue_known"] is True
        print(f"records complete {reconnected:.1f} s after the restart; sipp: "
              + "; ".join(r.describe().splitlines()[0] for r in results))  # fmt: skip
    finally:
        await back.close()
        # Leave the sandbox as the next test run expects it (config reinstalled).
        proc = await asyncio.create_subprocess_exec(str(SANDBOX), "up",
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)  # fmt: skip
        await asyncio.wait_for(proc.wait(), 120)
