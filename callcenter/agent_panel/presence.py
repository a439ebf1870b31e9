"""Each agent's working state as an explicit state machine, fed by the call events.

States: ``logged_out`` (not a queue member), ``available``, ``ringing``, ``on_call``,
``wrap_up`` (after a call, until the agent says ready), ``on_break`` (paused, with a
reason). The panel and the supervisor page both read one ``AgentBoard``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    ON_BREAK = "on_break"


# (from, trigger) -> to. A trigger that is not listed leaves the state as it is.
TRANSITIONS: dict[tuple[AgentState, str], AgentState] = {
    (AgentState.LOGGED_OUT, "join"): AgentState.AVAILABLE,
    (AgentState.AVAILABLE, "ring"): AgentState.RINGING,
    (AgentState.LOGGED_OUT, "ring"): AgentState.RINGING,  # direct calls to the extension
    (AgentState.WRAP_UP, "ring"): AgentState.RINGING,
    (AgentState.RINGING, "no_answer"): AgentState.AVAILABLE,
    (AgentState.RINGING, "answer"): AgentState.ON_CALL,
    (AgentState.AVAILABLE, "answer"): AgentState.ON_CALL,
    (AgentState.RINGING, "end"): AgentState.AVAILABLE,  # the caller gave up while it rang
    (AgentState.ON_CALL, "end"): AgentState.WRAP_UP,
    (AgentState.WRAP_UP, "ready"): AgentState.AVAILABLE,
    (AgentState.AVAILABLE, "pause"): AgentState.ON_BREAK,
    (AgentState.WRAP_UP, "pause"): AgentState.ON_BREAK,
    (AgentState.ON_BREAK, "resume"): AgentState.AVAILABLE,
    (AgentState.AVAILABLE, "leave"): AgentState.LOGGED_OUT,
    (AgentState.ON_BREAK, "leave"): AgentState.LOGGED_OUT,
    (AgentState.WRAP_UP, "leave"): AgentState.LOGGED_OUT,
}


@dataclass
class AgentPresence:
    """One extension's state, since when, and with whom (the caller on the line)."""

    extension: str
    state: AgentState = AgentState.LOGGED_OUT
    since: float = 0.0
    reason: str = ""
    caller: str = ""
    linkedid: str = ""

    def fire(self, trigger: str, *, at: float, caller: str = "", linkedid: str = "",
             reason: str = "") -> bool:
        """Apply ``trigger``; ``True`` when the state changed."""
        target = TRANSITIONS.get((self.state, trigger))
        if target is None:
            return False
        if trigger == "end" and linkedid and self.linkedid and linkedid != self.linkedid:
            return False  # another call of this extension ended (e.g. a missed ring)
        self.state, self.since = target, at
        self.reason = reason if target == AgentState.ON_BREAK else ""
        if target in (AgentState.RINGING, AgentState.ON_CALL):
            self.caller = caller or self.caller
            self.linkedid = linkedid or self.linkedid
        elif target != AgentState.WRAP_UP:
            self.caller, self.linkedid = "", ""
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "extension": self.extension, "state": self.state.value, "since": self.since,
            "reason": self.reason, "caller": self.caller, "linkedid": self.linkedid,
        }


class AgentBoard:
    """Every known extension's presence; listeners hear each change."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._agents: dict[str, AgentPresence] = {}
        self._listeners: list[Callable[[AgentPresence], None]] = []
        self._changed: set[str] = set()  # extensions whose state was ever set

    def listen(self, listener: Callable[[AgentPresence], None]) -> None:
        self._listeners.append(listener)

    def get(self, extension: str) -> AgentPresence:
        presence = self._agents.get(extension)
        if presence is None:
            presence = self._agents[extension] = AgentPresence(extension, since=self._clock())
        return presence

    def peek(self, extension: str) -> AgentPresence | None:
        """The presence if the board knows ``extension`` (``get`` would add it)."""
        return self._agents.get(extension)

    def all(self) -> list[AgentPresence]:
        return sorted(self._agents.values(), key=lambda p: p.extension)

    def fire(self, extension: str, trigger: str, *, at: float | None = None,
             **details: str) -> bool:
        presence = self.get(extension)
        changed = presence.fire(trigger, at=self._clock() if at is None else at, **details)
        if changed:
            self._changed.add(extension)
            for listener in list(self._listeners):
                listener(presence)
        return changed

    def sync_member(self, extension: str, *, member: dict[str, Any] | None) -> None:
        """Align with the PBX's queue membership (``queue_state.snapshot()``)."""
        presence = self.get(extension)
        if member is None:
            if presence.state in (AgentState.AVAILABLE, AgentState.ON_BREAK):
                self.fire(extension, "leave")
            return
        if presence.state == AgentState.LOGGED_OUT:
            self.fire(extension, "join")
        # A wrap-up pause is the bridge's own (``wrapup.py``), not a break.
        if (member.get("paused") and presence.state == AgentState.AVAILABLE
                and member.get("paused_reason") != "wrap-up"):
            self.fire(extension, "pause", reason=str(member.get("paused_reason") or ""))
        elif not member.get("paused") and presence.state == AgentState.ON_BREAK:
            self.fire(extension, "resume")

    def apply(self, extension: str, *, state: str, since: float, reason: str = "",
              caller: str = "", linkedid: str = "") -> bool:
        """Take a presence as another instance set it (several instances, issue 19):
        no transition is checked, the newest ``since`` wins; listeners hear a change."""
        presence = self.get(extension)
        target = AgentState(state)
        # A presence only created by ``get`` (since = when it was first asked for) is
        # no news: any state another instance set wins over it.
        known = extension in self._changed
        if (known and since < presence.since) or (
                presence.state == target and (presence.reason, presence.linkedid)
                == (reason, linkedid)):
            return False
        presence.state, presence.since = target, since
        presence.reason, presence.caller, presence.linkedid = reason, caller, linkedid
        self._changed.add(extension)
        for listener in list(self._listeners):
            listener(presence)
        return True
