"""The case page, case search, triage view and the edit/note actions fuzzed (signed in,
with CSRF). Promise: never a 5xx, and an edit either saves or changes nothing."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.fuzzing import bounded
from support.panels import Panels, log_in

from callcenter.db.engine import session_scope
from callcenter.intake.services import file_request

VALUES = st.one_of(st.text(max_size=40), st.integers(min_value=-2**70, max_value=2**70),
                   st.none(), st.booleans(),
                   st.sampled_from(["waste", "traffic", "fahadan", "", "nope", 1, 2, 3]))
EDITS = st.dictionaries(st.sampled_from(["version", "category_code", "neighbourhood_code",
                                         "landmark", "description", "triage", "note"]),
                        VALUES, max_size=7)


@pytest.fixture(scope="module")
def csrf(app: Panels) -> str:
    return log_in(app.client, "sara")


@pytest.fixture(scope="module")
def code(app: Panels) -> str:
    with session_scope(app.services.engine) as s:
        return file_request(session=s, phone="09131230000", channel="phone",
                            category_code="waste", recording_path="/rec/r.wav",
                            actor="ivr").request.tracking_code


@bounded(100)
@given(body=EDITS, which=st.one_of(st.none(), st.text(max_size=12)))
def test_fuzzed_edits_and_notes(app: Panels, csrf: str, code: str, body: dict[str, object],
                                which: str | None) -> None:
    target = code if which is None else quote(which, safe="")
    headers = {"X-CSRF-Token": csrf}
    before = app.client.get(f"/api/cases/{code}").json()
    edited = app.client.post(f"/api/cases/{target}/edit", json=body, headers=headers)
    assert edited.status_code in {200, 404, 405, 409, 422}, (body, edited.text)
    if edited.status_code != 200 and target == code:
        after = app.client.get(f"/api/cases/{code}").json()
        assert after["version"] == before["version"], (body, edited.text)
    note = app.client.post(f"/api/cases/{target}/notes", json=body, headers=headers)
    assert note.status_code in {201, 404, 405, 422}, (body, note.text)


@bounded(60)
@given(q=st.text(max_size=45), path=st.text(max_size=14))
def test_fuzzed_search_and_pages(app: Panels, csrf: str, q: str, path: str) -> None:
    search = app.client.get("/cases", params={"q": q}, follow_redirects=False)
    assert search.status_code in {200, 303, 422}, (q, search.text)
    page = app.client.get(f"/cases/{quote(path, safe='')}", follow_redirects=False)
    assert page.status_code in {200, 303, 307, 404, 405, 422}, (path, page.status_code)
    assert app.client.get("/triage").status_code == 200
