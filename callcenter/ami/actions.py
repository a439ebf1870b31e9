"""AMI actions as services: originate, queue membership, hangup, redirect, status.

panoramisk decides from the first response whether more messages will follow. Its
rule ``message.startswith('added') and endswith('to queue')`` matches QueueAdd's
"Added interface to queue", so it waits for a second message that never comes and
``await QueueAdd`` hangs forever. Single-answer actions are therefore sent with
``as_list=False``, which makes panoramisk resolve on the first response; only
list-returning actions (QueueStatus, CoreShowChannels) and async Originate are multi.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from callcenter.ami.connection import BridgeManager
from callcenter.ami.exceptions import (
    AmiActionFailed,
    AmiNotConnected,
    AmiTimeout,
    OriginateFailed,
)


@dataclass(frozen=True, slots=True)
class OriginateResult:
    action_id: str
    channel: str
    uniqueid: str
    reason: str


def _as_dict(message: Any) -> dict[str, str]:
    """A panoramisk Message as a plain dict (multi-valued headers joined by newlines)."""
    return {
        key: value if isinstance(value, str) else "\n".join(value)
        for key, value in message._store.values()
    }


class AmiActions:
    """The AMI actions the call center performs; keyword-only, errors as AmiError."""

    def __init__(self, *, manager: BridgeManager, timeout: float = 10.0,
                 standby: BridgeManager | None = None) -> None:
        self._manager = manager
        self._timeout = timeout
        # Several instances (issue 19): the events-off connection of an instance that
        # does not hold the PBX's AMI lease; used when ``manager`` is not logged in.
        self._standby = standby

    async def _send(
        self, action: dict[str, str], *, as_list: bool | None, wait: float | None = None
    ) -> Any:
        manager = self._manager
        if not manager.is_ready and self._standby is not None and self._standby.is_ready:
            manager = self._standby
        if not manager.is_ready:
            raise AmiNotConnected(
                f"{action['Action']} not sent: AMI is {manager.state.value}",
                action=action["Action"],
            )
        future = manager.send_action(action, as_list=as_list)
        try:
            return await asyncio.wait_for(future, wait or self._timeout)
        except TimeoutError as exc:
            raise AmiTimeout(f"{action['Action']}: no answer", action=action["Action"]) from exc

    async def _simple(self, action: dict[str, str]) -> dict[str, str]:
        response = _as_dict(await self._send(action, as_list=False))
        if response.get("Response") != "Success":
            raise AmiActionFailed(
                f"{action['Action']} failed: {response.get('Message', '')}",
                action=action["Action"],
                answer=response.get("Message", ""),
            )
        return response

    async def queue_add(
        self,
        *,
        queue: str,
        interface: str,
        member_name: str = "",
        paused: bool = False,
        penalty: int = 0,
        state_interface: str = "",
    ) -> dict[str, str]:
        action = {
            "Action": "QueueAdd",
            "Queue": queue,
            "Interface": interface,
            "Paused": "true" if paused else "false",
            "Penalty": str(penalty),
        }
        if member_name:
            action["MemberName"] = member_name
        if state_interface:
            action["StateInterface"] = state_interface
        return await self._simple(action)

    async def queue_remove(self, *, queue: str, interface: str) -> dict[str, str]:
        return await self._simple({"Action": "QueueRemove", "Queue": queue, "Interface": interface})

    async def queue_pause(
        self, *, interface: str, paused: bool, reason: str = "", queue: str = ""
    ) -> dict[str, str]:
        action = {"Action": "QueuePause", "Interface": interface, "Paused": str(paused).lower()}
        if queue:
            action["Queue"] = queue
        if reason:
            action["Reason"] = reason
        return await self._simple(action)

    async def hangup(self, *, channel: str, cause: int = 16) -> dict[str, str]:
        return await self._simple({"Action": "Hangup", "Channel": channel, "Cause": str(cause)})

    async def redirect(
        self, *, channel: str, context: str, exten: str, priority: int = 1
    ) -> dict[str, str]:
        return await self._simple(
            {
                "Action": "Redirect",
                "Channel": channel,
                "Context": context,
                "Exten": exten,
                "Priority": str(priority),
            }
        )

    async def originate(
        self,
        *,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        caller_id: str = "",
        variables: dict[str, str] | None = None,
        ring_seconds: float = 45.0,
    ) -> OriginateResult:
        """Place a call and wait for its OriginateResponse (``Async: true``).

        The ActionID is unique per call placed. If the AMI connection drops before the
        answer, this raises ``AmiDisconnected`` and the Originate is never re-sent.
        """
        action_id = f"originate-{uuid.uuid4()}"
        action: dict[str, Any] = {
            "Action": "Originate",
            "ActionID": action_id,
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": str(priority),
            "Async": "true",
            "Timeout": str(int(ring_seconds * 1000)),
        }
        if caller_id:
            action["CallerID"] = caller_id
        if variables:
            action["Variable"] = [f"{key}={value}" for key, value in variables.items()]
        # A sync answer "Error" comes alone; "successfully queued" is followed by the
        # OriginateResponse event, which panoramisk collects into the same list.
        answer = await self._send(action, as_list=None, wait=ring_seconds + 15)
        messages = [_as_dict(m) for m in (answer if isinstance(answer, list) else [answer])]
        final = messages[-1]
        if final.get("Response") != "Success":
            raise OriginateFailed(
                f"originate to {channel} failed: {final.get('Reason') or final.get('Message')}",
                action_id=action_id,
                reason=final.get("Reason", ""),
                answer=final.get("Message", ""),
            )
        return OriginateResult(
            action_id=action_id,
            channel=final.get("Channel", channel),
            uniqueid=final.get("Uniqueid", ""),
            reason=final.get("Reason", ""),
        )

    async def queue_status(self, *, queue: str = "") -> list[dict[str, str]]:
        action = {"Action": "QueueStatus"}
        if queue:
            action["Queue"] = queue
        return [_as_dict(m) for m in await self._send(action, as_list=True)]

    async def core_show_channels(self) -> list[dict[str, str]]:
        answer = await self._send({"Action": "CoreShowChannels"}, as_list=True)
        return [_as_dict(m) for m in answer]
