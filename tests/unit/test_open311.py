"""Open311 GeoReport v2 over the real app (SQLite in a temp dir): services, filing with
an API key (channel from its client), errors in the spec's format, rate limits, reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.messages import CapturingTransport, deliver_queued

from callcenter.app import create_app
from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.settings import Settings

Client = httpx.AsyncClient
CLIENTS = {"app-key-1": {"name": "yazd-app", "channel": "app"},
           "web-key-1": {"name": "web-form", "channel": "web"},
           "social-key": {"name": "social-bridge", "channel": "social"}}


@pytest.fixture
async def app_and_client(tmp_path: Path) -> AsyncIterator[tuple[Engine, Client]]:
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'o.db'}",
                        open311_clients=CLIENTS, open311_posts_per_minute=5)
    app = create_app(settings, start_parts=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
    async with app.router.lifespan_context(app), Client(
        transport=transport, base_url="http://testserver"
    ) as client:
        yield app.state.services.engine, client


@pytest.fixture
def client(app_and_client: tuple[Engine, Client]) -> Client:
    return app_and_client[1]


@pytest.fixture
def engine(app_and_client: tuple[Engine, Client]) -> Engine:
    return app_and_client[0]


def _form(**extra: str) -> dict[str, str]:
    return {"api_key": "app-key-1", "service_code": "waste", "phone": "09131234567",
            "description": "سطل زباله پر است", "address_id": "fahadan", **extra}


def _requests(engine: Engine) -> list[CitizenRequest]:
    with Session(engine) as s:
        return list(s.exec(select(CitizenRequest)).all())


async def test_services_list_every_category_in_persian_and_english(client: Client) -> None:
    """Tried: GET services.json; expect the 6 categories, Persian names, English text."""
    resp = await client.get("/open311/v2/services.json")
    services = {s["service_code"]: s for s in resp.json()}
    assert resp.status_code == 200 and len(services) == 6
    assert services["parks"]["service_name"] == "پارک‌ها و فضای سبز"
    assert services["parks"]["description"] == "Parks and green space"
    assert services["parks"]["metadata"] is False and services["parks"]["type"] == "realtime"


async def test_service_definition_and_unknown_service(client: Client) -> None:
    """Tried: GET services/waste.json and services/nope.json; expect a definition, then
    404 in the Open311 error format."""
    assert (await client.get("/open311/v2/services/waste.json")).json() == {
        "service_code": "waste", "attributes": []}
    resp = await client.get("/open311/v2/services/nope.json")
    assert resp.status_code == 404 and resp.json()[0]["code"] == 404


@pytest.mark.parametrize("key,channel", [("app-key-1", "app"), ("web-key-1", "web"),
                                         ("social-key", "social")])
async def test_post_files_with_the_channel_of_the_key(
    client: Client, engine: Engine, key: str, channel: str
) -> None:
    """Tried: a form POST with each client's key; expect 201 with the tracking code and
    a request routed to the waste department on that client's channel."""
    resp = await client.post("/open311/v2/requests.json", data=_form(api_key=key))
    assert resp.status_code == 201
    [body] = resp.json()
    [request] = _requests(engine)
    assert body["service_request_id"] == request.tracking_code
    assert (request.channel, request.department_code, request.neighbourhood_code) == (
        channel, "waste", "fahadan")


async def test_post_accepts_json_and_persian_digit_phone(client: Client, engine: Engine) -> None:
    """Tried: a JSON body whose phone is in Persian digits with +98; expect 201 and the
    citizen stored as +989131234567."""
    resp = await client.post("/open311/v2/requests.json",
                             content=json.dumps(_form(phone="+۹۸ ۹۱۳ ۱۲۳ ۴۵۶۷")),
                             headers={"Content-Type": "application/json"})
    assert resp.status_code == 201
    with Session(engine) as s:
        assert [c.phone for c in s.exec(select(Citizen)).all()] == ["+989131234567"]


@pytest.mark.parametrize("form,status,words", [
    (_form(api_key="wrong"), 403, "api_key"),
    ({k: v for k, v in _form().items() if k != "api_key"}, 403, "api_key"),
    (_form(service_code="potholes"), 404, "potholes"),
    (_form(phone="12345"), 400, "phone"),
    (_form(address_id="atlantis"), 400, "neighbourhood"),
    ({k: v for k, v in _form().items() if k != "phone"}, 400, "phone"),
    (_form(description="x" * 4001), 400, "description"),
])
async def test_bad_posts_get_open311_errors_and_file_nothing(
    client: Client, engine: Engine, form: dict[str, str], status: int, words: str
) -> None:
    """Tried: a wrong or missing api_key, an unknown service code, a bad phone, an unknown
    neighbourhood, no phone, a too-long description; expect the spec's error list with
    the HTTP status as code, and no request."""
    resp = await client.post("/open311/v2/requests.json", data=form)
    assert resp.status_code == status
    [err] = resp.json()
    assert err["code"] == status and words in err["description"]
    assert _requests(engine) == []


async def test_malformed_and_oversized_bodies(client: Client, engine: Engine) -> None:
    """Tried: JSON that is a list, broken JSON, non-UTF-8 form, a 100 KB body; expect
    422 three times (invalid input, in the Open311 format) and 413, nothing filed."""
    for content, ctype in [(b"[1,2]", "application/json"), (b"{oops", "application/json"),
                           (b"\xff=\xfe", "application/x-www-form-urlencoded")]:
        resp = await client.post("/open311/v2/requests.json", content=content,
                                 headers={"Content-Type": ctype})
        assert resp.status_code == 422 and resp.json()[0]["code"] == 422
    big = await client.post("/open311/v2/requests.json", content=b"a=" + b"b" * 100_000,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413 and big.json()[0]["code"] == 413
    assert _requests(engine) == []


async def test_posts_are_rate_limited(client: Client) -> None:
    """Tried: 8 posts in a row with a limit of 5 per minute; expect 429 (Retry-After) from
    the 6th on, in the Open311 format."""
    statuses = []
    for i in range(8):
        resp = await client.post("/open311/v2/requests.json",
                                 data=_form(phone=f"0913123456{i}"))
        statuses.append(resp.status_code)
    assert statuses[:5] == [201] * 5 and statuses[5:] == [429] * 3
    assert resp.headers["retry-after"] == "60" and resp.json()[0]["code"] == 429


async def test_get_requests_filters_and_hides_personal_data(client: Client) -> None:
    """Tried: file waste and parks requests, then GET with service_code, status and date
    filters and by id; expect the right rows, open/closed status, the department as
    agency_responsible, the deadline as expected_datetime, and no phone or text."""
    waste = (await client.post("/open311/v2/requests.json", data=_form())).json()[0]
    await client.post("/open311/v2/requests.json",
                      data=_form(service_code="parks", phone="09132222222"))
    got = (await client.get("/open311/v2/requests.json",
                            params={"service_code": "waste", "status": "open",
                                    "api_key": "app-key-1"})).json()
    assert [r["service_request_id"] for r in got] == [waste["service_request_id"]]
    item = got[0]
    assert item["status"] == "open" and item["agency_responsible"].startswith("سازمان مدیریت")
    assert item["expected_datetime"] and item["requested_datetime"]
    assert "09131234567" not in json.dumps(got) and item["description"] is None
    assert (await client.get("/open311/v2/requests.json",
                             params={"status": "closed", "api_key": "app-key-1"})
            ).json() == []
    assert len((await client.get("/open311/v2/requests.json",
                                 params={"api_key": "app-key-1"})).json()) == 2
    future = (await client.get("/open311/v2/requests.json",
                               params={"start_date": "2099-01-01T00:00:00Z",
                                       "end_date": "2099-02-01T00:00:00Z",
                                       "api_key": "app-key-1"})).json()
    assert future == []
    one = await client.get(f"/open311/v2/requests/{waste['service_request_id']}.json")
    assert one.status_code == 200 and len(one.json()) == 1
    assert (await client.get("/open311/v2/requests/12345678.json")).status_code == 404
    bad = await client.get("/open311/v2/requests.json", params={"start_date": "yesterday"})
    assert bad.status_code == 422 and bad.json()[0]["code"] == 422


async def test_get_lists_only_the_keys_own_channel_and_nothing_without_a_key(
    client: Client
) -> None:
    """Tried: requests filed by the app and by the web form, then GET requests.json with
    no key, a wrong key, the web key. Before the fix anyone listed every code of the last
    90 days (the enumeration the status page's limit was meant to stop)."""
    app_code = (await client.post("/open311/v2/requests.json", data=_form())).json()[0]
    web_code = (await client.post("/open311/v2/requests.json",
                                  data=_form(api_key="web-key-1", phone="09132222222"))
                ).json()[0]
    assert (await client.get("/open311/v2/requests.json")).json() == []
    assert (await client.get("/open311/v2/requests.json", params={"api_key": "nope"})
            ).json() == []
    listed = (await client.get("/open311/v2/requests.json", params={"api_key": "web-key-1"})
              ).json()
    assert [r["service_request_id"] for r in listed] == [web_code["service_request_id"]]
    # Looking one up by its code (as the status page does) stays open to anyone.
    by_code = (await client.get("/open311/v2/requests.json", params={
        "service_request_id": app_code["service_request_id"]})).json()
    assert [r["service_request_id"] for r in by_code] == [app_code["service_request_id"]]


async def test_every_public_read_is_rate_limited_per_code_asked(tmp_path: Path) -> None:
    """Tried: with 5 reads a minute, GETs of services, one request, and a 10-code lookup
    (10 tokens); then an 11-code lookup (refused outright)."""
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'r.db'}",
                        open311_clients=CLIENTS, open311_reads_per_minute=5)
    app = create_app(settings, start_parts=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40002))
    async with app.router.lifespan_context(app), Client(
            transport=transport, base_url="http://testserver") as client:
        codes = ",".join(f"{1000000 + i}" for i in range(10))
        assert (await client.get("/open311/v2/requests.json",
                                 params={"service_request_id": codes + ",1"})
                ).status_code == 400
        assert (await client.get("/open311/v2/services.json")).status_code == 200
        assert (await client.get("/open311/v2/services/waste.json")).status_code == 200
        assert (await client.get("/open311/v2/requests/1234567.json")).status_code == 404
        many = await client.get("/open311/v2/requests.json",
                                params={"service_request_id": codes})
        assert many.status_code == 429 and many.json()[0]["code"] == 429
        assert int(many.headers["retry-after"]) >= 1
        assert (await client.get("/open311/v2/services.json")).status_code == 429


async def test_another_citizens_number_gets_a_new_request_and_no_code_of_theirs(
    app_and_client: tuple[Engine, Client], tmp_path: Path
) -> None:
    """Tried: the owner of 0913... has an open waste request (filed on 137); someone
    else POSTs a waste request with that number five times. Before the fix each answer
    was the owner's own tracking code ("linked to your open request") and each texted
    the owner. Now: five new requests, each linked to the owner's as a possible repeat,
    the owner's code in no answer and no SMS, and at most 3 confirmation texts."""
    from callcenter.db.engine import session_scope
    from callcenter.intake.models import DuplicateSuggestion
    from callcenter.intake.services import file_request

    engine, client = app_and_client
    sms = CapturingTransport()
    with session_scope(engine) as session:
        owner = file_request(session=session, phone="09131234567", channel="phone",
                             category_code="waste", actor="agent")
        owner_code, owner_id = owner.request.tracking_code, owner.request.id
    answers = []
    for _ in range(5):
        resp = await client.post("/open311/v2/requests.json", data=_form())
        assert resp.status_code == 201
        answers.append(resp.json()[0])
    await deliver_queued(engine, sms)
    assert owner_code not in json.dumps(answers)
    assert {a["service_notice"] for a in answers} == {"request filed and referred"}
    assert len({a["service_request_id"] for a in answers}) == 5
    assert len(sms.sent) == 3 and all(owner_code not in body for _, body in sms.sent)
    with Session(engine) as s:
        links = s.exec(select(DuplicateSuggestion).order_by(DuplicateSuggestion.id)).all()
        assert len(links) == 5 and links[0].original_id == owner_id
        assert all(link.original_id < link.request_id for link in links)  # the newest open
        owner_row = s.get(CitizenRequest, owner_id)
        assert owner_row is not None and owner_row.reporter_count == 1


@pytest.mark.parametrize("params", [
    {"end_date": "0001-01-01T00:00:00Z"}, {"start_date": "0001-01-01T00:00:00Z"},
    {"end_date": "9999-12-31T23:59:59+00:00"}, {"start_date": "0001-01-01T00:00:00-14:00"},
])
async def test_dates_at_the_edge_of_the_calendar_get_422_not_500(
    client: Client, params: dict[str, str]
) -> None:
    """Tried: the first and last representable dates (``end - 90 days`` overflowed)."""
    resp = await client.get("/open311/v2/requests.json",
                            params={**params, "api_key": "app-key-1"})
    assert resp.status_code == 422, resp.text
    assert resp.json()[0]["code"] == 422
