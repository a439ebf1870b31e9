"""The 137 menu end to end: SIPp citizens press the contract's digits, the real
Asterisk 22 runs the bridge's FastAGI flows, and the store holds the result.

Timing: digits pressed while a prompt is *played* (not read) are lost, as on a real
phone, so each script waits for the prompt before it (lengths of the generated fa
prompts, plus margin).
"""

from __future__ import annotations

import re
import time

from ami_client import AmiClient
from bridge import Bridge
from pbx_sandbox import SandboxPbx
from sipp import Audio, AwaitHangup, Digits, Pause, SippRunner
from sqlmodel import Session, select

from callcenter.calls.models import Call
from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.sms.models import SmsMessage

PERSIAN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
GREETING = 5.5  # greeting.wav is 4.4 s
NO_AGENTS = 4.0  # no-agents.wav (3.8 s) is played before the limited menu


def played_digits(pbx: SandboxPbx, since: float) -> list[str]:
    """Digits Asterisk played (``Playing 'digits/N...'``) since ``since``, in order."""
    text = (pbx.log_dir / "messages").read_text(errors="replace")
    digits = []
    for line in text.splitlines():
        match = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", line)
        if not match or time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")) < since - 1:
            continue
        found = re.search(r"Playing 'digits/(\d)\.", line)
        if found:
            digits.append(found.group(1))
    return digits


async def test_new_request_by_voice(
    bridge: Bridge, sipp: SippRunner, pbx: SandboxPbx, ami: AmiClient
) -> None:
    """1 (new request) -> 3 (parks) -> speak after the beep -> # -> hear the code."""
    started = time.time()
    citizen = await sipp.citizen(
        callers=["09131234567"],
        steps=[Pause(GREETING + NO_AGENTS), Digits("1"), Pause(1.5), Digits("3"),
               Pause(14.5), Audio(), Digits("#"), AwaitHangup(45)],
        max_seconds=90,
    )
    result = await citizen.wait()
    assert result.ok, result.describe()

    request = bridge.wait_for(lambda s: s.exec(select(CitizenRequest)).first(), seconds=10)
    assert (request.channel, request.category_code, request.department_code) == (
        "phone", "parks", "parks")
    assert request.recording_path and request.recording_path.startswith(
        "/var/spool/asterisk/recording/request-")
    recording = pbx.host_path(request.recording_path)
    assert recording.exists() and recording.stat().st_size > 16000, recording

    def citizen_of(session: Session) -> Citizen | None:
        return session.get(Citizen, request.citizen_id)

    assert bridge.query(citizen_of).phone == "+989131234567"  # type: ignore[union-attr]
    sms = bridge.wait_for(lambda s: s.exec(select(SmsMessage)).first())
    assert request.tracking_code in sms.body.translate(PERSIAN)
    # the code the caller heard, digit by digit, is the stored one
    assert request.tracking_code in "".join(played_digits(pbx, started))

    call = bridge.wait_for(lambda s: s.exec(
        select(Call).where(Call.caller == "09131234567").where(Call.source == "ami")).first())
    assert call.outcome == "ivr_only"
    assert call.request_id == request.id
    assert call.ivr_path and "menu:1" in call.ivr_path and "category:3" in call.ivr_path
