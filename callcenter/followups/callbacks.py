"""Automatic callbacks (``auto_callbacks``, on by default): when an agent is free, ring
the agent, then the citizen (dialplan ``[outbound] callback`` dials ``CITIZEN`` once the
agent answers).

Keeping the turn - the design: a callback is placed by the bridge, not put back into
Asterisk's queue. The task remembers when its caller joined the queue (``joined_at``,
from the call record's ``due_at``). It is decided at the end of an agent's wrap-up
(``FollowupRunner.place_next_callback``, asked by ``agent_panel/wrapup.py`` before the
unpause): the agent is still paused, so ``app_queue`` cannot ring them for the live head
first. The callback takes the agent only if its caller joined before the caller at the
head of the live queue; else the older live caller keeps the agent. The periodic pass
also places callbacks on agents it sees free (the same rule). Why not ``Queue()``
priority: re-entering the queue needs a channel to the citizen first (Originate into
the queue rings the citizen before any agent is free, and a citizen who answers then
waits on hold again), and a priority puts the callback ahead of *every* live caller,
older ones included. Comparing join times keeps strict first-come order.

A callback that fails (busy, no answer) is retried with backoff (``callback_retry``
doubled per attempt); after ``max_attempts`` it stays pending on the agents' list (the
claim skips exhausted pending tasks); it is never dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from callcenter.ami.exceptions import AmiError, AmiNotConnected
from callcenter.backoff import backoff_delay
from callcenter.clock import as_utc
from callcenter.followups.models import ContactChannel, ContactDecision, TaskState
from callcenter.followups.steps import TaskSteps, dial_number
from callcenter.followups.store import TaskView


def free_agent(channels: TaskSteps) -> str | None:
    """A queue member not paused, not in a call, idle, and not rung in this pass."""
    engine = channels.e
    # Only claimed when the runner has a queue view and AMI actions (``runner_kinds``).
    assert engine.queue_state is not None
    queue = (engine.queue_state.snapshot() or {}).get(engine.config.queue_name)
    for member in (queue or {}).get("members", []):
        iface = member["interface"]
        if (not member["paused"] and not member["in_call"]
                and member["device_state"] == "not_inuse" and iface not in channels.used_agents):
            return str(iface)
    return None


def queue_head_joined(channels: TaskSteps) -> datetime | None:
    """When the caller at the head of the live queue joined it (``None``: nobody waits)."""
    engine = channels.e
    assert engine.queue_state is not None
    queue = (engine.queue_state.snapshot() or {}).get(engine.config.queue_name) or {}
    waiting = queue.get("waiting") or []
    if not waiting:
        return None
    longest = max(int(w.get("wait_seconds", 0)) for w in waiting)
    return engine.clock() - timedelta(seconds=longest)


def joined_at(view: TaskView) -> datetime | None:
    stored = view.result.get("joined_at")
    if isinstance(stored, str):
        return as_utc(datetime.fromisoformat(stored))
    return as_utc(view.due_at) if view.due_at is not None else None


def retry_delay(channels: TaskSteps, attempts: int) -> timedelta:
    base = channels.e.config.callback_retry.total_seconds()
    return timedelta(seconds=backoff_delay(attempt=max(attempts, 1), base=base))


async def place_callback(channels: TaskSteps, view: TaskView, *, agent: str | None = None
                         ) -> str:
    """Place one claimed callback; ``agent`` forces the agent (the end of their wrap-up,
    still paused in the queue so Asterisk cannot ring them for someone else first)."""
    engine, cfg = channels.e, channels.e.config
    if view.phase == "calling":  # a pass died while ringing: count it, try later
        await channels._finish(view, TaskState.PENDING,
                               due_at=engine.clock() + cfg.callback_retry,
                               result={**view.result, "phase": "new"})
        return "retry"
    agent = agent or free_agent(channels)
    if agent is None:
        return await channels.release(view, reason="no-free-agent")
    joined, head = joined_at(view), queue_head_joined(channels)
    if joined is not None and head is not None and head < joined:
        return await channels.release(view, reason="queue-ahead")  # an older live caller
    stop = await channels.gate(view, channel=ContactChannel.VOICE, is_survey=False)
    if stop:
        return stop
    channels.used_agents.add(agent)
    result = await channels._intent(
        view, "calling", agent=agent,
        joined_at=joined.isoformat() if joined is not None else None)
    assert view.phone is not None
    number = dial_number(view.phone)
    assert engine.actions is not None
    try:
        placed = await engine.actions.originate(
            channel=agent, context=cfg.context, exten="callback",
            caller_id=f'"{view.request_code or number}" <{number}>',
            variables={"CITIZEN": number, "CALL_PURPOSE": "callback"}, ring_seconds=30)
    except AmiNotConnected:  # nothing rang: not an attempt
        await channels._finish(view, TaskState.PENDING, attempts=view.attempts,
                               result={**result, "phase": "new"})
        return "no-ami"
    except AmiError as exc:  # busy, no answer, failed: again later, backing off
        await channels._finish(
            view, TaskState.PENDING, due_at=engine.clock() + retry_delay(channels,
                                                                         view.attempts + 1),
            result={**result, "phase": "new", "last": exc.error_id},
            contact={"channel": ContactChannel.VOICE, "decision": ContactDecision.FAILED,
                     "reason": f"agent-{exc.error_id}", "detail": {"agent": agent}})
        return "retry"
    await channels._finish(
        view, TaskState.DONE, result={**result, "phase": "placed", "uniqueid": placed.uniqueid},
        contact={"channel": ContactChannel.VOICE, "decision": ContactDecision.SENT,
                 "reason": None, "detail": {"agent": agent, "uniqueid": placed.uniqueid}})
    return "sent"
