"""The contact-center report: figures per bucket and in total, per queue, per agent, IVR
branches and exits, repeat callers; and the abandoned-calls list (supervisors only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from callcenter.reports import queries_agents as qa
from callcenter.reports import queries_calls as q
from callcenter.reports.filters import ReportFilters
from callcenter.reports.sqlbits import bucket_keys
from callcenter.reports.tables import Chart, Column, Report, Table, ratio
from callcenter.settings import Settings
from callcenter.users.models import User

FIGURE_COLUMNS = [
    Column("offered", "ورودی", "Offered"),
    Column("answered", "پاسخ‌داده", "Answered"),
    Column("abandoned", "رهاشده", "Abandoned"),
    Column("short_abandons", "رهاشده کوتاه", "Short abandons"),
    Column("callbacks", "درخواست تماس", "Callbacks"),
    Column("missed", "بی‌پاسخ", "Missed"),
    Column("answer_rate", "نرخ پاسخ", "Answer rate", "ratio"),
    Column("service_level", "سطح خدمت", "Service level", "ratio"),
    Column("abandon_rate", "نرخ رهاشدگی", "Abandon rate", "ratio"),
    Column("asa", "میانگین زمان پاسخ (ثانیه)", "ASA (s)", "seconds"),
    Column("aht", "میانگین مدت رسیدگی (ثانیه)", "AHT (s)", "seconds"),
    Column("longest_wait", "بیشترین انتظار (ثانیه)", "Longest wait (s)", "seconds"),
    Column("wait_0_20", "انتظار ۰ تا ۲۰", "Wait 0-20 s"),
    Column("wait_20_60", "انتظار ۲۰ تا ۶۰", "Wait 20-60 s"),
    Column("wait_60_120", "انتظار ۶۰ تا ۱۲۰", "Wait 60-120 s"),
    Column("wait_120_plus", "انتظار بیش از ۱۲۰", "Wait 120+ s"),
]
EMPTY_SUMS = {c.key: 0 for c in FIGURE_COLUMNS} | {"within": 0, "wait_answered": 0,
                                                   "talk_answered": 0, "longest_wait": None}
BUCKET = Column("bucket", "بازه", "Period", "text")


def figures(sums: dict[str, Any] | None, *, exclude_short: bool) -> dict[str, Any]:
    """The figures of one bucket from its SQL sums (``None`` where undefined)."""
    s = {**EMPTY_SUMS, **(sums or {})}
    offered, answered = int(s["offered"]), int(s["answered"])
    base = offered - int(s["short_abandons"]) if exclude_short else offered
    counts = {key: int(s[key]) for key in ("offered", "answered", "abandoned", "short_abandons",
                                            "callbacks", "missed", "wait_0_20", "wait_20_60",
                                            "wait_60_120", "wait_120_plus")}
    return {
        **counts,
        "answered_within_threshold": int(s["within"]),
        "answer_rate": ratio(answered, offered),
        "service_level": ratio(int(s["within"]), base),
        "abandon_rate": ratio(int(s["abandoned"]), offered),
        "asa": ratio(float(s["wait_answered"]), answered),
        "aht": ratio(float(s["talk_answered"]), answered),
        "longest_wait": None if not offered else float(s["longest_wait"] or 0.0),
    }


def contact_center(*, session: Session, filters: ReportFilters, settings: Settings,
                   exclude_short: bool | None = None) -> Report:
    """Figures per bucket and in total, per queue; the service level's threshold and
    short-abandon limit come from settings."""
    exclude = (settings.service_level_excludes_short_abandons if exclude_short is None
               else exclude_short)
    args: dict[str, Any] = {"session": session, "filters": filters,
            "threshold_seconds": settings.service_level_seconds,
            "short_abandon_seconds": settings.short_abandon_seconds}
    per_bucket = q.contact_sums(**args, by_bucket=True)
    total = q.contact_sums(**args, by_bucket=False).get(None)
    series = Table("contact_series", "تماس‌ها در هر بازه", "Calls per period",
                   [BUCKET, *FIGURE_COLUMNS])
    for key, label in bucket_keys(filters):
        series.rows.append({"bucket": label,
                            **figures(per_bucket.get(key), exclude_short=exclude)})
    queues = Table("contact_queues", "هر صف", "Per queue", [
        Column("queue", "صف", "Queue", "text"), *FIGURE_COLUMNS[:3],
        Column("service_level", "سطح خدمت", "Service level", "ratio")])
    for line in q.per_queue(session=session, filters=filters,
                            threshold_seconds=settings.service_level_seconds):
        queues.rows.append({**line, "service_level": ratio(line["within"], line["offered"])})
    head = figures(total, exclude_short=exclude)
    head.update(threshold_seconds=settings.service_level_seconds,
                short_abandon_seconds=settings.short_abandon_seconds,
                short_abandons_excluded=exclude)
    total_table = Table("contact_total", "جمع دوره", "Period total", FIGURE_COLUMNS, [head])
    return Report("contact", head, [total_table, series, queues], [
        Chart("calls", "تماس‌های ورودی و پاسخ‌داده", "Offered and answered calls", "line",
              "contact_series", "bucket", ("offered", "answered", "abandoned")),
        Chart("waits", "توزیع زمان انتظار", "Wait distribution", "stacked", "contact_series",
              "bucket", ("wait_0_20", "wait_20_60", "wait_60_120", "wait_120_plus")),
    ])


def agents(*, session: Session, filters: ReportFilters, now: datetime) -> Report:
    """Per agent: calls answered, talk time, AHT (from the call records), and from the
    agent state history: logged-in time, break time (and per reason), wrap-up time and
    rings not answered."""
    names = {u.extension: u.full_name or u.username for u in session.exec(
        select(User).where(col(User.extension).is_not(None))).all()}
    table = Table("agents", "کارشناسان", "Agents", [
        Column("agent", "داخلی", "Extension", "text"), Column("name", "نام", "Name", "text"),
        Column("answered", "پاسخ‌داده", "Answered"),
        Column("talk_seconds", "مدت مکالمه (ثانیه)", "Talk time (s)", "seconds"),
        Column("aht", "میانگین مدت رسیدگی (ثانیه)", "AHT (s)", "seconds"),
        Column("rings_not_answered", "زنگ بی‌پاسخ", "Rings not answered"),
        Column("logged_in_seconds", "مدت ورود (ثانیه)", "Logged in (s)", "seconds"),
        Column("break_seconds", "مدت استراحت (ثانیه)", "On break (s)", "seconds"),
        Column("wrap_up_seconds", "مدت جمع‌بندی (ثانیه)", "Wrap-up (s)", "seconds")])
    breaks = Table("agent_breaks", "استراحت بر پایه دلیل", "Break time by reason", [
        Column("agent", "داخلی", "Extension", "text"), Column("reason", "دلیل", "Reason", "text"),
        Column("seconds", "مدت (ثانیه)", "Time (s)", "seconds")])
    calls = {line["agent"]: line for line in q.per_agent(session=session, filters=filters)}
    rings = qa.rings_not_answered(session=session, filters=filters)
    times: dict[str, dict[str, float]] = {}
    for span in qa.state_seconds(session=session, filters=filters, now=now):
        agent, state = span["agent"], span["state"]
        found = times.setdefault(agent, {"logged_in": 0.0, "on_break": 0.0, "wrap_up": 0.0})
        found["logged_in"] += span["seconds"]  # every state but logged_out
        if state in ("on_break", "wrap_up"):
            found[state] += span["seconds"]
        if state == "on_break":
            breaks.rows.append({"agent": agent, "reason": span["reason"] or "-",
                                "seconds": float(span["seconds"])})
    breaks.rows.sort(key=lambda row: (row["agent"], row["reason"]))
    for agent in sorted(set(calls) | set(rings) | set(times)):
        line = calls.get(agent, {"answered": 0, "talk_seconds": 0.0})
        spent = times.get(agent, {"logged_in": 0.0, "on_break": 0.0, "wrap_up": 0.0})
        table.rows.append({"agent": agent, "name": names.get(agent, ""),
                           "answered": int(line["answered"]),
                           "talk_seconds": float(line["talk_seconds"]),
                           "aht": ratio(float(line["talk_seconds"]), int(line["answered"])),
                           "rings_not_answered": rings.get(agent, 0),
                           "logged_in_seconds": spent["logged_in"],
                           "break_seconds": spent["on_break"],
                           "wrap_up_seconds": spent["wrap_up"]})
    return Report("agents", {"agents": len(table.rows)}, [table, breaks], [
        Chart("agents", "پاسخ هر کارشناس", "Calls answered per agent", "bars", "agents",
              "agent", ("answered",))])


def last_step(path: str) -> str:
    """``menu:1>category:3>recorded`` -> ``recorded``; ``category:3`` -> ``category``."""
    if not path:
        return "none"
    return path.split(">")[-1].split(":")[0]


def ivr(*, session: Session, filters: ReportFilters) -> Report:
    """Calls per IVR branch, and where calls that ended in the IVR ended."""
    branches = q.ivr_branches(session=session, filters=filters)
    branches["survey"] = q.survey_calls(session=session, filters=filters)
    table = Table("ivr_branches", "شاخه‌های منوی گویا", "IVR branches", [
        Column("branch", "شاخه", "Branch", "text"), Column("calls", "تماس", "Calls")],
        [{"branch": name, "calls": calls} for name, calls in branches.items()])
    exits: dict[str, int] = {}
    for path, calls in q.ivr_exits(session=session, filters=filters):
        exits[last_step(path)] = exits.get(last_step(path), 0) + calls
    exit_table = Table("ivr_exits", "پایان تماس در منو", "Where IVR-only calls ended", [
        Column("step", "مرحله", "Last step", "text"), Column("calls", "تماس", "Calls")],
        [{"step": step, "calls": n} for step, n in sorted(exits.items())])
    return Report("ivr", dict(branches), [table, exit_table], [
        Chart("ivr", "شاخه‌های منو", "IVR branches", "bars", "ivr_branches", "branch",
              ("calls",))])


def repeats(*, session: Session, filters: ReportFilters) -> Report:
    """Calls from a number that called within the previous 24 hours / 7 days."""
    found = q.repeat_callers(session=session, filters=filters)
    head = {**found, "repeat_24h_share": ratio(found["repeat_24h"], found["calls"]),
            "repeat_7d_share": ratio(found["repeat_7d"], found["calls"])}
    table = Table("repeat_callers", "تماس تکراری", "Repeat callers", [
        Column("calls", "تماس با شماره", "Calls with a number"),
        Column("repeat_24h", "تکرار در ۲۴ ساعت", "Repeat within 24 h"),
        Column("repeat_24h_share", "سهم ۲۴ ساعت", "Share 24 h", "ratio"),
        Column("repeat_7d", "تکرار در ۷ روز", "Repeat within 7 days"),
        Column("repeat_7d_share", "سهم ۷ روز", "Share 7 days", "ratio")], [head])
    return Report("repeats", head, [table])


def abandoned(*, session: Session, filters: ReportFilters) -> Report:
    """Abandoned calls with the caller's number (supervisors and admins only)."""
    table = Table("abandoned", "تماس‌های رهاشده", "Abandoned calls", [
        Column("at", "زمان", "Time", "text"), Column("caller", "شماره", "Number", "text"),
        Column("wait_seconds", "انتظار (ثانیه)", "Wait (s)", "seconds"),
        Column("called_back", "تماس برگشتی", "Called back", "text")])
    for line in q.abandoned_list(session=session, filters=filters):
        table.rows.append({"at": line["entered_at"].isoformat(), "caller": line["caller"] or "",
                           "wait_seconds": line["wait_seconds"],
                           "called_back": bool(line["called_back"])})
    return Report("abandoned", {"abandoned": len(table.rows)}, [table])
