"""Menu 1: category, recording, filing, code read back, SMS - and every way it goes wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_flows.channel import ChannelHangup
from ivr_flows.config import FlowConfig
from ivr_flows.fakes import FakeBackend
from ivr_flows.flows import build_flows
from ivr_flows.scripted import HANGUP, Action, Recorded, ScriptedChannel

CALLER = "09131234567"
UNIQUEID = "1764330000.42"


def channel(actions: list[Action], **kwargs: object) -> ScriptedChannel:
    options: dict[str, object] = {"caller": CALLER, "uniqueid": UNIQUEID, **kwargs}
    return ScriptedChannel(actions, **options)  # type: ignore[arg-type]


async def run(tmp_path: Path, backend: FakeBackend, ch: ScriptedChannel) -> None:
    flows = build_flows(
        backend=backend,
        config=FlowConfig(recordings_dir=tmp_path),
        validate_code=backend.validate_code,
    )
    await flows["main"](ch)


async def test_happy_path_files_reads_back_and_texts_the_same_code(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = channel(["1", "3", "#"], caller_name="Reza")
    await run(tmp_path, backend, ch)

    [filed] = backend.filed
    code = filed.summary.code
    assert filed.category_number == 3
    assert filed.phone == CALLER and filed.caller_name == "Reza"
    assert filed.call_uniqueid == UNIQUEID
    assert filed.recording_path == str(tmp_path / f"request-{UNIQUEID}.wav")
    assert backend.validate_code(code)
    assert ch.said == [code]  # read back digit by digit (SAY DIGITS)
    assert backend.sms == [(CALLER, code)]
    assert ch.variables["IVR_REQUEST"] == code
    assert ch.variables["IVR_CHOICE"] == "3"
    assert ch.variables["IVR_PATH"] == "menu:1>category:3>recorded>filed>hangup"
    assert ch.variables["IVR_NEXT"] == "hangup"
    assert ch.hung_up_by_flow
    assert ch.played == [
        "greeting", "menu-main", "menu-categories", "record-instructions",
        "request-filed", "your-code-is", "sms-sent", "goodbye",
    ]
    assert ch.remaining == []


async def test_recording_parameters(tmp_path: Path) -> None:
    ch = channel(["1", "1", "#"])
    await run(tmp_path, FakeBackend(), ch)
    [rec] = [c for c in ch.calls if c.name == "record"]
    assert rec.args == {
        "path": str(tmp_path / f"request-{UNIQUEID}"),
        "max_seconds": 120,
        "terminator": "#",
        "beep": True,
        "fmt": "wav",
    }


async def test_category_retries_on_no_input_and_wrong_keys(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = channel(["1", None, "9", "2", "#"])
    await run(tmp_path, backend, ch)
    assert backend.filed[0].category_number == 2
    assert ch.played.count("menu-categories") == 3
    assert ch.variables["IVR_PATH"].startswith(
        "menu:1>category:none>category:invalid>category:2>recorded"
    )


@pytest.mark.parametrize(("open_now", "next_"), [(True, "queue"), (False, "hangup")])
async def test_three_bad_categories_file_nothing(
    tmp_path: Path, open_now: bool, next_: str
) -> None:
    backend = FakeBackend(open_now=open_now)
    ch = channel(["1", "0", None, "7"])
    await run(tmp_path, backend, ch)
    assert backend.filed == [] and backend.sms == []
    assert "record" not in ch.commands
    assert "too-many-tries" in ch.played
    assert ch.variables["IVR_NEXT"] == next_


async def test_hangup_during_category_choice_files_nothing(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = channel(["1", HANGUP])
    with pytest.raises(ChannelHangup):
        await run(tmp_path, backend, ch)
    assert backend.filed == [] and backend.sms == []


async def test_hangup_during_recording_still_files_and_texts(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = channel(["1", "4", HANGUP])
    with pytest.raises(ChannelHangup):
        await run(tmp_path, backend, ch)
    [filed] = backend.filed
    assert filed.category_number == 4
    assert filed.recording_path.endswith(f"request-{UNIQUEID}.wav")
    assert backend.sms == [(CALLER, filed.summary.code)]
    assert ch.said == []  # nobody to read it to
    assert "IVR_NEXT" not in ch.variables


async def test_hangup_during_read_back_still_texts(tmp_path: Path) -> None:
    # Find where the code is spoken, then let the caller hang up right there.
    probe = channel(["1", "5", "#"])
    await run(tmp_path, FakeBackend(), probe)
    say_at = probe.commands.index("say_digits")

    backend = FakeBackend()
    ch = channel(["1", "5", "#"], hangup_after=say_at)
    with pytest.raises(ChannelHangup):
        await run(tmp_path, backend, ch)
    [filed] = backend.filed
    assert backend.sms == [(CALLER, filed.summary.code)]
    assert ch.commands[say_at] == "say_digits"
    assert "goodbye" not in ch.played


async def test_recording_that_runs_to_the_limit_is_filed(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = channel(["1", "6", Recorded("maxlength")])
    await run(tmp_path, backend, ch)
    assert backend.filed[0].category_number == 6
    assert ch.said == [backend.filed[0].summary.code]


@pytest.mark.parametrize(("agents", "next_"), [(True, "queue"), (False, "hangup")])
async def test_filing_failure_apologises(tmp_path: Path, agents: bool, next_: str) -> None:
    backend = FakeBackend(fail={"file_request"}, agents=agents)
    ch = channel(["1", "2", "#"])
    await run(tmp_path, backend, ch)
    assert backend.sms == []
    assert ch.said == []
    assert "technical-error" in ch.played
    assert ch.variables["IVR_NEXT"] == next_


async def test_sms_failure_does_not_break_the_call(tmp_path: Path) -> None:
    backend = FakeBackend(fail={"send_sms_code"})
    ch = channel(["1", "2", "#"])
    await run(tmp_path, backend, ch)
    assert ch.said == [backend.filed[0].summary.code]
    assert ch.variables["IVR_NEXT"] == "hangup"


async def test_anonymous_caller_gets_no_sms(tmp_path: Path) -> None:
    backend = FakeBackend()
    ch = channel(["1", "2", "#"], caller="")
    await run(tmp_path, backend, ch)
    assert len(backend.filed) == 1
    assert backend.sms == []
    assert "sms-sent" not in ch.played


async def test_recording_name_cannot_leave_the_recordings_dir(tmp_path: Path) -> None:
    ch = channel(["1", "2", "#"], uniqueid="../../etc/passwd")
    await run(tmp_path, FakeBackend(), ch)
    [rec] = [c for c in ch.calls if c.name == "record"]
    path = Path(rec.args["path"])
    assert path.parent == tmp_path  # one plain file name inside the folder
    assert path.name.startswith("request-")


async def test_a_repeat_report_hears_added_to_your_request(tmp_path: Path) -> None:
    """Tried: the same caller files the same category twice; the second call hears
    "added to your open request" and the first request's code, not "filed"."""
    backend = FakeBackend()
    await run(tmp_path, backend, channel(["1", "3", "#"]))
    second = channel(["1", "3", "#"], uniqueid="1764330000.43")
    await run(tmp_path, backend, second)
    first, again = backend.filed
    assert again.summary.repeat and again.summary.code == first.summary.code
    assert "request-added" in second.played and "request-filed" not in second.played
    assert second.said[-1] == first.summary.code
    assert second.variables["IVR_PATH"].endswith("recorded>added>hangup")
