"""Shahrbin's signed status webhook and the supervisors' dead-letter API, over the real
app (SQLite in a temp dir): signed, forged, stale, replayed, malformed, unknown."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select
from support.messages import deliver_queued

from callcenter.app import create_app
from callcenter.auth.deps import current_user
from callcenter.auth.services import SignedInUser
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.citizens.services import find_citizen, set_opt_out
from callcenter.intake.services import file_request
from callcenter.outbox.models import OutboxItem, OutboxState
from callcenter.settings import Settings
from crm_bridge.inbound import sign

SECRET = "webhook-secret-for-tests"
NO_HOLIDAYS = Path(__file__).resolve().parents[1] / "e2e" / "no-holidays.yaml"
Client = httpx.AsyncClient


class Env:
    def __init__(self, app: FastAPI, client: Client, code: str) -> None:
        self.app, self.client, self.code = app, client, code
        self.engine = app.state.services.engine

    async def post(self, data: Any, *, secret: str = SECRET, ts: int | None = None,
                   raw: bytes | None = None, signature: str | None = None) -> httpx.Response:
        body = raw if raw is not None else json.dumps(data).encode()
        stamp = str(ts if ts is not None else int(time.time()))
        headers = {"Content-Type": "application/json", "X-Shahrbin-Timestamp": stamp,
                   "X-Shahrbin-Signature": signature if signature is not None
                   else sign(secret, stamp, body)}
        return await self.client.post("/crm/shahrbin/status", content=body, headers=headers)

    def status(self) -> str:
        with Session(self.engine) as s:
            return s.exec(select(CitizenRequest)).one().status

    def events(self) -> int:
        with Session(self.engine) as s:
            return len(s.exec(select(RequestEvent)).all())

    def texts(self) -> list[str]:
        from callcenter.sms.models import SmsMessage

        with Session(self.engine) as s:
            return [m.body for m in s.exec(select(SmsMessage)).all()]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    # Calling hours around the clock, every day: the status SMS is sent at once whenever
    # the tests run (outside calling hours it is held to the morning, by design).
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'c.db'}",
                        shahrbin_webhook_secret=SECRET, calling_hours_start=dt_time(0, 0),
                        calling_hours_end=dt_time(23, 59, 59), calling_on_friday=True,
                        holidays_file=NO_HOLIDAYS)
    app = create_app(settings, start_parts=False)
    services = app.state.services
    async with app.router.lifespan_context(app):
        with Session(services.engine) as s:
            code = file_request(session=s, phone="09131234567", channel="app",
                                category_code="waste").request.tracking_code
            s.commit()
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40003))
        async with Client(transport=transport, base_url="http://testserver") as client:
            yield Env(app, client, code)


def _update(code: str, state: str = "InProgress", event_id: str | None = None
            ) -> dict[str, str]:
    """One update; each call is a new Shahrbin event unless ``event_id`` says otherwise."""
    return {"RequestNo": code, "State": state, "Remark": "اکیپ اعزام شد",
            "EventId": event_id or f"e-{uuid.uuid4().hex[:12]}"}


async def test_signed_update_changes_status_and_texts_the_citizen(env: Env) -> None:
    """Tried: a correctly signed InProgress update; expect 200, status in_progress with a
    history line by 'shahrbin', and a Persian status SMS to the citizen."""
    resp = await env.post(_update(env.code))
    assert resp.status_code == 200 and resp.json()["changed"] is True
    await deliver_queued(env.engine)
    assert env.status() == "in_progress"
    assert any("در حال رسیدگی" in t for t in env.texts())


@pytest.mark.parametrize("how", ["wrong-secret", "no-signature", "tampered", "stale",
                                 "future", "bad-timestamp"])
async def test_forged_or_stale_updates_are_403_and_change_nothing(env: Env, how: str) -> None:
    """Tried: a wrong secret, no signature, a body changed after signing, a timestamp 10
    minutes old, one 10 minutes ahead, a non-numeric one; expect 403, nothing changed."""
    before = env.events()
    data = _update(env.code, "Done")
    now = int(time.time())
    if how == "wrong-secret":
        resp = await env.post(data, secret="guess")
    elif how == "no-signature":
        resp = await env.post(data, signature="")
    elif how == "tampered":
        good = sign(SECRET, str(now), json.dumps(_update(env.code)).encode())
        resp = await env.post(data, ts=now, signature=good)
    elif how == "stale":
        resp = await env.post(data, ts=now - 600)
    elif how == "future":
        resp = await env.post(data, ts=now + 600)
    else:
        resp = await env.client.post("/crm/shahrbin/status", content=b"{}", headers={
            "X-Shahrbin-Timestamp": "soon", "X-Shahrbin-Signature": "ab"})
    assert resp.status_code == 403 and resp.json()["error"] == "bad-signature"
    assert env.status() == "referred" and env.events() == before


async def test_replayed_update_changes_nothing_more(env: Env) -> None:
    """Tried: the same signed update delivered three times; expect one status change, one
    SMS, and 'changed' false for the replays."""
    answers = [(await env.post(_update(env.code))).json()["changed"] for _ in range(3)]
    # (three events saying the same: the status is unchanged by the 2nd and 3rd)
    await deliver_queued(env.engine)
    assert answers == [True, False, False]
    assert sum("در حال رسیدگی" in t for t in env.texts()) == 1


@pytest.mark.parametrize("data,status", [
    ({"RequestNo": "12345678", "State": "Done"}, 404),
    ({"RequestNo": "x", "State": "Exploded"}, 422),
    ({"State": "Done"}, 422),
    ([1, 2], 422),
])
async def test_bad_updates_are_refused_clearly(env: Env, data: Any, status: int) -> None:
    """Tried: an unknown tracking code, an unmapped status, no code, a JSON list; expect
    404/422 with an error id, and no change."""
    resp = await env.post(data)
    assert resp.status_code == status and resp.json()["error"]
    assert env.status() == "referred"


async def test_invalid_transition_is_409_and_malformed_or_huge_bodies_refused(env: Env) -> None:
    """Tried: Done then InProgress (not allowed after resolved), a signed non-JSON body,
    and a 100 KB body; expect 200, 409, 422, 413."""
    assert (await env.post(_update(env.code, "Done"))).status_code == 200
    assert (await env.post(_update(env.code, "InProgress"))).status_code == 409
    assert (await env.post(None, raw=b"not json")).status_code == 422
    assert (await env.post(None, raw=b"x" * 100_000)).status_code == 413
    assert env.status() == "resolved"


async def test_opted_out_citizen_gets_no_status_sms(env: Env) -> None:
    """Tried: the citizen opted out, then an update arrives; expect the change, no SMS."""
    with Session(env.engine) as s:
        citizen = find_citizen(session=s, phone="09131234567")
        assert citizen is not None
        set_opt_out(session=s, citizen=citizen, opted_out=True)
        s.commit()
    assert (await env.post(_update(env.code))).status_code == 200
    await deliver_queued(env.engine)
    assert env.status() == "in_progress" and env.texts() == []


async def test_a_citizen_without_a_phone_gets_the_change_and_no_sms(env: Env) -> None:
    """Tried: a request of a citizen known by a messenger account alone (no phone
    number: the bot's, contact skipped), then a signed update for it. Expect 200, the
    change, no SMS queued (the bot pushes it to the chat instead)."""
    from callcenter.citizens.models import Citizen
    from callcenter.citizens.services import get_or_create_citizen

    with Session(env.engine) as s:  # the fixture's request: its citizen loses the number
        citizen = get_or_create_citizen(session=s, phone="09131234567")
        citizen.phone = None
        s.add(citizen)
        s.commit()
        assert s.exec(select(Citizen)).one().phone is None
    resp = await env.post(_update(env.code))
    assert resp.status_code == 200, resp.text
    await deliver_queued(env.engine)
    assert env.status() == "in_progress" and env.texts() == []


def _as(role: str) -> SignedInUser:
    from callcenter.users.models import Role

    return SignedInUser(id=1, username=role, full_name=role, role=Role(role), extension=None,
                        language="fa", csrf_token="t")


async def test_dead_letters_are_listed_and_replayed_by_supervisors_only(env: Env) -> None:
    """Tried: one dead outbox item; an anonymous call, an agent, then a supervisor list and
    replay it; expect 401/403 for the first two, the item listed and back to pending."""
    with Session(env.engine) as s:
        item = s.exec(select(OutboxItem)).one()
        item.state, item.attempts, item.last_error = OutboxState.DEAD, 8, "HTTP 500"
        s.add(item)
        s.commit()
        item_id = item.id
    assert (await env.client.get("/crm/outbox/dead")).status_code in (401, 303)
    env.app.dependency_overrides[current_user] = lambda: _as("agent")
    assert (await env.client.get("/crm/outbox/dead")).status_code == 403
    env.app.dependency_overrides[current_user] = lambda: _as("supervisor")
    listed = (await env.client.get("/crm/outbox/dead")).json()
    assert [(d["id"], d["last_error"]) for d in listed] == [(item_id, "HTTP 500")]
    resp = await env.client.post(f"/crm/outbox/{item_id}/replay")
    assert resp.status_code == 200 and resp.json()["state"] == "pending"
    again = await env.client.post(f"/crm/outbox/{item_id}/replay")
    assert again.status_code == 409 and again.json()["error"] == "not-a-dead-letter"
    assert (await env.client.post("/crm/outbox/999/replay")).status_code == 404
    env.app.dependency_overrides.clear()


async def test_a_replay_inside_the_window_cannot_move_the_request_back(env: Env) -> None:
    """Tried: InProgress (event e1), then Done (e2), then the captured e1 sent again
    within the 300 s window, and e1 re-signed with a fresh timestamp. Before the fix the
    replay moved the request back to in_progress and texted the citizen again."""
    assert (await env.post(_update(env.code, "InProgress", "e1"))).json()["changed"] is True
    done = _update(env.code, "Done", "e2")
    assert (await env.post(done)).json()["changed"] is True
    stamp = int(time.time())
    for ts in (stamp, stamp + 1):
        replay = await env.post(_update(env.code, "InProgress", "e1"), ts=ts)
        assert replay.status_code == 200 and replay.json() == {"changed": False,
                                                               "replay": True}
    assert env.status() == "resolved"


async def test_an_update_without_event_id_is_acted_on_once(env: Env) -> None:
    """Tried: the same signed body without EventId, twice: keyed by its signature."""
    data = {"RequestNo": env.code, "State": "InProgress"}
    stamp = int(time.time())
    assert (await env.post(data, ts=stamp)).json()["changed"] is True
    assert (await env.post(data, ts=stamp)).json()["replay"] is True


@pytest.mark.parametrize("signature,timestamp", [("é" * 64, None), ("ab", "١٧٠٠٠٠٠٠٠٠"),
                                                 ("\u0663" * 64, None)])
async def test_non_ascii_signature_or_timestamp_is_403_not_500(
    env: Env, signature: str, timestamp: str | None
) -> None:
    """Tried: a signature header of 64 non-ASCII letters (compare_digest raised TypeError:
    a 500), Arabic-Indic digits as the timestamp (int() accepted them)."""
    body = json.dumps(_update(env.code)).encode()
    stamp = timestamp or str(int(time.time()))
    resp = await env.client.post("/crm/shahrbin/status", content=body, headers={
        "Content-Type": b"application/json", "X-Shahrbin-Timestamp": stamp.encode(),
        "X-Shahrbin-Signature": signature.encode()})  # raw UTF-8 bytes on the wire
    assert resp.status_code == 403, resp.text
    assert env.status() == "referred"
