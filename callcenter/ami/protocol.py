"""panoramisk's AMIProtocol with two traps fixed.

1. ``AMIProtocol.data_received`` decodes every TCP chunk on its own (``errors='ignore'``),
   so a Persian caller name split across two reads loses its characters. Here one
   incremental UTF-8 decoder per connection carries a split character to the next read.
2. On a disconnect, ``AMIProtocol.close`` puts every unanswered action on the manager's
   ``awaiting_actions``, which ``Manager`` re-sends after reconnect (``FullyBooted``), and
   silently drops actions that had a first response (an async Originate: "successfully
   queued") leaving their future pending forever. Here every pending action's future
   fails with ``AmiDisconnected`` instead: nothing is re-sent, nothing waits forever.
3. A connection closed by the server at once (AMI restarting, an ACL) can be lost before
   the manager adopted it (``factory`` still None): ``AMIProtocol.connection_lost`` then
   raises, the manager is never told, adopts the dead transport and never reconnects.
   Here the protocol notes ``lost`` and ``BridgeManager`` retries instead.
"""

from __future__ import annotations

import codecs
from typing import Any

from panoramisk import utils
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from callcenter.ami.exceptions import AmiDisconnected

_BANNER = "Asterisk Call Manager/"
_SEPARATOR = utils.EOL + utils.EOL
# Actions nobody awaits (panoramisk sends them itself and reads no result).
_SILENT_ACTIONS = frozenset({"ping", "login"})


class BridgeAMIProtocol(AMIProtocol):
    """AMIProtocol with incremental decoding and no replay of pending actions."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.lost = False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.factory is None:  # not adopted yet: BridgeManager.connection_made retries
            self.lost = self.closed = True
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if getattr(self, "version", None) is None and text.startswith(_BANNER):
            line = text.partition(utils.EOL)[0]
            self.version = line.partition("/")[2].strip()
        if self.queue:
            text = self.queue.popleft() + text
        *blocks, rest = text.split(_SEPARATOR)
        self.queue.append(rest)
        for block in blocks:
            message = Message.from_line(block.strip())
            if message is not None:
                self.handle_message(message)

    def close(self) -> None:
        self.fail_pending()
        super().close()

    def fail_pending(self) -> None:
        """Fail every action still waiting for its answer (never re-send it)."""
        for action in list(self.responses.values()):
            name = str(action.get("action", "")).lower()
            if name in _SILENT_ACTIONS or action.future.done():
                continue
            action.future.set_exception(
                AmiDisconnected(
                    f"AMI connection lost before {action['action']} finished; not re-sent",
                    action=action["action"],
                    action_id=action.id,
                    responses=len(action.responses),
                )
            )
        self.responses.clear()
