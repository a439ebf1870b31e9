"""The 137 menu end to end: SIPp citizens press the contract's digits, the real
Asterisk 22 runs the bridge's FastAGI flows, and the store holds the result.

Timing: digits pressed while a prompt is *played* (not read) are lost, as on a real
phone, so each script waits for the prompt before it (lengths of the generated fa
prompts, plus margin).
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session, select
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.pbx_sandbox import QUEUE, SandboxPbx
from support.sipp import Audio, AwaitHangup, Digits, Hangup, Pause, SippRunner

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import change_status
from callcenter.cases.tracking import is_valid_code
from callcenter.citizens.models import Citizen
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task
from callcenter.intake.services import file_request
from callcenter.media.links import LinkSigner, recording_link
from callcenter.messages.models import CitizenMessage
from callcenter.sms.models import SmsMessage
from callcenter.users.services import create_user

PERSIAN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
GREETING = 5.5  # greeting.wav is 4.4 s
NO_AGENTS = 4.0  # no-agents.wav (3.8 s) is played before the limited menu
CLOSED = 4.6  # closed-hours.wav (4.4 s) is played before the limited menu out of hours
INVALID_CODE = 6.0  # invalid-code.wav is 5.4 s
INVALID_CHOICE = 3.8  # invalid-choice.wav is 3.3 s
PLEASE_HOLD = 6.9  # please-hold.wav, played before Queue()
AMI_SETTLE = 0.5
PLACE_KNOWN = 5.0  # place-known.wav + hood-<code>.wav are played before place-confirm


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
    """1 (new request) -> 3 (parks) -> 4 (district four) -> speak after the beep -> # ->
    hear the code; the request keeps the district and waits for triage."""
    started = time.time()
    citizen = await sipp.citizen(
        callers=["09131234567"],
        steps=[Pause(GREETING + NO_AGENTS), Digits("1"), Pause(1.5), Digits("3"),
               Pause(1.5), Digits("4"), Pause(14.5), Audio(), Digits("#"), AwaitHangup(45)],
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
    queued = bridge.query(lambda s: s.exec(select(CitizenMessage)).one())
    assert (queued.state, queued.kind, queued.request_id) == ("sent", "request_filed",
                                                              request.id)
    assert_recording_served(bridge, request.tracking_code, recording.read_bytes())
    # the code the caller heard, digit by digit, is the stored one
    assert request.tracking_code in "".join(played_digits(pbx, started))

    call = bridge.wait_for(lambda s: s.exec(
        select(Call).where(Call.caller == "09131234567").where(Call.source == "ami")).first())
    assert call.outcome == "ivr_only"
    assert call.request_id == request.id
    assert call.ivr_path and "menu:1>category:3>district:4>recorded" in call.ivr_path
    assert request.district == 4 and request.neighbourhood_code is None
    triage = bridge.query(lambda s: s.exec(
        select(Task).where(Task.request_id == request.id).where(Task.kind == "triage")).first())
    assert triage is not None and triage.state == "pending"
    assert in_sequence(prompts_played(pbx, started, "09131234567"),
                       "menu-categories", "menu-districts", "record-instructions")


async def test_new_request_confirms_the_earlier_neighbourhood(
    bridge: Bridge, sipp: SippRunner, pbx: SandboxPbx
) -> None:
    """A caller whose earlier request was in Safaieh hears it after the category and
    presses 1: the new request is filed there (district 2), no district menu. (The earlier
    one is resolved, so the greeting does not read it out first.)"""
    with Session(bridge.engine) as session:
        earlier = file_request(session=session, phone="09137777777", channel="web",
                               category_code="parks", neighbourhood_code="safaieh").request
        change_status(session=session, request=earlier, to_status="resolved", actor="test")
        session.commit()
    started = time.time()
    citizen = await sipp.citizen(
        callers=["09137777777"],
        steps=[Pause(GREETING + NO_AGENTS), Digits("1"), Pause(1.5), Digits("1"),
               Pause(PLACE_KNOWN), Digits("1"), Pause(14.5), Audio(), Digits("#"),
               AwaitHangup(45)],
        max_seconds=90,
    )
    result = await citizen.wait()
    assert result.ok, result.describe()
    request = bridge.wait_for(lambda s: s.exec(
        select(CitizenRequest).where(CitizenRequest.channel == "phone")).first(), seconds=10)
    assert (request.category_code, request.neighbourhood_code, request.district) == (
        "waste", "safaieh", 2)
    played = prompts_played(pbx, started, "09137777777")
    assert in_sequence(played, "menu-categories", "place-known", "hood-safaieh",
                       "place-confirm", "record-instructions"), played
    assert "menu-districts" not in played


def assert_recording_served(bridge: Bridge, code: str, wrote: bytes) -> None:
    """The file Asterisk wrote, byte for byte, over HTTP: whole and by Range for an agent,
    and by the signed link Shahrbin gets (no account)."""
    with session_scope(bridge.engine) as session:
        create_user(session=session, username="ali", password="e2e-pass-1", role="agent",
                    extension="2101", full_name="علی")
    with httpx.Client(base_url=bridge.url, timeout=10) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        login = client.post("/login", data={"username": "ali", "password": "e2e-pass-1",
                                            "csrf_token": token.group(1)})
        assert login.status_code in (200, 303), login.text
        url = f"/api/requests/{code}/recording"
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == wrote
        assert whole.headers["content-type"] == "audio/wav"
        part = client.get(url, headers={"Range": "bytes=44-1043"})
        assert part.status_code == 206 and part.content == wrote[44:1044]
        assert part.headers["content-range"] == f"bytes 44-1043/{len(wrote)}"
        past = client.get(url, headers={"Range": f"bytes={len(wrote)}-"})
        assert past.status_code == 416
    signer = LinkSigner(secret=b"dev-media-link-secret-change-me", ttl_seconds=600,
                        base_url=bridge.url)
    signed = httpx.get(recording_link(signer, code), timeout=10)
    assert signed.status_code == 200 and signed.content == wrote


def prompts_played(pbx: SandboxPbx, since: float, caller: str) -> list[str]:
    """Sound files Asterisk played to ``caller``'s 137 call(s) since ``since``, in order.

    The caller's channel is found by the dialplan's ``NoOp(137 call from <number>)``;
    only ``Playing '<name>.<ext>'`` lines of that channel count (names without extension).
    """
    channels: set[str] = set()
    played: list[str] = []
    for line in (pbx.log_dir / "messages").read_text(errors="replace").splitlines():
        match = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", line)
        if not match or time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")) < since - 1:
            continue
        opened = re.search(r'NoOp\("([^"]+)", "137 call from (\S+)"\)', line)
        if opened and opened.group(2) == caller:
            channels.add(opened.group(1))
            continue
        found = re.search(r"<([^>]+)> Playing '([^']+?)\.[a-z0-9]+'", line)
        if found and found.group(1) in channels:
            played.append(found.group(2))
    return played


def in_sequence(played: list[str], *wanted: str) -> bool:
    """``wanted`` appear in ``played`` in this order (other prompts may come between)."""
    remaining = iter(played)
    return all(any(name == item for item in remaining) for name in wanted)


def seed_request(bridge: Bridge, *, phone: str, category: str) -> str:
    """File a request (as another channel would) in the bridge's store; its tracking code."""
    with Session(bridge.engine) as session:
        code = file_request(
            session=session, phone=phone, channel="web", category_code=category
        ).request.tracking_code
        session.commit()
    return code


def call_of(bridge: Bridge, caller: str, *, seconds: float = 20) -> Call:
    """The live (AMI) call record of this caller's 137 call."""
    return bridge.wait_for(
        lambda s: s.exec(
            select(Call).where(Call.caller == caller).where(Call.source == "ami")
        ).first(),
        seconds=seconds,
    )


def mistype(code: str) -> str:
    """The code with one digit changed (the Damm check digit catches every such error)."""
    position = 3
    wrong = str((int(code[position]) + 5) % 10)
    return code[:position] + wrong + code[position + 1 :]


async def add_agent(ami: AmiClient, extension: str = "2101") -> None:
    """Log agent ``extension`` into the queue and give the bridge time to see it."""
    start = len(ami.events)
    added = await ami.action(
        "QueueAdd", Queue=QUEUE, Interface=f"PJSIP/{extension}", MemberName=f"Agent {extension}"
    )
    assert added["Response"] == "Success", added
    await ami.wait_for(
        lambda e: (e.get("Event") == "QueueMemberAdded"
                   and e.get("Interface") == f"PJSIP/{extension}"),
        seconds=5,
        start=start,
    )
    await asyncio.sleep(AMI_SETTLE)  # the bridge reads the same event on its own connection


async def test_follow_up_with_a_good_code(
    bridge: Bridge, sipp: SippRunner, pbx: SandboxPbx, ami: AmiClient
) -> None:
    """2 (follow up) -> code # -> status and department; no agent: goodbye."""
    caller = "09135550201"
    code = seed_request(bridge, phone="09137770201", category="waste")
    started = time.time()
    citizen = await sipp.citizen(
        callers=[caller],
        steps=[Pause(GREETING + NO_AGENTS), Digits("2"), Pause(1.0), Digits(code + "#"),
               AwaitHangup(30)],
        max_seconds=60,
    )
    result = await citizen.wait()
    assert result.ok, result.describe()

    played = prompts_played(pbx, started, caller)
    assert in_sequence(played, "greeting", "no-agents", "menu-limited", "enter-code",
                       "request-status-is", "status-referred", "request-dept-is",
                       "dept-waste", "goodbye"), played
    assert "invalid-code" not in played, played
    call = call_of(bridge, caller)
    assert call.outcome == "ivr_only"
    assert call.ivr_path and f"menu:2>code:{code}>hangup" in call.ivr_path, call.ivr_path


async def test_follow_up_with_a_mistyped_code_is_caught(
    bridge: Bridge, sipp: SippRunner, pbx: SandboxPbx, ami: AmiClient
) -> None:
    """A code with one digit wrong fails its check digit, is asked again, then accepted."""
    caller = "09135550202"
    code = seed_request(bridge, phone="09137770202", category="parks")
    wrong = mistype(code)
    assert wrong != code and not is_valid_code(wrong)
    started = time.time()
    citizen = await sipp.citizen(
        callers=[caller],
        steps=[Pause(GREETING + NO_AGENTS), Digits("2"), Pause(1.0), Digits(wrong + "#"),
               Pause(INVALID_CODE), Digits(code + "#"), AwaitHangup(30)],
        max_seconds=70,
    )
    result = await citizen.wait()
    assert result.ok, result.describe()

    played = prompts_played(pbx, started, caller)
    assert in_sequence(played, "menu-limited", "enter-code", "invalid-code", "enter-code",
                       "request-status-is", "status-referred", "request-dept-is",
                       "dept-parks", "goodbye"), played
    call = call_of(bridge, caller)
    assert call.ivr_path and f"menu:2>code:invalid>code:{code}" in call.ivr_path, call.ivr_path


async def test_zero_to_the_queue_and_an_agent_answers(
    bridge: Bridge, sipp: SippRunner, pbx: SandboxPbx, ami: AmiClient
) -> None:
    """With an agent logged in the full menu is offered; 0 queues; the agent answers."""
    caller = "09135550203"
    await add_agent(ami)
    agent = await sipp.agent(extension="2101", answer_after=1, talk_for=3, max_seconds=60)
    started = time.time()
    citizen = await sipp.citizen(
        callers=[caller], steps=[Pause(GREETING), Digits("0"), AwaitHangup(40)], max_seconds=60
    )
    called = await citizen.wait()
    answered = await agent.wait()
    assert called.ok, called.describe()
    assert called.outcomes == ["answered", "remote_bye"], called.describe()
    assert answered.ok, answered.describe()

    played = prompts_played(pbx, started, caller)
    assert in_sequence(played, "greeting", "menu-main", "please-hold"), played
    assert "no-agents" not in played and "menu-limited" not in played, played
    call = call_of(bridge, caller)
    assert (call.outcome, call.agent, call.queue) == ("answered", "2101", QUEUE)
    assert call.ivr_path and "menu:0" in call.ivr_path, call.ivr_path
    assert call.answered_at is not None and call.talk_seconds and call.talk_seconds > 1


async def test_callback_chosen_while_waiting(
    bridge: Bridge, sipp: SippRunner, pbx: SandboxPbx, ami: AmiClient
) -> None:
    """0 -> queue (the agent's phone rings, nobody answers) -> 1 -> callback task, goodbye."""
    caller = "09135550204"
    await add_agent(ami)
    agent = await sipp.agent(extension="2101", answer_after=None, max_seconds=40)
    start = len(ami.events)
    started = time.time()
    citizen = await sipp.citizen(
        callers=[caller],
        steps=[Pause(GREETING), Digits("0"), Pause(PLEASE_HOLD + 2.0), Digits("1"),
               AwaitHangup(30)],
        max_seconds=60,
    )
    called = await citizen.wait()
    assert called.ok, called.describe()
    assert called.outcomes == ["answered", "remote_bye"], called.describe()
    rang = await agent.wait()
    assert rang.outcomes == ["ringing", "cancelled"], rang.describe()  # rang, never answered

    joined = await ami.wait_for(
        lambda e: e.get("Event") == "VarSet" and e.get("Variable") == "QUEUE_JOINED"
        and e.get("CallerIDNum") == caller,
        seconds=5,
        start=start,
    )
    played = prompts_played(pbx, started, caller)
    assert in_sequence(played, "menu-main", "please-hold", "callback-confirmed", "goodbye"), played

    call = call_of(bridge, caller)
    task = bridge.wait_for(
        lambda s: s.exec(select(Task).where(Task.citizen_id == call.citizen_id)).all(), seconds=5
    )
    assert [(t.kind, t.state) for t in task] == [("callback", "pending")]
    assert task[0].due_at == datetime.fromtimestamp(int(joined["Value"]), UTC)
    assert task[0].call_linkedid == call.linkedid
    assert call.outcome == "callback"
    assert call.queue == QUEUE and call.agent is None
    assert call.ivr_path and "menu:0" in call.ivr_path and "queue:1>callback" in call.ivr_path


def closed_hours(now: datetime) -> tuple[str, str]:
    """An opening window (Asia/Tehran) that ``now`` is outside of, far from either edge."""
    local = now.astimezone(ZoneInfo("Asia/Tehran"))
    return ("13:00:00", "14:00:00") if local.hour < 11 or local.hour > 15 else ("01:00:00",
                                                                                "02:00:00")


async def test_out_of_hours_menu_offers_only_1_and_2(
    bridge_env: dict[str, str], tmp_path: Path, sipp: SippRunner, pbx: SandboxPbx,
    ami: AmiClient,
) -> None:
    """Closed: closed-hours, then the limited menu; 0 is refused, 2 is accepted."""
    caller = "09135550205"
    opens, closes = closed_hours(datetime.now(UTC))
    env = {**bridge_env, "CALLCENTER_OPENING_TIME": opens, "CALLCENTER_CLOSING_TIME": closes}
    workdir = tmp_path / "closed-bridge"
    workdir.mkdir()
    closed = Bridge(env=env, workdir=workdir)
    closed.start()
    try:
        await add_agent(ami)  # an agent is there, but the center is closed
        started = time.time()
        citizen = await sipp.citizen(
            callers=[caller],
            steps=[Pause(GREETING + CLOSED), Digits("0"), Pause(INVALID_CHOICE), Digits("2"),
                   Pause(2.0), Hangup()],
            max_seconds=60,
        )
        result = await citizen.wait()
        assert result.ok, result.describe()

        played = prompts_played(pbx, started, caller)
        assert in_sequence(played, "greeting", "closed-hours", "menu-limited", "invalid-choice",
                           "menu-limited", "enter-code"), played
        assert "menu-main" not in played and "please-hold" not in played, played
        call = call_of(closed, caller)
        assert call.outcome == "ivr_only" and call.queue is None
        assert call.ivr_path and call.ivr_path.startswith("menu:invalid>menu:2"), call.ivr_path
    finally:
        closed.close()
