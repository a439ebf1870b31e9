"""The supervisor's figures and backlog summed in SQL equal the pure definitions
(``contact_figures``, ``backlog``) over the same rows, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.clock import utcnow
from callcenter.stats.queries import backlog_lines, figures_between
from callcenter.stats.services import backlog, contact_figures


def test_figures_in_sql_equal_the_definition(session: Session) -> None:
    now = utcnow()
    rows = [("answered", 5.0, 100.0), ("answered", 40.0, 200.5), ("answered", None, None),
            ("abandoned", 70.0, None), ("callback", 12.0, 0.0), ("missed", 30.0, 0.0),
            ("ivr_only", 0.0, 0.0)]
    for i, (outcome, wait, talk) in enumerate(rows):
        session.add(Call(linkedid=f"F{i}", uniqueid=f"F{i}", entered_at=now, outcome=outcome,
                         wait_seconds=wait, talk_seconds=talk))
    # outside the period, or not inbound: not counted
    session.add(Call(linkedid="old", uniqueid="old", entered_at=now - timedelta(days=2),
                     outcome="answered", wait_seconds=1.0))
    session.add(Call(linkedid="out", uniqueid="out", direction="outbound", entered_at=now,
                     outcome="answered", wait_seconds=1.0))
    session.flush()
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    calls = session.exec(select(Call).where(Call.entered_at >= start)).all()
    expected = contact_figures(calls, threshold_seconds=20)
    got = figures_between(session=session, start=start, end=end, threshold_seconds=20)
    assert got.offered == expected.offered == 6
    assert got.as_dict().keys() == expected.as_dict().keys()
    for key, value in expected.as_dict().items():
        assert got.as_dict()[key] == (value if not isinstance(value, float)
                                      else pytest.approx(value)), key


def test_backlog_in_sql_equals_the_definition(session: Session) -> None:
    for phone, category in [("09131234567", "waste"), ("09131234568", "waste"),
                            ("09131234569", "streets"), ("09131234570", "streets")]:
        create_request(session=session, phone=phone, channel="phone", category_code=category)
    session.flush()
    requests = session.exec(select(CitizenRequest).order_by(CitizenRequest.id)).all()
    change_status(session=session, request=requests[3], to_status=RequestStatus.REJECTED,
                  actor="t", notify_crm=False)
    requests[0].deadline_at = utcnow() - timedelta(hours=1)  # overdue
    session.add(requests[0])
    session.flush()
    now = utcnow()
    open_rows = [r for r in session.exec(select(CitizenRequest)).all()
                 if r.status != RequestStatus.REJECTED]
    assert backlog_lines(session=session, now=now) == backlog(open_rows, now=now)
    assert [(line.open, line.overdue) for line in backlog_lines(session=session, now=now)] == [
        (1, 0), (2, 1)]
