"""Durable citizen messages on SQLite and PostgreSQL: a row first, then the store-backed
delivery (claiming, retries with backoff, permanent failures, leases, the backlog)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.db.engine import session_scope
from callcenter.messages.delivery import DeliveryConfig, MessageDelivery
from callcenter.messages.models import CitizenMessage, MessageState
from callcenter.messages.part import MessagesPart
from callcenter.messages.store import claim_due
from callcenter.sms.channel import SmsChannel
from callcenter.sms.models import SmsMessage
from callcenter.sms.notify import queue_sms
from callcenter.sms.service import SmsTransportError


class Clock:
    """Starts a second after now (what ``queue_sms`` stamps), then moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now


class FlakyTransport:
    """Fails the first ``failures`` sends (retryable unless told), then succeeds."""

    def __init__(self, failures: int = 0, *, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.sent: list[tuple[str, str]] = []
        self.tries = 0

    def send_once(self, *, to: str, body: str) -> str:
        self.tries += 1
        if self.tries <= self.failures:
            raise SmsTransportError("twilio 503", retryable=self.retryable)
        self.sent.append((to, body))
        return f"SM{self.tries}"


def delivery(engine: Engine, transport: FlakyTransport, clock: Clock, owner: str = "a"
             ) -> MessageDelivery:
    return MessageDelivery(engine=engine, owner=owner, clock=clock,
                           channels={"sms": SmsChannel(transport=transport,
                                                       from_number="+98137")},
                           config=DeliveryConfig(retry_base_seconds=10))


def queue(engine: Engine, body: str = "کد پیگیری", **kw: object) -> int:
    with session_scope(engine) as session:
        row = queue_sms(session=session, to="+989131234567", body=body, kind="request_filed",
                        **kw)  # type: ignore[arg-type]
        session.flush()
        assert row.id is not None
        return row.id


def row(engine: Engine, message_id: int) -> CitizenMessage:
    with Session(engine) as session:
        found = session.get(CitizenMessage, message_id)
        assert found is not None
        return found


def test_a_queued_message_is_sent_once_and_logged(engine: Engine) -> None:
    clock, transport = Clock(), FlakyTransport()
    message_id = queue(engine)
    sender = delivery(engine, transport, clock)
    assert asyncio.run(sender.deliver_due()).sent == [message_id]
    assert asyncio.run(sender.deliver_due()).sent == []  # nothing twice
    assert transport.sent == [("+989131234567", "کد پیگیری")]
    sent = row(engine, message_id)
    assert (sent.state, sent.attempts, sent.provider_id) == ("sent", 1, "SM1")
    with Session(engine) as session:
        logged = session.exec(select(SmsMessage)).one()
        assert (logged.status, logged.twilio_sid, logged.direction) == ("sent", "SM1", "out")


def test_a_rolled_back_cause_queues_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        queue_sms(session=session, to="+989131234567", body="x", kind="request_filed")
        raise RuntimeError("the filing failed")
    with Session(engine) as session:
        assert session.exec(select(CitizenMessage)).all() == []


def test_failures_retry_with_backoff_then_succeed(engine: Engine) -> None:
    clock, transport = Clock(), FlakyTransport(failures=2)
    message_id = queue(engine)
    sender = delivery(engine, transport, clock)
    assert asyncio.run(sender.deliver_due()).retried == [message_id]
    first = row(engine, message_id)
    assert first.state == "pending" and first.attempts == 1 and "503" in (first.last_error or "")
    assert first.next_attempt_at == clock.now + timedelta(seconds=10)
    assert asyncio.run(sender.deliver_due()).retried == []  # not due yet
    clock.now += timedelta(seconds=10)
    assert asyncio.run(sender.deliver_due()).retried == [message_id]
    assert row(engine, message_id).next_attempt_at == clock.now + timedelta(seconds=20)
    clock.now += timedelta(seconds=20)
    assert asyncio.run(sender.deliver_due()).sent == [message_id]
    assert (row(engine, message_id).state, row(engine, message_id).attempts) == ("sent", 3)
    assert len(transport.sent) == 1


def test_a_permanent_error_or_the_last_attempt_fails_for_good(engine: Engine) -> None:
    clock = Clock()
    bad_number = queue(engine, max_attempts=6)
    assert asyncio.run(delivery(engine, FlakyTransport(9, retryable=False), clock)
                       .deliver_due()).failed == [bad_number]
    two_tries = queue(engine, max_attempts=2)
    sender = delivery(engine, FlakyTransport(9), clock)
    asyncio.run(sender.deliver_due())
    clock.now += timedelta(hours=1)
    assert asyncio.run(sender.deliver_due()).failed == [two_tries]
    assert row(engine, two_tries).state == row(engine, bad_number).state == "failed"
    with Session(engine) as session:
        assert {m.status for m in session.exec(select(SmsMessage)).all()} == {"failed"}


def test_two_senders_never_claim_the_same_message(engine: Engine) -> None:
    clock = Clock()
    ids = {queue(engine, body=f"m{i}") for i in range(6)}
    with Session(engine) as a, Session(engine) as b:
        first = claim_due(session=a, owner="a", now=clock.now, lease=timedelta(minutes=2),
                          channels=["sms"], limit=4)
        second = claim_due(session=b, owner="b", now=clock.now, lease=timedelta(minutes=2),
                           channels=["sms"], limit=10)
    claimed_a, claimed_b = {m.id for m in first}, {m.id for m in second}
    assert not claimed_a & claimed_b and claimed_a | claimed_b == ids


def test_a_dead_senders_claim_is_taken_over_when_its_lease_ends(engine: Engine) -> None:
    clock, transport = Clock(), FlakyTransport()
    message_id = queue(engine)
    with Session(engine) as session:  # sender "dead" claims, then is killed
        claim_due(session=session, owner="dead", now=clock.now, lease=timedelta(minutes=2),
                  channels=["sms"], limit=5)
    alive = delivery(engine, transport, clock, owner="alive")
    assert asyncio.run(alive.deliver_due()).sent == []  # the lease still runs
    clock.now += timedelta(minutes=3)
    assert asyncio.run(alive.deliver_due()).sent == [message_id]
    assert len(transport.sent) == 1


def test_a_dedupe_key_queues_one_message(engine: Engine) -> None:
    first = queue(engine, dedupe_key="ivr:1700.1")
    assert queue(engine, dedupe_key="ivr:1700.1") == first
    with Session(engine) as session:
        assert len(session.exec(select(CitizenMessage)).all()) == 1


def test_health_shows_the_backlog_and_a_stalled_sender(engine: Engine) -> None:
    clock = Clock()
    for _ in range(3):
        queue(engine)
    sender = delivery(engine, FlakyTransport(99), clock)
    part = MessagesPart(delivery=sender, stall_seconds=300)
    asyncio.run(sender.deliver_due())
    health = part.health()
    assert health["state"] == "running" and health["backlog"] == 3
    with session_scope(engine) as session:  # the oldest has waited 10 minutes
        for message in session.exec(select(CitizenMessage)).all():
            message.created_at = datetime.now(UTC) - timedelta(minutes=10)
            session.add(message)
    asyncio.run(sender.deliver_due())
    stalled = part.health()
    assert stalled["state"] == "stalled" and stalled["oldest_waiting_seconds"] >= 600
    assert MessagesPart(delivery=None).health() == {"state": "disabled"}
    assert row(engine, 1).state in (MessageState.PENDING, MessageState.CLAIMED)


def test_the_running_part_sends_on_wake_and_shows_a_hung_round(engine: Engine) -> None:
    """The loop of ``serve``: a message queued and woken leaves at once (the interval is
    an hour); a send that never returns makes ``/health`` say stalled."""

    class Hanging(FlakyTransport):
        def __init__(self) -> None:
            super().__init__()
            self.release = threading.Event()

        def send_once(self, *, to: str, body: str) -> str:
            self.release.wait(10)
            return super().send_once(to=to, body=body)

    async def scenario() -> None:
        transport = FlakyTransport()
        part = MessagesPart(delivery=delivery(engine, transport, Clock()),
                            interval_seconds=3600, stall_seconds=0.2)
        await part.start()
        await asyncio.sleep(0.3)  # the first round ran (nothing due)
        queue(engine)
        part.wake()
        for _ in range(100):
            if transport.sent:
                break
            await asyncio.sleep(0.05)
        assert len(transport.sent) == 1 and part.health()["state"] == "running"
        await part.stop()
        hanging = Hanging()
        stuck = MessagesPart(delivery=delivery(engine, hanging, Clock(), owner="b"),
                             interval_seconds=3600, stall_seconds=0.2)
        queue(engine, body="second")
        await stuck.start()
        await asyncio.sleep(0.6)
        health = stuck.health()
        hanging.release.set()
        await stuck.stop()
        assert health["state"] == "stalled" and health["why"] == "a delivery round is hung"

    asyncio.run(scenario())
