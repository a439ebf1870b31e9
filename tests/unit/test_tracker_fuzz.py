"""The tracker never fails on damaged streams: events lost, reordered or garbled."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.calls.events import CallEnded
from callcenter.calls.replay import load_events
from callcenter.calls.tracker import CallTracker

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "test-data" / "cacofonisk"
RECORDINGS = [load_events(p) for p in sorted(DATA.glob("*/*.json"))]
KEYS = [
    "Uniqueid",
    "Linkedid",
    "Channel",
    "DestUniqueid",
    "DestChannel",
    "BridgeUniqueid",
    "DialStatus",
    "Position",
    "HoldTime",
    "Timestamp",
    "Event",
    "Value",
]


@st.composite
def damaged_stream(draw: st.DrawFn) -> list[dict[str, str]]:
    events = [dict(e) for e in draw(st.sampled_from(RECORDINGS))]
    keep = draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    events = [e for e, k in zip(events, keep, strict=True) if k]
    for _ in range(draw(st.integers(0, 5))):  # swap neighbours
        if len(events) > 1:
            i = draw(st.integers(0, len(events) - 2))
            events[i], events[i + 1] = events[i + 1], events[i]
    for _ in range(draw(st.integers(0, 5))):  # garble a header
        if events:
            event = events[draw(st.integers(0, len(events) - 1))]
            event[draw(st.sampled_from(KEYS))] = draw(st.text(max_size=8))
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_stream())
def test_damaged_streams_never_raise_and_end_each_call_once(events: list[dict[str, str]]) -> None:
    tracker = CallTracker(clock=lambda: 0.0)
    out = tracker.feed_all(events)
    ended = [e.linkedid for e in out if isinstance(e, CallEnded)]
    assert len(ended) == len(set(ended))
    assert tracker.errors == 0
