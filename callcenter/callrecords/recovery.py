"""Recover calls that ended while the bridge was down or AMI disconnected, from
Asterisk's own records: the CDR CSV (``cdr-csv/Master.csv``: every inbound call) and
``queue_log`` (what happened in the queue). Each becomes a ``CallEnded`` that
``record_call`` stores once (idempotent by linkedid = the caller channel's uniqueid).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from callcenter.calls.events import CallEnded, Outcome

log = logging.getLogger(__name__)

TAIL_BYTES = 8 * 1024 * 1024  # read at most the newest 8 MB of each file

# Master.csv columns with loguniqueid=yes and loguserfield=yes (cdr.conf [csv]).
CDR_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
)


@dataclass
class QueueTrail:
    """What queue_log says about one caller (keyed by the caller channel's uniqueid)."""

    queue: str | None = None
    entered: float | None = None
    position: int | None = None
    agent: str | None = None
    connected: float | None = None
    hold: float = 0.0
    talk: float = 0.0
    outcome: Outcome | None = None
    ring_failures: list[str] = field(default_factory=list)


def _tail(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(size - TAIL_BYTES, 0))
        data = handle.read()
    if size > TAIL_BYTES:  # drop the partial first line
        data = data.split(b"\n", 1)[-1]
    return data.decode("utf-8", errors="replace")


def parse_queue_log(text: str) -> dict[str, QueueTrail]:
    """``time|callid|queue|agent|event|data…`` lines -> one trail per caller."""
    trails: dict[str, QueueTrail] = {}
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) < 5 or parts[1] in {"NONE", "MANAGER", ""}:
            continue
        try:
            at = float(parts[0])
        except ValueError:
            continue
        callid, queue, agent, event, data = parts[1], parts[2], parts[3], parts[4], parts[5:]
        trail = trails.setdefault(callid, QueueTrail())
        trail.queue = queue if queue != "NONE" else trail.queue
        try:
            if event == "ENTERQUEUE":
                position = int(data[2]) if len(data) > 2 and data[2] else None
                trail.entered, trail.position = at, position
            elif event == "CONNECT":
                hold = float(data[0] or 0)
                trail.agent, trail.connected, trail.hold = _agent(agent), at, hold
                trail.outcome = Outcome.ANSWERED
            elif event in {"COMPLETECALLER", "COMPLETEAGENT"}:
                trail.talk = float(data[1] or 0)
                trail.outcome = Outcome.ANSWERED
            elif event in {"ABANDON", "EXITEMPTY", "EXITWITHTIMEOUT"}:
                wait = float(data[2] or 0) if len(data) > 2 else trail.hold
                trail.outcome, trail.hold = Outcome.ABANDONED, wait
            elif event == "EXITWITHKEY":
                wait = float(data[3] or 0) if len(data) > 3 else trail.hold
                trail.outcome, trail.hold = Outcome.CALLBACK, wait
            elif event == "RINGNOANSWER":
                trail.ring_failures.append(_agent(agent))
        except (ValueError, IndexError):
            log.warning("queue_log: unreadable %s line skipped", event)
    return trails


def _agent(member_name: str) -> str:
    """queue_log names members ("Agent 2101"); the tracker uses the extension."""
    return member_name.rsplit(" ", 1)[-1] if member_name else member_name


def _time(value: str) -> float | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def parse_cdr(text: str, *, context: str) -> dict[str, dict[str, object]]:
    """Inbound CDR rows (``dcontext`` = the citizens' context) grouped by caller uniqueid."""
    calls: dict[str, dict[str, object]] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < len(CDR_COLUMNS) - 1:
            continue
        record = dict(zip(CDR_COLUMNS, row, strict=False))
        if record["dcontext"] != context or not record.get("uniqueid"):
            continue
        try:
            start, end = _time(record["start"]), _time(record["end"])
        except ValueError:
            continue
        if start is None or end is None:
            continue
        call = calls.setdefault(
            record["uniqueid"],
            {
                "caller": record["src"],
                "name": _clid_name(record["clid"]),
                "start": start,
                "end": end,
                "userfield": record.get("userfield", ""),
            },
        )
        call["start"] = min(float(call["start"]), start)  # type: ignore[arg-type]
        call["end"] = max(float(call["end"]), end)  # type: ignore[arg-type]
    return calls


def _clid_name(clid: str) -> str:
    name = clid.split("<", 1)[0].strip().strip('"')
    return name


def recover_calls(
    *, cdr_file: Path, queue_log: Path, context: str, since: float
) -> list[CallEnded]:
    """Calls that ended after ``since`` according to Asterisk's own records."""
    if not cdr_file.exists():
        log.warning("call recovery: no CDR file at %s", cdr_file)
        return []
    trails = parse_queue_log(_tail(queue_log)) if queue_log.exists() else {}
    return list(_ended(parse_cdr(_tail(cdr_file), context=context), trails, since))


def _ended(
    calls: dict[str, dict[str, object]], trails: dict[str, QueueTrail], since: float
) -> Iterable[CallEnded]:
    for uniqueid, call in calls.items():
        end = float(call["end"])  # type: ignore[arg-type]
        if end < since:
            continue
        start = float(call["start"])  # type: ignore[arg-type]
        trail = trails.get(uniqueid)
        outcome = (
            trail.outcome
            if trail and trail.outcome
            else (Outcome.ABANDONED if trail and trail.queue else Outcome.IVR_ONLY)
        )
        answered_at = trail.connected if trail and trail.connected else None
        userfield = str(call.get("userfield") or "")
        yield CallEnded(
            linkedid=uniqueid,
            at=end,
            outcome=outcome,
            caller=str(call["caller"]),
            caller_name=str(call["name"]),
            parties=(str(call["caller"]),),
            answered_by=trail.agent if trail else None,
            transfers=(),
            queue=trail.queue if trail else None,
            started_at=start,
            answered_at=answered_at,
            ended_at=end,
            wait_seconds=trail.hold if trail else 0.0,
            talk_seconds=(trail.talk or (end - answered_at)) if trail and answered_at else 0.0,
            hangup_by=None,
            ivr_path=tuple(p for p in userfield.split(">") if p),
        )
