"""The agents' side of follow-ups on both backends: click-to-call through the policy,
manual survey answers, closing a task by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.ami.actions import OriginateResult
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.errors import Conflict
from callcenter.followups.manual import ContactRefused, click_to_call
from callcenter.followups.models import ContactAttempt, Task, TaskKind
from callcenter.followups.policy import build_policy
from callcenter.followups.services import complete_task, create_task, record_manual_survey
from callcenter.reference.hours import Holidays

SAT_NOON = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
POLICY = build_policy(zone="Asia/Tehran", opens=datetime.min.time().replace(hour=9),
                      closes=datetime.min.time().replace(hour=20), open_on_friday=False,
                      cap=1, period=timedelta(days=7),
                      holidays=Holidays(yearly=frozenset(), dated=frozenset()))


class Actions:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def originate(self, **kwargs: Any) -> OriginateResult:
        self.calls.append(kwargs)
        return OriginateResult(action_id="a", channel=kwargs["channel"], uniqueid="18.1",
                               reason="4")


def survey_task(session: Session) -> tuple[CitizenRequest, Task]:
    request = create_request(session=session, phone="09131234567", channel="web",
                             category_code="waste")
    change_status(session=session, request=request, to_status=RequestStatus.RESOLVED,
                  actor="dept")
    task = create_task(session=session, kind=TaskKind.SURVEY_CALL, request_id=request.id,
                       citizen_id=request.citizen_id)
    session.commit()
    return request, task


def agent_id(session: Session) -> int:
    from callcenter.users.services import create_user

    user = create_user(session=session, username="agent2103", password="long-enough-pass-1",
                       role="agent", extension="2103", full_name="")
    session.commit()
    assert user.id is not None
    return user.id


async def test_click_to_call_rings_the_agent_then_the_citizen(
    engine: Engine, session: Session
) -> None:
    _request, task = survey_task(session)
    assert task.id is not None
    user = agent_id(session)
    actions = Actions()
    placed = await click_to_call(engine=engine, actions=actions, policy=POLICY,
                                 task_id=task.id, extension="2103", user_id=user,
                                 clock=lambda: SAT_NOON)
    assert placed.agent == "PJSIP/2103"
    [call] = actions.calls
    assert (call["channel"], call["context"], call["exten"]) == ("PJSIP/2103", "outbound",
                                                                 "callback")
    assert call["variables"] == {"CITIZEN": "09131234567", "CALL_PURPOSE": "click-to-call"}
    # the cap (1) does not stop an agent's second call
    await click_to_call(engine=engine, actions=actions, policy=POLICY, task_id=task.id,
                        extension="2103", user_id=user, clock=lambda: SAT_NOON)
    session.rollback()  # a fresh snapshot: a SQLite read transaction keeps its own
    session.expire_all()
    assert session.get(Task, task.id).attempts == 2  # type: ignore[union-attr]


async def test_click_to_call_refuses_outside_hours_and_logs_why(
    engine: Engine, session: Session
) -> None:
    _request, task = survey_task(session)
    assert task.id is not None
    actions = Actions()
    friday = SAT_NOON - timedelta(days=1)
    with pytest.raises(ContactRefused):
        await click_to_call(engine=engine, actions=actions, policy=POLICY, task_id=task.id,
                            extension="2103", user_id=1, clock=lambda: friday)
    assert actions.calls == []
    [row] = session.exec(select(ContactAttempt)).all()
    assert (row.decision, row.reason) == ("skipped", "friday")


@pytest.mark.parametrize(("fixed", "status"), [(False, "reopened"), (True, "closed")])
def test_manual_survey_answers_settle_the_request(
    session: Session, fixed: bool, status: str
) -> None:
    request, task = survey_task(session)
    assert task.id is not None
    result = record_manual_survey(session=session, task_id=task.id, rating=2, fixed=fixed,
                                  actor="agent2103")
    session.commit()
    assert result == status
    session.refresh(request)
    assert (request.status, request.survey_rating, request.survey_fixed) == (status, 2, fixed)
    kinds = {(t.kind, t.state) for t in session.exec(select(Task)).all()}
    assert ("survey_call", "done") in kinds
    assert (("not_fixed", "pending") in kinds) is (not fixed)
    with pytest.raises(Conflict):
        record_manual_survey(session=session, task_id=task.id, rating=3, fixed=True,
                             actor="agent2103")


def test_complete_task_by_hand_once(session: Session) -> None:
    _request, task = survey_task(session)
    assert task.id is not None
    done = complete_task(session=session, task_id=task.id, actor="agent2103",
                         outcome="cancelled", note="citizen moved away")
    assert done.state == "cancelled" and (done.result or {})["closed_by"] == "agent2103"
    with pytest.raises(Conflict):
        complete_task(session=session, task_id=task.id, actor="agent2103")
