"""The public status page by tracking code: what it shows, what it hides, and its
per-address rate limit (real app, SQLite in a temp dir)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from callcenter.app import create_app
from callcenter.cases.services import change_status
from callcenter.intake.services import file_request
from callcenter.ratelimit import TokenBucketLimiter
from callcenter.settings import Settings

Client = httpx.AsyncClient
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Client, str, str]]:
    """An app with one resolved request filed by a named citizen; yields its code."""
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 's.db'}",
                        status_lookups_per_minute=5)
    app = create_app(settings, start_parts=False)
    async with app.router.lifespan_context(app):
        with Session(app.state.services.engine) as s:
            request = file_request(session=s, phone="09131234567", channel="app",
                                   category_code="parks", citizen_name="مریم احمدی",
                                   description="شیر آب پارک شکسته؛ تماس ۰۹۱۲۰۰۰۰۰۰۰")
            change_status(session=s, request=request.request, to_status="resolved", actor="t")
            s.commit()
            code = request.request.tracking_code
        transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 40002))
        async with Client(transport=transport, base_url="http://testserver") as client:
            yield client, code, "10.0.0.7"


async def test_html_page_shows_status_department_and_jalali_dates_only(
    setup: tuple[Client, str, str]
) -> None:
    """Tried: GET /status/<code>; expect Persian RTL HTML with the status, department and
    Jalali dates, and neither the citizen's name, number nor description."""
    client, code, _ = setup
    resp = await client.get(f"/status/{code}")
    assert resp.status_code == 200 and 'dir="rtl"' in resp.text
    assert "رسیدگی شده" in resp.text and "سازمان سیما، منظر و فضای سبز شهری" in resp.text
    assert code.translate(FA) in resp.text and "۱۴۰" in resp.text  # Jalali year 140x
    for private in ("مریم", "0913", "۰۹۱۳", "۰۹۱۲", "شیر آب"):
        assert private not in resp.text


async def test_json_variant_and_persian_digit_code(setup: tuple[Client, str, str]) -> None:
    """Tried: GET /status/<code in Persian digits>.json; expect the same request as JSON
    with only status, department and dates."""
    client, code, _ = setup
    resp = await client.get(f"/status/{code.translate(FA)}.json")
    body = resp.json()
    assert resp.status_code == 200 and body["tracking_code"] == code
    assert body["status"] == "resolved" and body["department_code"] == "parks"
    assert body["resolved_at"] and body["deadline_at"]
    assert set(body) == {"tracking_code", "status", "status_fa", "department_code",
                         "department_fa", "created_at", "updated_at", "deadline_at",
                         "resolved_at", "created_fa", "updated_fa", "deadline_fa",
                         "resolved_fa"}


@pytest.mark.parametrize("bad", ["12345678", "abc", "1" * 200, "<script>"])
async def test_wrong_codes_are_404_without_echoing_markup(
    setup: tuple[Client, str, str], bad: str
) -> None:
    """Tried: a code failing its check digit, letters, a 200-digit string and markup;
    expect 404 with the Persian 'not found' text and nothing echoed raw."""
    client, _, _ = setup
    resp = await client.get(f"/status/{bad}")
    assert resp.status_code == 404 and "یافت نشد" in resp.text
    assert "<script>" not in resp.text


async def test_lookups_are_rate_limited_per_address(setup: tuple[Client, str, str]) -> None:
    """Tried: 7 lookups (hits and misses) from one address with a limit of 5/minute;
    expect 429 with Retry-After from the 6th on, even for a real code."""
    client, code, _ = setup
    statuses = [(await client.get(f"/status/{c}.json")).status_code
                for c in [code, "12345678", code, "x", code, code, code]]
    assert statuses[:5] == [200, 404, 200, 404, 200] and statuses[5:] == [429, 429]
    last = await client.get(f"/status/{code}")
    assert last.status_code == 429 and last.headers["retry-after"] == "60"


def test_token_bucket_refills_and_keeps_keys_apart() -> None:
    """Tried: a 60/min bucket of 2 tokens on a fake clock; expect 2 allowed, the 3rd
    refused, another key unaffected, one token back after a second, and memory bounded."""
    now = [0.0]
    limiter = TokenBucketLimiter(rate_per_minute=60, burst=2, clock=lambda: now[0], max_keys=3)
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.retry_after("a") == 1
    assert limiter.allow("b")
    now[0] += 1.0
    assert limiter.allow("a") and not limiter.allow("a")
    for key in "cdefg":
        limiter.allow(key)
    assert len(limiter._buckets) == 3
