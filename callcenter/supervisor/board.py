"""The supervisor's live picture: queue state + agent board + calls in the IVR (pure)."""

from __future__ import annotations

from typing import Any

from callcenter.agent_panel.presence import AgentBoard


def extension_of(interface: str) -> str:
    """``PJSIP/2101`` -> ``2101``."""
    return interface.rsplit("/", 1)[-1]


def sync_board(board: AgentBoard, queue_snapshot: dict[str, Any], queue_name: str) -> None:
    """Align every agent's presence with the PBX's queue membership and pauses."""
    members = {extension_of(m["interface"]): m
               for m in queue_snapshot.get(queue_name, {}).get("members", [])}
    for extension, member in members.items():
        board.sync_member(extension, member=member)
    for presence in board.all():
        if presence.extension not in members:
            board.sync_member(presence.extension, member=None)


def live_picture(*, board: AgentBoard, queue_snapshot: dict[str, Any] | None,
                 in_ivr: list[dict[str, Any]], queue_name: str, now: float,
                 names: dict[str, str]) -> dict[str, Any]:
    """JSON for ``/supervisor/ws``: who waits, the longest wait, each agent's state."""
    queue = (queue_snapshot or {}).get(queue_name, {})
    waiting = list(queue.get("waiting", []))
    members = {extension_of(m["interface"]): m for m in queue.get("members", [])}
    agents = []
    for presence in board.all():
        member = members.get(presence.extension, {})
        agents.append({
            **presence.as_dict(),
            "name": names.get(presence.extension, member.get("name", "")),
            "seconds": max(int(now - presence.since), 0),
            "reason": presence.reason or member.get("paused_reason", ""),
            "calls_taken": member.get("calls_taken", 0),
        })
    return {
        "type": "live",
        "at": now,
        "queue_known": queue_snapshot is not None,
        "in_ivr": in_ivr,
        "waiting": waiting,
        "longest_wait": max((w["wait_seconds"] for w in waiting), default=0),
        "agents": agents,
    }
