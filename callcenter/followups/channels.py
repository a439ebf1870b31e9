"""How each kind of claimed task is carried out: SMS survey, survey call, callback.

Every step ends with ``store.finish`` (conditional on still holding the claim) and,
for every decision to contact or not, one ``contact_attempt`` line.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from callcenter.ami.exceptions import AmiError, AmiNotConnected, OriginateFailed
from callcenter.backoff import backoff_delay
from callcenter.digits import persian_digits
from callcenter.followups.callbacks import place_callback
from callcenter.followups.models import ContactChannel, ContactDecision, Task, TaskKind, TaskState
from callcenter.followups.steps import TaskSteps, dial_number
from callcenter.followups.store import TaskView, finish
from callcenter.followups.surveys import survey_key
from callcenter.sms.models import SmsDirection, SmsMessage, SmsStatus

SURVEY_SMS_TEXT = ("سامانه ۱۳۷ شهرداری یزد: درخواست {code} رسیدگی شد. از ۱ تا ۵ چه نمره‌ای "
                   "می‌دهید؟ فقط یک رقم بفرستید.")
# Asterisk's OriginateResponse Reason codes (AST_CONTROL_*).
ORIGINATE_REASONS = {"0": "failed", "1": "hangup", "3": "no-answer", "5": "busy",
                     "8": "congestion"}
AMI_RETRY = timedelta(minutes=1)


def survey_sms_text(code: str) -> str:
    return SURVEY_SMS_TEXT.format(code=persian_digits(code))


class Channels(TaskSteps):
    """Carries out each automatic kind of task (SMS survey, survey call, callback)."""

    # -- SMS survey ---------------------------------------------------------------------

    async def survey_sms(self, view: TaskView) -> str:
        if view.surveyed:
            await self._finish(view, TaskState.DONE)
            return "answered"
        if view.phase == "sms_sent":
            return await self.escalate(view, reason="no-reply")
        if view.phase == "escalated":  # a late reply could still land until now
            await self._finish(view, TaskState.DONE)
            return "expired"
        attempts = view.attempts
        if view.phase == "sending":  # a pass died mid-send: look before sending again
            found = await self.e.db(lambda s: _sms_outcome(s, view))
            if found in ("sent", "unknown"):
                return await self._sms_sent(view, view.result, recovered=found)
            if found == "none":  # it never left: this attempt's number is reused
                attempts -= 1
        if self.e.sms is None:
            return await self.escalate(view, reason="no-sms-service")
        stop = await self.gate(view, channel=ContactChannel.SMS, is_survey=True)
        if stop:
            return stop
        watermark = await self.e.db(lambda s: s.exec(select(func.max(SmsMessage.id))).one())
        view = _with_attempts(view, attempts)
        result = await self._intent(view, "sending", sms_after_id=watermark or 0)
        assert view.phone is not None and view.request_code is not None
        sent = await self.e.sms.send(to=view.phone, body=survey_sms_text(view.request_code),
                                     request_id=view.request_id)
        if sent.ok:
            return await self._sms_sent(view, result, recovered=None)
        contact = {"channel": ContactChannel.SMS, "decision": ContactDecision.FAILED,
                   "reason": "sms-error", "detail": {"error": sent.error}}
        if attempts + 1 < view.max_attempts:
            await self._finish(view, TaskState.PENDING, contact=contact,
                               due_at=self.e.clock() + self.e.config.call_backoff,
                               result={**result, "phase": "new"})
            return "retry"
        await self._finish(view, TaskState.CLAIMED, contact=contact)
        return await self.escalate(view, reason="sms-failed")

    async def _sms_sent(self, view: TaskView, result: dict[str, Any], *,
                        recovered: str | None) -> str:
        await self._finish(
            view, TaskState.WAITING, due_at=self.e.clock() + self.e.config.reply_window,
            result={**result, "phase": "sms_sent"},
            contact={"channel": ContactChannel.SMS, "decision": ContactDecision.SENT,
                     "reason": f"recovered-{recovered}" if recovered else None})
        return "recovered" if recovered else "sent"

    async def escalate(self, view: TaskView, *, reason: str) -> str:
        """No SMS answer: the survey goes on as an outbound call (one per resolution)."""
        now = self.e.clock()

        def work(session: Session) -> None:
            if view.request_id is not None and view.resolved_at is not None:
                task = Task(kind=TaskKind.SURVEY_CALL, request_id=view.request_id,
                            citizen_id=view.citizen_id, due_at=now, created_at=now,
                            updated_at=now, max_attempts=self.e.config.call_max_attempts,
                            dedupe_key=survey_key(TaskKind.SURVEY_CALL, view.request_id,
                                                  view.resolved_at),
                            note=f"survey call ({reason})")
                try:
                    with session.begin_nested():
                        session.add(task)
                except IntegrityError:
                    pass  # already escalated
            result = {**view.result, "escalated": reason}
            if reason == "no-reply":
                # The SMS went out: keep it answerable (intake's reply hook looks for a
                # waiting survey_sms) while the call is tried; settling closes it.
                finish(session=session, task_id=view.id, owner=self.e.owner, now=now,
                       state=TaskState.WAITING, due_at=now + self.e.config.lookback,
                       result={**result, "phase": "escalated"})
            else:
                finish(session=session, task_id=view.id, owner=self.e.owner, now=now,
                       state=TaskState.DONE, result=result)

        await self.e.db(work)
        return "escalated"

    # -- survey call --------------------------------------------------------------------

    async def survey_call(self, view: TaskView) -> str:
        if view.surveyed:
            await self._finish(view, TaskState.DONE)
            return "answered"
        if view.phase in ("call_answered", "calling"):
            reason = "no-rating" if view.phase == "call_answered" else "outcome-unknown"
            return await self._call_failed(view, view.result, reason, view.attempts)
        stop = await self.gate(view, channel=ContactChannel.VOICE, is_survey=True)
        if stop:
            return stop
        result = await self._intent(view, "calling")
        assert view.phone is not None and view.request_code is not None
        cfg = self.e.config
        assert self.e.actions is not None  # survey calls are claimed only with AMI actions
        try:
            placed = await self.e.actions.originate(
                channel=f"PJSIP/{dial_number(view.phone)}@{cfg.trunk}", context=cfg.context,
                exten="survey", caller_id=f'"137" <{cfg.caller_id}>',
                variables={"SURVEY_REQUEST": view.request_code, "CALL_PURPOSE": "survey"})
        except AmiNotConnected:  # nothing was dialled: not an attempt
            await self._finish(view, TaskState.PENDING, attempts=view.attempts,
                               due_at=self.e.clock() + AMI_RETRY,
                               result={**result, "phase": "new"})
            return "no-ami"
        except OriginateFailed as exc:
            reason = ORIGINATE_REASONS.get(str(exc.details.get("reason", "")), "failed")
            return await self._call_failed(view, result, reason, view.attempts + 1)
        except AmiError as exc:  # disconnected or timed out: it may have rung
            return await self._call_failed(view, result, exc.error_id, view.attempts + 1)
        await self._finish(
            view, TaskState.WAITING, due_at=self.e.clock() + cfg.result_wait,
            result={**result, "phase": "call_answered", "uniqueid": placed.uniqueid},
            contact={"channel": ContactChannel.VOICE, "decision": ContactDecision.SENT,
                     "reason": None, "detail": {"uniqueid": placed.uniqueid}})
        return "sent"

    async def _call_failed(self, view: TaskView, result: dict[str, Any], reason: str,
                           attempts: int) -> str:
        contact = {"channel": ContactChannel.VOICE, "decision": ContactDecision.FAILED,
                   "reason": reason}
        if attempts < view.max_attempts:
            delay = timedelta(seconds=backoff_delay(
                attempt=attempts, base=self.e.config.call_backoff.total_seconds()))
            await self._finish(view, TaskState.PENDING, attempts=attempts, contact=contact,
                               due_at=self.e.clock() + delay,
                               result={**result, "phase": "new", "last": reason})
            return "retry"
        await self._finish(view, TaskState.FAILED, attempts=attempts, contact=contact,
                           result={**result, "phase": "given-up", "last": reason},
                           note=f"no survey after {attempts} call(s): {reason}")
        return "failed"

    # -- status SMS queued to calling hours ----------------------------------------------

    async def status_sms(self, view: TaskView) -> str:
        """Send a status SMS the department's update queued outside calling hours. At
        most once: a pass that died after the intent does not send again."""
        if view.phase == "sending":
            await self._finish(view, TaskState.DONE, result={**view.result, "phase": "unknown"})
            return "recovered"
        body = str(view.result.get("body") or "")
        if view.phone is None or view.opted_out or not body or self.e.sms is None:
            await self._finish(view, TaskState.SKIPPED, note="status SMS not sent")
            return "skipped"
        result = await self._intent(view, "sending")
        sent = await self.e.sms.send(to=view.phone, body=body, request_id=view.request_id)
        await self._finish(view, TaskState.DONE if sent.ok else TaskState.FAILED,
                           result={**result, "phase": "sent" if sent.ok else "failed"})
        return "sent" if sent.ok else "failed"

    # -- automatic callback (callbacks.py) ----------------------------------------------

    async def callback(self, view: TaskView) -> str:
        return await place_callback(self, view)


def _with_attempts(view: TaskView, attempts: int) -> TaskView:
    return replace(view, attempts=attempts)


def _sms_outcome(session: Session, view: TaskView) -> str:
    """After a crash mid-send: ``sent``, ``failed``, ``unknown`` (in flight) or ``none``."""
    assert view.phone is not None and view.request_code is not None
    rows = session.exec(
        select(SmsMessage.status).where(SmsMessage.direction == SmsDirection.OUTBOUND)
        .where(SmsMessage.request_id == view.request_id)
        .where(SmsMessage.to_phone == view.phone)
        .where(SmsMessage.body == survey_sms_text(view.request_code))
        .where(col(SmsMessage.id) > int(view.result.get("sms_after_id", 0)))
    ).all()
    if not rows:
        return "none"
    if SmsStatus.SENT in rows:
        return "sent"
    return "failed" if all(status == SmsStatus.FAILED for status in rows) else "unknown"
