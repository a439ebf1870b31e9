"""The satisfaction survey end to end through the real sandbox Asterisk 22.

A resolved request -> the follow-up engine sends the SMS survey (log transport) -> no
reply within the window -> the engine escalates to a survey call: AMI Originate
``PJSIP/<number>@citizens`` into ``[outbound] survey`` -> a SIPp citizen answers and
presses 4 (rating) then 2 (not fixed) in the survey IVR served by the real
``callcenter serve`` (FastAGI) -> the answer is stored on the request -> the engine
reopens the request, alerts the department (outbox) and lists a ``not_fixed`` task.

The engine runs in this test process (its own AMI connection and the bridge's SQLite
store) with a clock it controls, so the reply window can pass in a second.

Timing (generated fa prompts): survey-intro 9.1 s + the 8-digit code (~0.8 s a digit)
are played without listening; survey-rate (8.9 s) is read, so "4" must come after
~16 s and before ~25 s from the answer; then survey-fixed (5.9 s) is read.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session, select
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.sipp import (
    CITIZENS_TRUNK_PORT,
    SCENARIOS,
    STALE_RING_SLACK,
    AwaitHangup,
    Digits,
    Pause,
    SippRunner,
    answerer_scenario,
    render_steps,
)

from callcenter.ami.bridge import AmiBridge
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.clock import utcnow
from callcenter.followups.config import RunnerConfig
from callcenter.followups.models import ContactAttempt, Task, TaskKind
from callcenter.followups.policy import build_policy
from callcenter.followups.runner import FollowupRunner
from callcenter.outbox.models import OutboxItem
from callcenter.reference.hours import Holidays
from callcenter.sms.service import LogTransport, RecordingSmsService

ANSWER_TO_RATING = 19.0  # seconds from the answer to pressing "4"
RATING_TO_FIXED = 2.3  # + the 0.2 s a key press takes


def survey_answerer_scenario(folder: Path) -> str:
    """agent_uas.xml with an answer that presses 4, then 2, then waits for Asterisk's BYE
    (each key press renumbered so "2" after "4" is not dropped: ``sipp.dtmf_press``)."""
    block = (SCENARIOS / "agent_answer_block.xml").read_text()
    head, _sep, _tail = block.partition("  <pause milliseconds=\"@@TALK_MS@@\"/>")
    steps = render_steps([Pause(ANSWER_TO_RATING), Digits("4"), Pause(RATING_TO_FIXED),
                          Digits("2"), AwaitHangup(40)], dtmf_dir=folder)
    # After the keys the IVR thanks and hangs up: Asterisk's BYE -> "remote_bye".
    return answerer_scenario(calls=1, answer_ms=500, answer_block=head + steps,
                             bye_headers="")


async def answered(bridge: Bridge, request_id: int | None, seconds: float = 20
                   ) -> CitizenRequest:
    """Poll the store (without blocking the loop) until the IVR stored an answer."""
    for _ in range(int(seconds * 5)):
        found = bridge.query(lambda s: s.get(CitizenRequest, request_id))
        if found is not None and found.survey_at is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no survey answer stored in {seconds} s:\n{bridge.log_tail()}")


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


async def test_no_sms_reply_leads_to_a_survey_call_where_4_then_2_reopens_the_request(
    bridge: Bridge, sipp: SippRunner, ami: AmiClient, tmp_path: Path
) -> None:
    def resolve(session: Session) -> CitizenRequest:
        request = create_request(session=session, phone="09135550042", channel="phone",
                                 category_code="streets", description="چاله خیابان")
        change_status(session=session, request=request, to_status=RequestStatus.RESOLVED,
                      actor="dept")
        session.commit()
        session.refresh(request)
        return request

    with Session(bridge.engine, expire_on_commit=False) as session:
        request = resolve(session)

    amis = AmiBridge(host=ami.host, port=ami.port, username=ami.username, secret=ami.secret)
    amis.start()
    try:
        for _ in range(100):
            if amis.manager.is_ready:
                break
            await asyncio.sleep(0.1)
        assert amis.manager.is_ready, "the engine's AMI connection did not log in"
        clock = Clock()
        always_open = build_policy(zone="Asia/Tehran", opens=time(0), closes=time(23, 59, 59),
                                   open_on_friday=True, cap=5, period=timedelta(days=7),
                                   holidays=Holidays(yearly=frozenset(), dated=frozenset()))
        engine = FollowupRunner(
            engine=bridge.engine, policy=always_open, clock=clock, actions=amis.actions,
            config=RunnerConfig(survey_delay=timedelta(0), reply_window=timedelta(hours=1)),
            sms=RecordingSmsService(transport=LogTransport(), engine=bridge.engine,
                                    from_number="+98137"))
        first = await engine.run_due()
        assert first.outcomes == {"sent": 1}, first.as_dict()  # the SMS survey

        citizen = await sipp._start(
            "survey-citizen", survey_answerer_scenario(tmp_path),
            ["-p", CITIZENS_TRUNK_PORT, "-m", str(1 + STALE_RING_SLACK)], max_seconds=70)
        clock.offset = timedelta(hours=1, minutes=1)  # no reply within the window
        escalated = await engine.run_due()
        assert escalated.outcomes == {"escalated": 1}, escalated.as_dict()
        called = await engine.run_due()  # the survey call task is due at once
        assert called.outcomes == {"sent": 1}, called.as_dict()
        reached = await citizen.wait()
        assert reached.ok, reached.describe()
        assert reached.outcomes == ["ringing", "answered", "remote_bye"], reached.describe()

        stored = await answered(bridge, request.id)
        assert (stored.survey_rating, stored.survey_fixed, stored.survey_channel) == (
            4, False, "phone")
        await engine.run_due()  # settles the answer
    finally:
        await amis.stop()

    def outcome(session: Session) -> tuple[str, list[tuple[str, str]], list[str], list[str]]:
        final = session.get(CitizenRequest, request.id)
        assert final is not None
        tasks = [(t.kind, t.state) for t in session.exec(
            select(Task).where(Task.request_id == request.id).order_by(Task.id)).all()]
        outbox = [o.payload["request"]["status"] for o in session.exec(
            select(OutboxItem).where(OutboxItem.request_id == request.id)).all()]
        contacts = [f"{c.channel}:{c.decision}" for c in session.exec(
            select(ContactAttempt).order_by(ContactAttempt.id)).all()]
        return final.status, tasks, outbox, contacts

    status, tasks, outbox, contacts = bridge.query(outcome)
    assert status == RequestStatus.REOPENED
    assert tasks == [(TaskKind.SURVEY_SMS, "done"), (TaskKind.SURVEY_CALL, "done"),
                     (TaskKind.NOT_FIXED, "pending")]
    assert outbox[-1] == "reopened"
    assert contacts == ["sms:sent", "voice:sent"]
