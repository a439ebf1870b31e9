"""The 137 main flow: greeting, known caller, main menu, retries, out-of-hours menu."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr_flows.channel import ChannelHangup
from ivr_flows.config import FlowConfig
from ivr_flows.fakes import FakeBackend
from ivr_flows.flows import build_flows
from ivr_flows.scripted import HANGUP, Action, ScriptedChannel

CALLER = "09131234567"


async def call_main(
    tmp_path: Path, backend: FakeBackend, actions: list[Action], **kwargs: object
) -> ScriptedChannel:
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=backend.validate_code,
    )
    channel = ScriptedChannel(actions, caller=CALLER, **kwargs)  # type: ignore[arg-type]
    await flows["main"](channel)
    assert channel.remaining == [], "the flow ignored scripted caller actions"
    return channel


async def test_zero_goes_to_the_queue(tmp_path: Path) -> None:
    ch = await call_main(tmp_path, FakeBackend(), ["0"])
    assert ch.commands[0] == "answer"
    assert ch.played == ["greeting", "menu-main", "please-hold"]
    assert ch.variables["IVR_CHOICE"] == "0"
    assert ch.variables["IVR_NEXT"] == "queue"
    assert ch.variables["IVR_PATH"] == "menu:0>queue"
    assert not ch.hung_up_by_flow  # the dialplan runs Queue() next


async def test_menu_reads_one_key_with_the_configured_timeout(tmp_path: Path) -> None:
    ch = await call_main(tmp_path, FakeBackend(), ["0"])
    [read] = [c for c in ch.calls if c.name == "read_digits"]
    assert read.args["max_digits"] == 1
    assert read.args["timeout"] == FlowConfig(recordings_dir=tmp_path).menu_timeout


async def test_known_caller_hears_newest_open_request(tmp_path: Path) -> None:
    backend = FakeBackend()
    older = backend.add_request(
        phone=CALLER, status="in_progress", created=datetime(2026, 10, 1, tzinfo=UTC)
    )
    newest = backend.add_request(
        phone=CALLER, status="referred", created=datetime(2026, 11, 20, tzinfo=UTC)
    )
    backend.add_request(phone="09990000000", status="new")  # someone else's
    ch = await call_main(tmp_path, backend, [None, "0"])
    assert ch.said == [newest.code]
    assert older.code not in ch.said
    assert ch.played[:5] == [
        "greeting",
        "open-request-notice",
        "open-request-status",
        "status-referred",
        "open-requests-offer",
    ]
    assert ch.played[5] == "menu-main"
    assert ch.variables["IVR_NEXT"] == "queue"


async def test_known_caller_presses_9_to_hear_all(tmp_path: Path) -> None:
    backend = FakeBackend()
    a = backend.add_request(phone=CALLER, status="new", created=datetime(2026, 9, 1, tzinfo=UTC))
    b = backend.add_request(
        phone=CALLER, status="in_progress", created=datetime(2026, 11, 1, tzinfo=UTC)
    )
    ch = await call_main(tmp_path, backend, ["9", "0"])
    # newest first in the notice, then all of them, newest first
    assert ch.said == [b.code, b.code, a.code]
    assert "open-requests-all" in ch.played
    assert ch.played.count("request-code") == 2
    assert "status-new" in ch.played and "status-in_progress" in ch.played
    assert ch.variables["IVR_PATH"] == "greeting:9>menu:0>queue"


async def test_closed_requests_are_not_announced(tmp_path: Path) -> None:
    backend = FakeBackend()
    backend.add_request(phone=CALLER, status="resolved")
    ch = await call_main(tmp_path, backend, ["0"])
    assert ch.said == []
    assert "open-request-notice" not in ch.played


async def test_known_caller_may_press_a_menu_key_during_the_offer(tmp_path: Path) -> None:
    backend = FakeBackend()
    backend.add_request(phone=CALLER)
    ch = await call_main(tmp_path, backend, ["0"])
    assert "menu-main" not in ch.played
    assert ch.variables["IVR_PATH"] == "menu:0>queue"


async def test_menu_no_input_and_wrong_key_three_times_then_queue(tmp_path: Path) -> None:
    ch = await call_main(tmp_path, FakeBackend(), [None, "7", None])
    assert ch.played == [
        "greeting",
        "menu-main", "no-input",
        "menu-main", "invalid-choice",
        "menu-main", "no-input",
        "too-many-tries",
        "please-hold",
    ]
    assert ch.variables["IVR_NEXT"] == "queue"
    assert ch.variables["IVR_PATH"] == "menu:none>menu:invalid>menu:none>queue"
    assert "IVR_CHOICE" not in ch.variables


async def test_menu_accepts_a_good_key_on_the_last_try(tmp_path: Path) -> None:
    ch = await call_main(tmp_path, FakeBackend(), ["*", "#", "0"])
    assert ch.played.count("menu-main") == 3
    assert ch.variables["IVR_CHOICE"] == "0"
    assert ch.variables["IVR_PATH"] == "menu:invalid>menu:none>menu:0>queue"


@pytest.mark.parametrize(
    ("open_now", "agents", "notice"),
    [(False, True, "closed-hours"), (True, False, "no-agents"), (False, False, "closed-hours")],
)
async def test_out_of_hours_menu_offers_only_1_and_2(
    tmp_path: Path, open_now: bool, agents: bool, notice: str
) -> None:
    backend = FakeBackend(open_now=open_now, agents=agents)
    ch = await call_main(tmp_path, backend, ["0", None, "3"])
    assert ch.played[:3] == ["greeting", notice, "menu-limited"]
    assert "menu-main" not in ch.played
    assert ch.played[-2:] == ["too-many-tries", "goodbye"]
    assert ch.played.count("invalid-choice") == 2  # 0 is not on offer
    assert ch.variables["IVR_NEXT"] == "hangup"
    assert ch.hung_up_by_flow


async def test_out_of_hours_menu_2_still_works(tmp_path: Path) -> None:
    backend = FakeBackend(open_now=False)
    req = backend.add_request(phone="09990000000", status="in_progress", category_number=3)
    ch = await call_main(tmp_path, backend, ["2", req.code + "#"])
    assert "status-in_progress" in ch.played and "dept-parks" in ch.played
    assert "followup-agent-offer" not in ch.played
    assert ch.variables["IVR_NEXT"] == "hangup"


async def test_caller_hangs_up_at_the_menu(tmp_path: Path) -> None:
    flows = build_flows(
        backend=FakeBackend(),
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=FakeBackend().validate_code,
    )
    ch = ScriptedChannel([HANGUP], caller=CALLER)
    with pytest.raises(ChannelHangup):
        await flows["main"](ch)
    assert "IVR_NEXT" not in ch.variables


async def test_failing_backend_does_not_drop_the_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = FakeBackend(fail={"is_open_now", "open_requests"})
    backend.add_request(phone=CALLER)
    with caplog.at_level(logging.ERROR):
        ch = await call_main(tmp_path, backend, ["0"])
    assert ch.played == ["greeting", "menu-main", "please-hold"]
    assert ch.variables["IVR_NEXT"] == "queue"
    assert "availability check failed" in caplog.text
    assert "open requests lookup failed" in caplog.text


async def test_anonymous_caller_is_not_looked_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = FakeBackend(fail={"open_requests"})
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=backend.validate_code,
    )
    ch = ScriptedChannel(["0"], caller="")
    with caplog.at_level(logging.ERROR):
        await flows["main"](ch)
    assert "open requests lookup failed" not in caplog.text
    assert ch.variables["IVR_NEXT"] == "queue"


@pytest.mark.parametrize("offer_after", [12, 0])
async def test_queueing_leaves_when_to_offer_the_callback(tmp_path: Path,
                                                          offer_after: int) -> None:
    """The dialplan's Queue() gives up after CALLBACK_OFFER_AFTER to play the offer; it is
    on the channel before IVR_NEXT, whose value the dialplan acts on."""
    backend = FakeBackend()
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path, callback_offer_after=offer_after),
        validate_code=backend.validate_code,
    )
    ch = ScriptedChannel(["0"], caller=CALLER)
    await flows["main"](ch)
    assert ch.variables["CALLBACK_OFFER_AFTER"] == str(offer_after)
    sets = [c.args["name"] for c in ch.calls if c.name == "set_variable"]
    assert sets.index("CALLBACK_OFFER_AFTER") < sets.index("IVR_NEXT")


async def test_the_default_offer_time_is_sixty_seconds(tmp_path: Path) -> None:
    ch = await call_main(tmp_path, FakeBackend(), ["0"])
    assert ch.variables["CALLBACK_OFFER_AFTER"] == "60"


async def test_a_call_that_is_not_queued_gets_no_offer_time(tmp_path: Path) -> None:
    ch = await call_main(tmp_path, FakeBackend(agents=False), [None, None, None])
    assert ch.variables["IVR_NEXT"] == "hangup"
    assert "CALLBACK_OFFER_AFTER" not in ch.variables


@pytest.mark.parametrize("bad", [-1, 3601, True, 1.5, "12", "12\nHANGUP"])
def test_the_offer_time_must_be_a_plain_integer(tmp_path: Path, bad: object) -> None:
    """It reaches the dialplan as a Queue() argument: nothing but 0..3600."""
    with pytest.raises(ValueError, match="callback_offer_after"):
        FlowConfig(recordings_dir=tmp_path, callback_offer_after=bad)  # type: ignore[arg-type]
