"""AGI script ``callback``: a waiting caller pressed 1; their place is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr_flows.callback import parse_joined
from ivr_flows.config import FlowConfig
from ivr_flows.fakes import FakeBackend
from ivr_flows.flows import build_flows
from ivr_flows.scripted import ScriptedChannel

CALLER = "09131234567"
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


async def run(
    tmp_path: Path, backend: FakeBackend, *, caller: str = CALLER, variables: dict[str, str]
) -> ScriptedChannel:
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path, clock=lambda: NOW),
        validate_code=backend.validate_code,
    )
    ch = ScriptedChannel([], caller=caller, script="callback", variables=variables)
    await flows["callback"](ch)
    return ch


async def test_callback_keeps_the_place_from_queue_joined(tmp_path: Path) -> None:
    backend = FakeBackend()
    joined = NOW - timedelta(minutes=3)
    ch = await run(
        tmp_path,
        backend,
        variables={
            "QUEUE_JOINED": str(int(joined.timestamp())),
            "IVR_PATH": "menu:0>queue",
            "IVR_REQUEST": "1405000017",
        },
    )
    [cb] = backend.callbacks
    assert cb.queued_at == joined
    assert cb.phone == CALLER and cb.call_uniqueid == ch.uniqueid
    assert cb.request_code == "1405000017"
    assert ch.played == ["callback-confirmed", "goodbye"]
    assert ch.variables["IVR_CHOICE"] == "1"
    assert ch.variables["IVR_PATH"] == "menu:0>queue>queue:1>callback>hangup"
    assert ch.variables["IVR_NEXT"] == "hangup"
    assert ch.hung_up_by_flow


async def test_callback_without_queue_joined_uses_now(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, variables={})
    assert backend.callbacks[0].queued_at == NOW
    assert backend.callbacks[0].request_code is None
    assert ch.variables["IVR_PATH"] == "queue:1>callback>hangup"


async def test_callback_with_garbage_queue_joined_uses_now(tmp_path: Path) -> None:
    backend = FakeBackend()
    await run(tmp_path, backend, variables={"QUEUE_JOINED": "yesterday-ish"})
    assert backend.callbacks[0].queued_at == NOW


async def test_unknown_number_goes_back_to_the_queue(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, caller="anonymous", variables={})
    assert backend.callbacks == []
    assert ch.played == ["callback-no-number", "please-hold"]
    assert ch.variables["IVR_NEXT"] == "queue"
    assert not ch.hung_up_by_flow


async def test_backend_failure_goes_back_to_the_queue(tmp_path: Path) -> None:
    backend = FakeBackend(fail={"create_callback"})
    ch = await run(tmp_path, backend, variables={})
    assert ch.played == ["technical-error", "please-hold"]
    assert ch.variables["IVR_NEXT"] == "queue"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1795858200", datetime(2026, 11, 28, 9, 30, tzinfo=UTC)),
        ("1795858200.5", datetime(2026, 11, 28, 9, 30, 0, 500000, tzinfo=UTC)),
        ("2026-11-28T13:00:00+03:30", datetime(2026, 11, 28, 9, 30, tzinfo=UTC)),
        ("2026-11-28T09:30:00", datetime(2026, 11, 28, 9, 30, tzinfo=UTC)),
        ("", None),
        ("   ", None),
        (None, None),
        ("soon", None),
        ("1e400", None),
    ],
)
def test_parse_joined(raw: str | None, expected: datetime | None) -> None:
    got = parse_joined(raw)
    assert got == expected
    if got is not None:
        assert got.tzinfo is not None


def test_parse_joined_keeps_the_offset() -> None:
    got = parse_joined("2026-11-28T13:00:00+03:30")
    assert got is not None
    assert got.utcoffset() == timedelta(hours=3, minutes=30)
