"""The case API (signed in, with CSRF) and the login form fuzzed. Promise: never a 5xx;
the login never redirects off the site, and a wrong password never signs anyone in."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.fuzzing import bounded
from support.panels import Panels, log_in, login_token

VALUES = st.one_of(st.text(max_size=40), st.integers(min_value=-2**70, max_value=2**70),
                   st.none(), st.booleans(),
                   st.sampled_from(["waste", "phone", "new", "resolved", "09131234567",
                                    "fahadan", "0001-01-01"]))
CASE_BODIES = st.dictionaries(st.sampled_from(["phone", "channel", "category_code",
                                               "neighbourhood_code", "description",
                                               "citizen_name", "linkedid", "status", "note"]),
                              VALUES, max_size=7)
QUERY = st.dictionaries(st.sampled_from(["phone", "code", "status", "page", "per_page"]),
                        st.one_of(st.text(max_size=20), st.integers(-2**70, 2**70).map(str)),
                        max_size=5)


@pytest.fixture(scope="module")
def csrf(app: Panels) -> str:
    return log_in(app.client, "sara")


@bounded(100)
@given(query=QUERY)
def test_fuzzed_case_list(app: Panels, csrf: str, query: dict[str, str]) -> None:
    resp = app.client.get("/api/cases", params=query)
    assert resp.status_code in {200, 404, 422}, (query, resp.status_code, resp.text)


@bounded(100)
@given(body=CASE_BODIES, code=st.one_of(st.text(max_size=12), st.just("1234567")))
def test_fuzzed_case_writes(app: Panels, csrf: str, body: dict[str, object], code: str
                            ) -> None:
    headers = {"X-CSRF-Token": csrf}
    created = app.client.post("/api/cases", json=body, headers=headers)
    assert created.status_code in {201, 404, 409, 422}, (body, created.text)
    code = quote(code, safe="")
    status = app.client.post(f"/api/cases/{code}/status", json=body, headers=headers)
    assert status.status_code in {200, 404, 405, 409, 422}, (code, body, status.text)
    read = app.client.get(f"/api/cases/{code}")
    assert read.status_code in {200, 404, 405, 422}, (code, read.text)


@bounded(30)  # argon2 makes each try slow on purpose
@given(username=st.one_of(st.text(max_size=90), st.sampled_from(["ali", "sara", " ALI "])),
       password=st.text(max_size=30), next_path=st.text(max_size=40),
       good_csrf=st.booleans())
def test_fuzzed_logins(app: Panels, username: str, password: str, next_path: str,
                       good_csrf: bool) -> None:
    client = app.client
    client.cookies.clear()
    token = login_token(client) if good_csrf else "forged"
    resp = client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, "next": next_path},
                       follow_redirects=False)
    assert resp.status_code in {303, 401, 403, 422, 429}, (username, resp.status_code)
    if resp.status_code == 303:  # only a right password gets here: the fuzzer has none
        pytest.fail(f"signed in with a guessed password: {username!r} {password!r}")
    location = resp.headers.get("location", "")
    assert not urlsplit(location).netloc, location
