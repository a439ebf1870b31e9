"""One stuck dependency must not stall everything (issue 12, medium 5), with the real
app on a real SQLite file whose write lock another connection holds.

Before: webhook writes, session lookups and Twilio sends shared asyncio's one default
pool; with the lock held 40 s six signed SMS got 500 after 30 s (none stored, and Twilio
does not retry a 500 the same way), agent pages took 29 s, and ``/health`` said ok."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select
from support.panels import Panels, build_panels
from twilio.request_validator import RequestValidator

from callcenter.pools import WorkerPool
from callcenter.sms.models import SmsMessage

TOKEN = "0123456789abcdef0123456789abcdef"
BASE = "https://cc137.yazd.example"


@pytest.fixture
def panels(tmp_path: Path) -> Iterator[Panels]:
    yield from build_panels(f"sqlite:///{tmp_path / 'store.db'}", tmp_path,
                            twilio_auth_token=TOKEN, public_base_url=BASE,
                            webhook_store_timeout_seconds=1.0)


def signed_sms(panels: Panels, sid: str) -> tuple[str, dict[str, str]]:
    params = {"MessageSid": sid, "From": "+989131234567", "To": "+98137",
              "Body": "چراغ کوچه خاموش است", "AccountSid": "AC1"}
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/sms/twilio/inbound", params)
    return urlencode(params), {"X-Twilio-Signature": signature,
                               "Content-Type": "application/x-www-form-urlencoded"}


def test_a_held_write_lock_gets_a_quick_503_pages_answer_and_health_degrades(
    panels: Panels, tmp_path: Path
) -> None:
    """Tried: another connection holds SQLite's write lock (``BEGIN IMMEDIATE``) while
    three signed SMS arrive, an agent opens a page and ``/health`` is asked."""
    ali = panels.as_user("ali")
    assert ali
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for number in range(3):
            body, headers = signed_sms(panels, f"SM{number:032d}")
            started = time.monotonic()
            response = panels.client.post("/sms/twilio/inbound", content=body,
                                          headers=headers)
            took = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert took < 15, took  # the engine's 30 s busy wait is what failed before
        page = panels.client.get("/agent")
        assert page.status_code == 200
        health = panels.client.get("/health")
        assert health.status_code == 503
        assert health.json()["parts"]["database"]["state"] == "locked"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Nothing was half-stored; Twilio's retry of the same message is then taken whole.
    with Session(panels.services.engine) as session:
        assert session.exec(select(SmsMessage)).all() == []
    body, headers = signed_sms(panels, f"SM{0:032d}")
    assert panels.client.post("/sms/twilio/inbound", content=body,
                              headers=headers).status_code == 200
    assert panels.client.get("/health").json()["parts"]["database"]["state"] == "up"


async def test_a_pool_whose_oldest_job_is_too_old_reports_stalled() -> None:
    """Tried: one job on a one-thread pool blocks past ``stall_after`` (a hung Twilio
    send): the pool says ``stalled`` while it runs, ``running`` once it ends."""
    import asyncio
    import threading

    now = [0.0]
    pool = WorkerPool("send", threads=1, stall_after=10, clock=lambda: now[0])
    release, started = threading.Event(), threading.Event()

    def hung() -> bool:
        started.set()
        return release.wait(30)

    job = asyncio.ensure_future(pool.run(hung))
    assert await asyncio.to_thread(started.wait, 5)
    queued = asyncio.ensure_future(pool.run(lambda: 1))
    await asyncio.sleep(0.05)
    assert pool.health()["queued"] == 1
    now[0] = 11
    assert pool.health()["state"] == "stalled"
    release.set()
    assert await job is True and await queued == 1
    assert pool.health() == {"state": "running", "threads": 1, "busy": 0, "queued": 0,
                             "oldest_job_seconds": 0.0}
    pool.close()
