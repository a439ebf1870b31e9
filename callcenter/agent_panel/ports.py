"""What the agent panel needs from the PBX side, as a Protocol (``compose`` hands it
the AMI bridge's ``AmiActions``; tests a fake)."""

from __future__ import annotations

from typing import Protocol


class QueueMemberActions(Protocol):
    """Queue membership of an agent's phone: join, leave, pause and resume."""

    async def queue_add(self, *, queue: str, interface: str, member_name: str = "",
                        state_interface: str = "", penalty: int = 0,
                        paused: bool = False) -> dict[str, str]: ...

    async def queue_remove(self, *, queue: str, interface: str) -> dict[str, str]: ...

    async def queue_pause(self, *, interface: str, paused: bool, reason: str = "",
                          queue: str = "") -> dict[str, str]: ...
