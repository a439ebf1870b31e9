"""Menu 1's place step: the district key, "don't know", and confirming an earlier
neighbourhood (issue 16, item 1)."""

from __future__ import annotations

from pathlib import Path

from ivr_flows.config import FlowConfig
from ivr_flows.fakes import FakeBackend
from ivr_flows.flows import build_flows
from ivr_flows.ports import KnownPlace
from ivr_flows.scripted import ScriptedChannel

CALLER = "09131234567"
DISTRICTS = (1, 2, 3, 4, 5)


async def run(tmp_path: Path, backend: FakeBackend, keys: list[str]) -> ScriptedChannel:
    ch = ScriptedChannel(keys, caller=CALLER, uniqueid="1764330000.7")  # type: ignore[arg-type]
    flows = build_flows(backend=backend, validate_code=backend.validate_code,
                        config=FlowConfig(recordings_dir=tmp_path, districts=DISTRICTS))
    await flows["main"](ch)
    return ch


async def test_district_key_is_filed_with_the_request(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, ["1", "3", "4", "#"])
    [filed] = backend.filed
    assert (filed.category_number, filed.district, filed.neighbourhood_code) == (3, 4, None)
    assert ch.variables["IVR_PATH"] == "menu:1>category:3>district:4>recorded>filed>hangup"
    assert ch.played[:4] == ["greeting", "menu-main", "menu-categories", "menu-districts"]


async def test_zero_is_dont_know(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, ["1", "2", "0", "#"])
    assert backend.filed[0].district is None
    assert "district:0" in ch.variables["IVR_PATH"]


async def test_a_district_not_in_the_reference_is_asked_again(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, ["1", "2", "7", "2", "#"])
    assert backend.filed[0].district == 2
    assert "district:invalid>district:2" in ch.variables["IVR_PATH"]
    assert "invalid-choice" in ch.played


async def test_no_key_still_records_and_leaves_the_place_to_triage(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, ["1", "2", "", "", "", "#"])
    assert backend.filed[0].district is None
    assert ch.variables["IVR_PATH"].count("district:none") == 3
    assert "record-instructions" in ch.played


async def test_known_neighbourhood_confirmed_with_one(tmp_path: Path) -> None:
    backend = FakeBackend(places={CALLER: KnownPlace("fahadan", 1)})
    ch = await run(tmp_path, backend, ["1", "1", "1", "#"])
    [filed] = backend.filed
    assert (filed.district, filed.neighbourhood_code) == (1, "fahadan")
    assert ch.played[3:6] == ["place-known", "hood-fahadan", "place-confirm"]
    assert "menu-districts" not in ch.played
    assert "place:1>recorded" in ch.variables["IVR_PATH"]


async def test_known_neighbourhood_declined_goes_to_the_district_menu(tmp_path: Path) -> None:
    backend = FakeBackend(places={CALLER: KnownPlace("fahadan", 1)})
    ch = await run(tmp_path, backend, ["1", "1", "2", "5", "#"])
    [filed] = backend.filed
    assert (filed.district, filed.neighbourhood_code) == (5, None)
    assert "place:2>district:5" in ch.variables["IVR_PATH"]


async def test_a_failing_place_lookup_never_loses_the_caller(tmp_path: Path) -> None:
    backend = FakeBackend(fail={"known_place"})
    await run(tmp_path, backend, ["1", "1", "3", "#"])
    assert backend.filed[0].district == 3


def test_districts_must_be_single_keys(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(ValueError):
        FlowConfig(recordings_dir=tmp_path, districts=(10,))
