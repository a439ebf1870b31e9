"""Durable bot messages with two deliverers on one store (two instances), on SQLite and
PostgreSQL: each due ``bot_message`` is claimed by one deliverer and sent exactly once;
a dead deliverer's claim is taken over when its lease runs out. The real
python-telegram-bot client against the local fake Bot API."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.fake_bot_api import TOKEN, BotApiServer

from callcenter.db.engine import build_engine, session_scope
from callcenter.followups.policy import build_policy
from callcenter.messenger.delivery import Deliverer
from callcenter.messenger.models import BotMessage
from callcenter.messenger.transport import build_bot
from callcenter.reference.hours import Holidays
from callcenter.settings import Settings

MESSAGES = 6


@pytest.fixture
def bot_api() -> Iterator[BotApiServer]:
    with BotApiServer() as server:
        yield server


def deliverer(engine: Engine, server: BotApiServer, owner: str,
              clock: Callable[[], datetime] | None = None) -> Deliverer:
    settings = Settings(environment="test", bot_api_base_url=server.url, bot_token=TOKEN)

    async def db(work: Any) -> Any:
        def run() -> Any:
            with session_scope(engine) as session:
                return work(session)
        return await asyncio.to_thread(run)

    policy = build_policy(zone="Asia/Tehran", opens=time(0, 0), closes=time(23, 59, 59),
                          open_on_friday=True, cap=3, period=timedelta(days=7),
                          holidays=Holidays(yearly=frozenset(), dated=frozenset()))
    extra = {"clock": clock} if clock is not None else {}
    return Deliverer(bot=build_bot(settings), db=db, policy=policy, max_attempts=3,
                     retry_base_seconds=0, owner=owner, lease=timedelta(minutes=2), **extra)


def queue_replies(engine: Engine, count: int) -> set[str]:
    with session_scope(engine) as session:
        for n in range(count):
            session.add(BotMessage(chat_id=900000 + n, kind="reply", text=f"پاسخ {n}"))
    return {f"پاسخ {n}" for n in range(count)}


def statuses(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [m.status for m in session.exec(select(BotMessage)).all()]


def test_two_deliverers_send_each_bot_message_exactly_once(
    engine: Engine, bot_api: BotApiServer
) -> None:
    """Tried: 6 queued replies; instance A (its own engine, loop and Bot) starts a pass
    and its first sendMessage is held by the Bot API; meanwhile instance B runs a whole
    pass; then A's send is released. Expect B to send none of what A took, 6 sends in
    all, one per message, every row sent once (attempts 1)."""
    expected = queue_replies(engine, MESSAGES)
    bot_api.api.hold_sends = threading.Event()
    url = engine.url.render_as_string(hide_password=False)
    sent: dict[str, int] = {}

    def instance(owner: str) -> None:
        own = build_engine(url)
        try:
            sender = deliverer(own, bot_api, owner)

            async def run() -> int:
                try:
                    return await sender.deliver_due()
                finally:
                    await sender.bot.shutdown()
            sent[owner] = asyncio.run(run())
        finally:
            own.dispose()

    a = threading.Thread(target=instance, args=("a",))
    a.start()
    assert bot_api.api.send_held.wait(30), "A never sent"
    instance("b")  # while A's send is in flight
    bot_api.api.hold_sends.set()
    a.join(timeout=60)
    assert not a.is_alive()
    texts = [m["text"] for m in bot_api.api.sent()]
    assert sorted(texts) == sorted(expected)
    assert sent == {"a": MESSAGES, "b": 0}
    with Session(engine) as session:
        rows = session.exec(select(BotMessage)).all()
        assert {(m.status, m.attempts, m.claimed_by) for m in rows} == {("sent", 1, None)}


def test_a_dead_deliverers_claim_is_taken_over_when_its_lease_ends(
    engine: Engine, bot_api: BotApiServer
) -> None:
    """Tried: deliverer "dead" claims the due messages and is killed before sending;
    "alive" runs a pass before and after the lease's end. Expect nothing sent while
    the lease runs, then each message once."""
    expected = queue_replies(engine, 2)
    now = [datetime.now(UTC) + timedelta(seconds=1)]
    dead = deliverer(engine, bot_api, "dead", clock=lambda: now[0])
    with Session(engine) as session:
        assert len(dead._due(session, 10)) == 2
    assert set(statuses(engine)) == {"claimed"}
    alive = deliverer(engine, bot_api, "alive", clock=lambda: now[0])

    async def passes() -> tuple[int, int]:
        try:
            during = await alive.deliver_due()
            now[0] += timedelta(minutes=3)
            return during, await alive.deliver_due()
        finally:
            await alive.bot.shutdown()
            await dead.bot.shutdown()
    assert asyncio.run(passes()) == (0, 2)
    assert sorted(m["text"] for m in bot_api.api.sent()) == sorted(expected)
    assert set(statuses(engine)) == {"sent"}
