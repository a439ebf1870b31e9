"""Menu 2: follow up by tracking code - good, mistyped, unknown, too many, then the agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_flows.channel import ChannelHangup
from ivr_flows.config import FlowConfig
from ivr_flows.fakes import FakeBackend, damm_valid
from ivr_flows.flows import build_flows
from ivr_flows.scripted import HANGUP, Action, ScriptedChannel

CALLER = "09131234567"


def mistype(code: str) -> str:
    """The code with one digit changed: the check digit must catch it."""
    wrong = str((int(code[3]) + 1) % 10)
    typo = code[:3] + wrong + code[4:]
    assert not damm_valid(typo)
    return typo


async def run(
    tmp_path: Path, backend: FakeBackend, actions: list[Action], *, caller: str = CALLER
) -> ScriptedChannel:
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=backend.validate_code,
    )
    ch = ScriptedChannel(actions, caller=caller)
    await flows["main"](ch)
    assert ch.remaining == []
    return ch


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


async def test_good_code_says_status_and_department(tmp_path: Path, backend: FakeBackend) -> None:
    req = backend.add_request(phone="09350000000", status="in_progress", category_number=4)
    ch = await run(tmp_path, backend, ["2", req.code + "#", None])
    assert ch.played == [
        "greeting", "menu-main", "enter-code",
        "request-status-is", "status-in_progress", "request-dept-is", "dept-traffic",
        "followup-agent-offer", "goodbye",
    ]
    [entry] = [c for c in ch.calls if c.args.get("prompt") == "enter-code"]
    assert entry.args["terminator"] == "#" and entry.args["max_digits"] >= len(req.code)
    assert ch.variables["IVR_PATH"] == f"menu:2>code:{req.code}>hangup"
    assert ch.variables["IVR_NEXT"] == "hangup"
    assert "IVR_REQUEST" not in ch.variables


async def test_mistyped_code_is_caught_and_asked_again(
    tmp_path: Path, backend: FakeBackend
) -> None:
    req = backend.add_request(phone=CALLER, status="referred", category_number=1)
    typo = mistype(req.code)
    # Even a request stored under the typo is not reached: the check digit fails first.
    backend.add_request(phone=CALLER, code=typo, status="closed")
    ch = await run(tmp_path, backend, ["2", typo + "#", req.code + "#", None])
    assert ch.played.count("enter-code") == 2
    assert ch.played.count("invalid-code") == 1
    assert "status-closed" not in ch.played
    assert "status-referred" in ch.played and "dept-waste" in ch.played
    assert ch.variables["IVR_PATH"] == f"menu:2>code:invalid>code:{req.code}>hangup"


async def test_unknown_code_is_asked_again(tmp_path: Path, backend: FakeBackend) -> None:
    req = backend.add_request(phone=CALLER, status="resolved", category_number=5)
    unknown = backend.new_code()  # valid check digit, never filed
    ch = await run(tmp_path, backend, ["2", unknown + "#", req.code + "#", None])
    assert ch.played.count("unknown-code") == 1
    assert "status-resolved" in ch.played and "dept-building" in ch.played
    assert ch.variables["IVR_PATH"] == f"menu:2>code:unknown>code:{req.code}>hangup"


@pytest.mark.parametrize(("open_now", "next_"), [(True, "queue"), (False, "hangup")])
async def test_three_bad_codes_give_up(
    tmp_path: Path, backend: FakeBackend, open_now: bool, next_: str
) -> None:
    backend.open_now = open_now
    good = backend.add_request(phone=CALLER)
    ch = await run(tmp_path, backend, ["2", mistype(good.code), backend.new_code(), "12*34#"])
    assert ch.played.count("enter-code") == 3
    assert ch.played.count("invalid-code") == 2 and ch.played.count("unknown-code") == 1
    assert "too-many-tries" in ch.played
    assert ch.variables["IVR_NEXT"] == next_
    assert ch.variables["IVR_PATH"].startswith("menu:2>code:invalid>code:unknown>code:invalid>")


async def test_no_input_and_bare_hash_count_as_tries(tmp_path: Path, backend: FakeBackend) -> None:
    req = backend.add_request(phone=CALLER)
    ch = await run(tmp_path, backend, ["2", None, "#", req.code, None])
    assert ch.played.count("no-input") == 2
    assert f"code:{req.code}" in ch.variables["IVR_PATH"]


async def test_follow_up_then_0_carries_the_request_to_the_agent(
    tmp_path: Path, backend: FakeBackend
) -> None:
    req = backend.add_request(phone=CALLER)
    ch = await run(tmp_path, backend, ["2", req.code + "#", "0"])
    assert ch.variables["IVR_REQUEST"] == req.code
    assert ch.variables["IVR_CHOICE"] == "0"
    assert ch.variables["IVR_NEXT"] == "queue"
    assert ch.variables["IVR_PATH"] == f"menu:2>code:{req.code}>followup:0>queue"
    assert ch.played[-1] == "please-hold"
    # set before the dialplan's Queue(), so the AgentCalled screen-pop can read it
    names = [c.args.get("name") for c in ch.calls if c.name == "set_variable"]
    assert names.index("IVR_REQUEST") < names.index("IVR_NEXT")


async def test_other_key_after_report_ends_politely(tmp_path: Path, backend: FakeBackend) -> None:
    req = backend.add_request(phone=CALLER)
    ch = await run(tmp_path, backend, ["2", req.code + "#", "5"])
    assert ch.variables["IVR_NEXT"] == "hangup"
    assert "IVR_REQUEST" not in ch.variables


async def test_out_of_hours_no_agent_offer(tmp_path: Path, backend: FakeBackend) -> None:
    backend.agents = False
    req = backend.add_request(phone=CALLER)
    ch = await run(tmp_path, backend, ["2", req.code + "#"])
    assert "followup-agent-offer" not in ch.played
    assert ch.variables["IVR_NEXT"] == "hangup"


async def test_lookup_failure_apologises_and_queues(tmp_path: Path, backend: FakeBackend) -> None:
    req = backend.add_request(phone="09350000000")
    backend.fail.add("lookup")
    ch = await run(tmp_path, backend, ["2", req.code + "#"])
    assert "technical-error" in ch.played
    assert ch.variables["IVR_NEXT"] == "queue"


async def test_hangup_while_typing_the_code(tmp_path: Path, backend: FakeBackend) -> None:
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=backend.validate_code,
    )
    ch = ScriptedChannel(["2", HANGUP], caller=CALLER)
    with pytest.raises(ChannelHangup):
        await flows["main"](ch)
    assert "IVR_NEXT" not in ch.variables
