"""Open311 fuzzed: any form or JSON body, any query. Promise: never a 5xx; errors in
the spec's list format; a 201 names a request filed just now (never another one's code);
a list without a key is empty."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from support.fuzzing import bounded
from support.panels import Panels

TEXT = st.text(max_size=60)
FIELD_VALUES = st.one_of(TEXT, st.sampled_from(["waste", "parks", "09131234567",
                                                 "+989131234567", "fahadan", "app-key-1",
                                                 "0001-01-01T00:00:00Z", "1" * 30]))
FORMS = st.dictionaries(st.sampled_from(["api_key", "service_code", "phone", "description",
                                         "address_id", "first_name", "last_name", "lat",
                                         "x"]), FIELD_VALUES, max_size=8)
QUERIES = st.dictionaries(st.sampled_from(["api_key", "service_code", "status", "start_date",
                                           "end_date", "service_request_id"]),
                          FIELD_VALUES, max_size=6)
ALLOWED = {200, 201, 400, 403, 404, 413, 422, 429}


def _is_open311_error(body: object, status: int) -> bool:
    return (isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict)
            and body[0].get("code") == status)


@bounded(120)
@given(form=FORMS, as_json=st.booleans())
def test_fuzzed_posts(app: Panels, form: dict[str, str], as_json: bool) -> None:
    if as_json:
        resp = app.client.post("/open311/v2/requests.json", content=json.dumps(form),
                               headers={"Content-Type": "application/json"})
    else:
        resp = app.client.post("/open311/v2/requests.json", data=form)
    assert resp.status_code in ALLOWED, (form, resp.status_code, resp.text)
    if resp.status_code == 201:
        [answer] = resp.json()
        assert answer["service_notice"] == "request filed and referred"
    else:
        assert _is_open311_error(resp.json(), resp.status_code), resp.text


@bounded(120)
@given(query=QUERIES, path=st.sampled_from(["/open311/v2/requests.json",
                                            "/open311/v2/services.json"]))
def test_fuzzed_reads(app: Panels, query: dict[str, str], path: str) -> None:
    resp = app.client.get(path, params=query)
    assert resp.status_code in ALLOWED, (query, resp.status_code, resp.text)
    body = resp.json()
    if resp.status_code != 200:
        assert _is_open311_error(body, resp.status_code), resp.text
    elif path.endswith("requests.json") and not query.get("service_request_id", "").strip(
            " ,") and query.get("api_key") not in ("app-key-1", "web-key-1"):
        assert body == []  # nothing listed without a key
    if resp.status_code == 200 and path.endswith("requests.json"):
        assert "phone" not in json.dumps(body)


@bounded(40)
@given(code=st.text(max_size=30))
def test_fuzzed_request_codes(app: Panels, code: str) -> None:
    resp = app.client.get(f"/open311/v2/requests/{quote(code, safe='')}.json")
    assert resp.status_code < 500, (code, resp.text)
