"""The steps every kind of task shares: finish under the claim, the contact policy's
gate, the intent written before a send (what a restart looks at), and dialling."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from callcenter.cases.models import RequestStatus
from callcenter.followups.models import ContactDecision, TaskState
from callcenter.followups.policy import ContactSubject
from callcenter.followups.ports import RunnerContext
from callcenter.followups.store import TaskView, finish, recent_contacts, record_contact


def dial_number(phone: str) -> str:
    """What the trunk dials: the national form of an Iranian E.164 number."""
    return "0" + phone[3:] if phone.startswith("+98") else phone.lstrip("+")



class LostClaim(Exception):
    """Our lease ran out and another instance took the task: stop, send nothing."""


class TaskSteps:
    """The shared steps over the runner that claimed the task (``self.e``)."""

    def __init__(self, runner: RunnerContext) -> None:
        self.e = runner
        self.used_agents: set[str] = set()

    # -- shared steps -------------------------------------------------------------------

    async def _finish(self, view: TaskView, state: TaskState, **values: Any) -> bool:
        now = self.e.clock()
        contact: dict[str, Any] | None = values.pop("contact", None)

        def work(session: Session) -> bool:
            if contact is not None:
                record_contact(session=session, task_id=view.id, citizen_id=view.citizen_id,
                               now=now, **contact)
            return finish(session=session, task_id=view.id, owner=self.e.owner, now=now,
                          state=state, **values)

        return await self.e.db(work)

    async def release(self, view: TaskView, *, reason: str) -> str:
        await self._finish(view, TaskState.PENDING)
        return reason

    async def gate(self, view: TaskView, *, channel: str, is_survey: bool) -> str | None:
        """Apply the contact policy: ``None`` to go ahead, else the task is finished
        (skipped for good or deferred) and the outcome word is returned."""
        now = self.e.clock()
        policy = self.e.policy
        if view.phone is None:
            await self._finish(view, TaskState.SKIPPED, note="not contacted: no phone",
                               contact={"channel": channel, "decision": ContactDecision.SKIPPED,
                                        "reason": "no-phone"})
            return "skipped"
        if is_survey and view.request_status != RequestStatus.RESOLVED and view.request_status \
                not in (RequestStatus.DUPLICATE, RequestStatus.REJECTED):
            await self._finish(view, TaskState.SKIPPED, note="request no longer resolved",
                               contact={"channel": channel, "decision": ContactDecision.SKIPPED,
                                        "reason": "request-not-resolved"})
            return "skipped"
        recent = await self.e.db(lambda s: recent_contacts(
            session=s, citizen_id=view.citizen_id, since=now - policy.period))
        decision = policy.decide(
            subject=ContactSubject(opted_out=view.opted_out, request_status=view.request_status,
                                   duplicate_of_id=view.duplicate_of_id, is_survey=is_survey),
            now=now, recent_contacts=recent)
        if decision.allowed:
            return None
        contact = {"channel": channel, "decision": ContactDecision.SKIPPED,
                   "reason": decision.reason,
                   "detail": {"retry_at": decision.retry_at.isoformat()
                              if decision.retry_at else None}}
        if decision.final:
            await self._finish(view, TaskState.SKIPPED, contact=contact,
                               note=f"not contacted: {decision.reason}")
            return "skipped"
        await self._finish(view, TaskState.PENDING, due_at=decision.retry_at, contact=contact)
        return "deferred"

    async def _intent(self, view: TaskView, phase: str, **extra: Any) -> dict[str, Any]:
        """Write "about to send attempt n" before sending (what a restart looks at)."""
        result = {**view.result, "phase": phase, **extra}
        if not await self._finish(view, TaskState.CLAIMED, attempts=view.attempts + 1,
                                  result=result):
            raise LostClaim(view.id)
        return result
