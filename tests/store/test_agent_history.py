"""The append-only agent state history and the per-agent report built from it, on every
backend: logged-in time, break time by reason, wrap-up time and rings not answered,
hand-counted; states clipped at the period's start and at ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.agent_history.models import AgentStateEvent
from callcenter.agent_history.recorder import AgentHistory
from callcenter.agent_panel.presence import AgentBoard
from callcenter.calls.events import AgentNoAnswer
from callcenter.reports.filters import ReportFilters
from callcenter.reports.periods import Period, month_period
from callcenter.reports.services import build_report
from callcenter.settings import Settings

TZ = "Asia/Tehran"
ESFAND = month_period("1403-12", TZ)  # 2025-02-18 20:30 UTC .. 2025-03-20 20:30 UTC
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC).timestamp()


def play(engine: Engine) -> AgentHistory:
    """One agent's morning, through the board as the hub drives it."""
    clock = [T0]
    board = AgentBoard(clock=lambda: clock[0])
    history = AgentHistory(engine)
    board.listen(history.on_presence)

    def at(minutes: float, trigger: str, **details: str) -> None:
        clock[0] = T0 + minutes * 60
        assert board.fire("2101", trigger, **details), trigger

    at(0, "join")  # logged in 08:00
    at(10, "ring", linkedid="c1")
    history.on_no_answer(AgentNoAnswer(linkedid="c1", at=T0 + 10.5 * 60, agent="2101",
                                       interface="PJSIP/2101", status="RingNoAnswer"))
    at(10.5, "no_answer", linkedid="c1")
    at(20, "ring", linkedid="c2")
    at(20.5, "answer", linkedid="c2")
    at(25, "end", linkedid="c2")  # wrap-up 5 minutes
    at(30, "ready")
    at(40, "pause", reason="lunch")  # 30 min lunch
    at(70, "resume")
    at(80, "pause", reason="training")  # 15 min training
    at(95, "resume")
    at(120, "leave")  # logged out 10:00: 120 minutes logged in
    history.flush()
    return history


def agents(session: Session, period: Period = ESFAND,
           now: datetime = datetime(2025, 3, 21, tzinfo=UTC)) -> dict[str, object]:
    report = build_report("agents", session=session, filters=ReportFilters(period=period),
                          settings=Settings(environment="test", ami_enabled=False), now=now)
    (row,) = report.table("agents").rows
    return {**row, "breaks": [(b["reason"], b["seconds"])
                              for b in report.table("agent_breaks").rows]}


def test_rows_are_appended_in_order(engine: Engine, session: Session) -> None:
    play(engine)
    rows = session.exec(select(AgentStateEvent).order_by(AgentStateEvent.id)).all()  # type: ignore[arg-type]
    assert [(r.kind, r.state, r.reason) for r in rows] == [
        ("state", "available", ""), ("state", "ringing", ""),
        ("ring_no_answer", "ringing", "RingNoAnswer"), ("state", "available", ""),
        ("state", "ringing", ""), ("state", "on_call", ""), ("state", "wrap_up", ""),
        ("state", "available", ""), ("state", "on_break", "lunch"), ("state", "available", ""),
        ("state", "on_break", "training"), ("state", "available", ""),
        ("state", "logged_out", "")]


def test_per_agent_times_and_rings(engine: Engine, session: Session) -> None:
    play(engine)
    row = agents(session)
    assert row["logged_in_seconds"] == 120 * 60
    assert row["break_seconds"] == 45 * 60 and row["wrap_up_seconds"] == 5 * 60
    assert row["rings_not_answered"] == 1
    assert row["breaks"] == [("lunch", 30 * 60.0), ("training", 15 * 60.0)]


def test_clipped_at_the_period_start_and_at_now(engine: Engine, session: Session) -> None:
    play(engine)
    # A period starting two days later (1403-12-13) holds none of the morning.
    later = Period(ESFAND.first + timedelta(days=12), ESFAND.last, TZ)
    report = build_report("agents", session=session, filters=ReportFilters(period=later),
                          settings=Settings(environment="test", ami_enabled=False),
                          now=datetime(2025, 3, 21, tzinfo=UTC))
    assert report.table("agents").rows == []
    # "now" at 08:50 UTC cuts the morning at 50 minutes, the lunch (from 08:40) at 10.
    row = agents(session, now=datetime(2025, 3, 1, 8, 50, tzinfo=UTC))
    assert row["logged_in_seconds"] == 50 * 60
    assert row["break_seconds"] == 10 * 60 and row["wrap_up_seconds"] == 5 * 60


def test_state_entered_before_the_period_counts_from_its_start(
        engine: Engine, session: Session) -> None:
    # Logged in on the last evening of Bahman (1403-11-30 23:00 local), out at 01:00.
    with Session(engine) as writer:
        writer.add_all([
            AgentStateEvent(extension="2102", at=datetime(2025, 2, 18, 19, 30, tzinfo=UTC),
                            state="available"),
            AgentStateEvent(extension="2102", at=datetime(2025, 2, 18, 21, 30, tzinfo=UTC),
                            state="logged_out")])
        writer.commit()
    row = agents(session)
    assert row["agent"] == "2102" and row["logged_in_seconds"] == 60 * 60
