"""Automatic callbacks (``auto_callbacks``): when an agent is free, ring the agent, then
the citizen (dialplan ``[outbound] callback`` dials ``CITIZEN`` once the agent answers).

A callback that fails ``max_attempts`` times stays pending on the agents' list (the
claim skips exhausted pending tasks); it is never dropped.
"""

from __future__ import annotations

from callcenter.ami.exceptions import AmiError, AmiNotConnected
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


async def place_callback(channels: TaskSteps, view: TaskView) -> str:
    engine, cfg = channels.e, channels.e.config
    if view.phase == "calling":  # a pass died while ringing: count it, try later
        await channels._finish(view, TaskState.PENDING,
                               due_at=engine.clock() + cfg.callback_retry,
                               result={**view.result, "phase": "new"})
        return "retry"
    agent = free_agent(channels)
    if agent is None:
        return await channels.release(view, reason="no-free-agent")
    stop = await channels.gate(view, channel=ContactChannel.VOICE, is_survey=False)
    if stop:
        return stop
    channels.used_agents.add(agent)
    result = await channels._intent(view, "calling", agent=agent)
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
    except AmiError as exc:
        await channels._finish(
            view, TaskState.PENDING, due_at=engine.clock() + cfg.callback_retry,
            result={**result, "phase": "new", "last": exc.error_id},
            contact={"channel": ContactChannel.VOICE, "decision": ContactDecision.FAILED,
                     "reason": f"agent-{exc.error_id}", "detail": {"agent": agent}})
        return "retry"
    await channels._finish(
        view, TaskState.DONE, result={**result, "phase": "placed", "uniqueid": placed.uniqueid},
        contact={"channel": ContactChannel.VOICE, "decision": ContactDecision.SENT,
                 "reason": None, "detail": {"agent": agent, "uniqueid": placed.uniqueid}})
    return "sent"
