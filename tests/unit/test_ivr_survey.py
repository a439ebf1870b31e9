"""AGI script ``survey``: rate 1 to 5, then fixed 1 yes / 2 no, stored on the request."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_flows.channel import ChannelHangup
from ivr_flows.config import FlowConfig
from ivr_flows.fakes import FakeBackend, SurveyAnswer
from ivr_flows.flows import build_flows
from ivr_flows.scripted import HANGUP, Action, ScriptedChannel

CODE = "1405000017"
UNIQUEID = "1764330000.7"


async def run(
    tmp_path: Path,
    backend: FakeBackend,
    actions: list[Action],
    *,
    arguments: tuple[str, ...] = (CODE,),
    variables: dict[str, str] | None = None,
) -> ScriptedChannel:
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=backend.validate_code,
    )
    ch = ScriptedChannel(
        actions, script="survey", arguments=arguments, variables=variables, uniqueid=UNIQUEID
    )
    await flows["survey"](ch)
    assert ch.remaining == []
    return ch


@pytest.mark.parametrize(("rating", "fixed_key", "fixed"), [("5", "1", True), ("1", "2", False)])
async def test_answers_are_stored(
    tmp_path: Path, rating: str, fixed_key: str, fixed: bool
) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, [rating, fixed_key])
    assert backend.surveys == [SurveyAnswer(CODE, int(rating), fixed, UNIQUEID)]
    assert ch.commands[0] == "answer"
    assert ch.said == [CODE]
    assert ch.played == ["survey-intro", "survey-rate", "survey-fixed", "survey-thanks", "goodbye"]
    assert ch.variables["IVR_PATH"] == f"survey:{CODE}>rating:{rating}>fixed:{fixed_key}>hangup"
    assert ch.variables["IVR_CHOICE"] == fixed_key
    assert ch.variables["IVR_NEXT"] == "hangup"
    assert ch.hung_up_by_flow


async def test_code_from_survey_request_variable(tmp_path: Path) -> None:
    backend = FakeBackend()
    await run(tmp_path, backend, ["3", "1"], arguments=(), variables={"SURVEY_REQUEST": CODE})
    assert backend.surveys[0].request_code == CODE


async def test_bad_keys_and_no_input_are_asked_again(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, [None, "8", "2", "0", None, "2"])
    assert backend.surveys == [SurveyAnswer(CODE, 2, False, UNIQUEID)]
    assert ch.played.count("survey-rate") == 3
    assert ch.played.count("survey-fixed") == 3
    assert ch.played.count("invalid-choice") == 2 and ch.played.count("no-input") == 2
    assert ch.variables["IVR_PATH"] == (
        f"survey:{CODE}>rating:none>rating:invalid>rating:2"
        ">fixed:invalid>fixed:none>fixed:2>hangup"
    )


async def test_nine_opts_out_by_voice_and_stores_no_rating(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, ["9"])
    assert backend.opted_out == [(CODE, UNIQUEID)] and backend.surveys == []
    assert "survey-fixed" not in ch.played and "survey-thanks" in ch.played
    assert ch.variables["IVR_PATH"] == f"survey:{CODE}>opt_out:9>hangup"


async def test_no_rating_after_three_tries_stores_nothing(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, [None, "6", "*"])
    assert backend.surveys == []
    assert "survey-fixed" not in ch.played
    assert ch.played[-1] == "goodbye"


async def test_rating_without_fixed_answer_is_stored_as_unknown(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, ["4", None, "3", None])
    assert backend.surveys == [SurveyAnswer(CODE, 4, None, UNIQUEID)]
    assert ch.played[-2:] == ["survey-thanks", "goodbye"]


async def test_hangup_at_fixed_question_keeps_the_rating(tmp_path: Path) -> None:
    backend = FakeBackend()
    with pytest.raises(ChannelHangup):
        await run(tmp_path, backend, ["4", HANGUP])
    assert backend.surveys == [SurveyAnswer(CODE, 4, None, UNIQUEID)]


async def test_hangup_at_rating_stores_nothing(tmp_path: Path) -> None:
    backend = FakeBackend()
    with pytest.raises(ChannelHangup):
        await run(tmp_path, backend, [HANGUP])
    assert backend.surveys == []


async def test_no_request_code_asks_nothing(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = await run(tmp_path, backend, [], arguments=("  ",))
    assert backend.surveys == []
    assert ch.played == ["goodbye"]
    assert ch.variables["IVR_NEXT"] == "hangup"


async def test_store_failure_still_thanks(tmp_path: Path) -> None:
    backend = FakeBackend(fail={"record_survey"})
    ch = await run(tmp_path, backend, ["5", "1"])
    assert ch.played[-2:] == ["survey-thanks", "goodbye"]
