"""The state-machine runner, the dialog helpers and the flow table."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest

from ivr_flows.config import FlowConfig
from ivr_flows.dialog import MAX_PATH_CHARS, Dialog
from ivr_flows.fakes import FakeBackend, damm_check_digit, damm_valid
from ivr_flows.flows import build_flows
from ivr_flows.machine import FlowLoopError, run_machine
from ivr_flows.ports import IvrBackend
from ivr_flows.scripted import ScriptedChannel


class Light(StrEnum):
    RED = "red"
    GREEN = "green"
    OFF = "off"


async def test_runner_walks_until_a_final_state() -> None:
    seen: list[str] = []

    async def red() -> Light:
        seen.append("red")
        return Light.GREEN

    async def green() -> Light:
        seen.append("green")
        return Light.OFF

    trace = await run_machine(
        steps={Light.RED: red, Light.GREEN: green},
        start=Light.RED,
        final={Light.OFF},
        max_steps=10,
        call_id="t",
    )
    assert trace == [Light.RED, Light.GREEN, Light.OFF]
    assert seen == ["red", "green"]


async def test_runner_stops_a_loop() -> None:
    async def red() -> Light:
        return Light.RED

    with pytest.raises(FlowLoopError):
        await run_machine(
            steps={Light.RED: red}, start=Light.RED, final={Light.OFF}, max_steps=5, call_id="t"
        )


async def test_runner_names_a_missing_step() -> None:
    async def red() -> Light:
        return Light.GREEN

    with pytest.raises(KeyError, match="green"):
        await run_machine(
            steps={Light.RED: red}, start=Light.RED, final={Light.OFF}, max_steps=5, call_id="t"
        )


async def test_path_is_capped(tmp_path: Path) -> None:
    ch = ScriptedChannel([])
    dialog = Dialog(ch, FlowConfig(recordings_dir=tmp_path))
    for i in range(300):
        await dialog.note(f"step:{i}")
    assert len(ch.variables["IVR_PATH"]) <= MAX_PATH_CHARS + 1
    assert ch.variables["IVR_PATH"].endswith("step:299")


def test_build_flows_names_the_agi_scripts(tmp_path: Path) -> None:
    backend = FakeBackend()
    assert isinstance(backend, IvrBackend)
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=backend.validate_code,
    )
    assert set(flows) == {"main", "callback", "survey"}


@pytest.mark.parametrize(
    "kwargs", [{"max_tries": 0}, {"record_max_seconds": 0}, {"code_max_digits": 2}]
)
def test_config_refuses_nonsense(tmp_path: Path, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        FlowConfig(recordings_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


def test_fake_codes_catch_single_typos_and_swaps() -> None:
    code = "140500001" + damm_check_digit("140500001")
    assert damm_valid(code)
    for i in range(len(code)):
        for d in "0123456789":
            if d != code[i]:
                assert not damm_valid(code[:i] + d + code[i + 1 :])
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert not damm_valid(swapped)
