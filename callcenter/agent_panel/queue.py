"""Queue login, breaks and wrap-up through the AMI bridge (``ports.QueueMemberActions``)."""

from __future__ import annotations

from callcenter.agent_panel.exceptions import NoExtension, PhoneSystemUnavailable
from callcenter.agent_panel.ports import QueueMemberActions
from callcenter.agent_panel.presence import AgentBoard, AgentState
from callcenter.ami.exceptions import AmiError


def interface_of(extension: str) -> str:
    return f"PJSIP/{extension}"


async def change_queue_state(
    *, actions: QueueMemberActions | None, queue_name: str, board: AgentBoard,
    extension: str | None, action: str,
    member_name: str = "", reason: str = "",
) -> AgentState:
    """``join`` / ``leave`` / ``pause`` / ``resume`` on the PBX, then on the board;
    ``ready`` (end of wrap-up) is the panel's own and needs no PBX."""
    if not extension:
        raise NoExtension("your account has no extension; ask an admin to set one")
    if action != "ready":
        if actions is None:
            raise PhoneSystemUnavailable(
                "the phone system bridge is not running: queue actions are unavailable",
                action=action)
        queue, interface = queue_name, interface_of(extension)
        try:
            if action == "join":
                await actions.queue_add(queue=queue, interface=interface,
                                        member_name=member_name, state_interface=interface)
            elif action == "leave":
                await actions.queue_remove(queue=queue, interface=interface)
            else:
                await actions.queue_pause(interface=interface, paused=action == "pause",
                                          reason=reason, queue=queue)
        except AmiError as exc:
            raise PhoneSystemUnavailable(str(exc), action=action,
                                         cause=getattr(exc, "error_id", "ami-error")) from exc
    board.fire(extension, action, reason=reason)
    return board.get(extension).state
