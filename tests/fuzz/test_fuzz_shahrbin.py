"""Shahrbin's status webhook fuzzed: signed random JSON, and random (non-ASCII too)
signature and timestamp headers. Promise: never a 5xx; an unsigned or mis-signed body is
403; a signed one is 200 or a clear 4xx."""

from __future__ import annotations

import json
import time

from hypothesis import given
from hypothesis import strategies as st
from support.fuzzing import SHAHRBIN_SECRET, bounded
from support.panels import Panels

from crm_bridge.inbound import sign

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.sampled_from(["InProgress", "Done", "Rejected", "1234567"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)
UPDATES = st.one_of(
    st.fixed_dictionaries({"RequestNo": JSON_VALUES, "State": JSON_VALUES},
                          optional={"Remark": JSON_VALUES, "EventId": JSON_VALUES}),
    JSON_VALUES)


@bounded(120)
@given(update=UPDATES)
def test_fuzzed_signed_updates(app: Panels, update: object) -> None:
    body = json.dumps(update).encode()
    stamp = str(int(time.time()))
    resp = app.client.post("/crm/shahrbin/status", content=body, headers={
        "Content-Type": "application/json", "X-Shahrbin-Timestamp": stamp,
        "X-Shahrbin-Signature": sign(SHAHRBIN_SECRET, stamp, body)})
    assert resp.status_code in {200, 404, 409, 422}, (update, resp.status_code, resp.text)


@bounded(80)
@given(signature=st.text(max_size=70), stamp=st.text(max_size=14))
def test_fuzzed_signature_headers_are_403(app: Panels, signature: str, stamp: str) -> None:
    resp = app.client.post("/crm/shahrbin/status", content=b"{}", headers={
        "Content-Type": "application/json", "X-Shahrbin-Timestamp": stamp.encode(),
        "X-Shahrbin-Signature": signature.encode()})
    assert resp.status_code == 403, (signature, stamp, resp.text)
