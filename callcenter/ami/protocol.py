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
4. Every action is checked before it is written (``validation.check_action``): no CR,
   LF or NUL in a key or value, lines Asterisk can read. This is the one place actions
   reach the wire, so no caller can inject a header or a second action.
5. A malformed frame (two ``Event:`` or ``ActionID:`` headers, a handler that raises)
   made ``data_received`` raise, and asyncio closes the connection; an unfinished frame
   was re-joined and re-split on every read (quadratic) without limit. Here frames are
   split as they complete, a frame over ``MAX_FRAME_CHARS`` is skipped up to its end,
   and a bad frame is logged (its header names; its first bytes only at DEBUG, they may
   hold a phone number) and dropped: the connection stays up.
6. panoramisk parses every header of every event into a case-insensitive dict before any
   callback can ignore it; most of what Asterisk sends during a call (Newexten, VarSet of
   dialplan variables, AGIExecStart/End, RTCP...) nobody here reads. An event is read
   as far as its name first (a VarSet as far as its variable): one no callback wants
   (``BridgeManager.wants_event``) and that answers no action (no ``ActionID``) is
   counted and dropped unparsed.
"""

from __future__ import annotations

import codecs
import logging
import re
import time
from typing import Any

from panoramisk import utils
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from callcenter.ami.exceptions import AmiDisconnected
from callcenter.ami.validation import check_action

log = logging.getLogger(__name__)

_BANNER = "Asterisk Call Manager/"
_SEPARATOR = utils.EOL + utils.EOL
# Actions nobody awaits (panoramisk sends them itself and reads no result).
_SILENT_ACTIONS = frozenset({"ping", "login"})
# The largest frame kept: far above any event or list item Asterisk sends (a few KB),
# small enough that a peer that never ends a frame cannot fill memory.
MAX_FRAME_CHARS = 256 * 1024
# Headers a message may carry once: they decide where it goes (panoramisk indexes
# dicts with them and fails on a list).
_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_SINGLE_HEADERS = ("event", "actionid", "commandid", "response")


class BridgeAMIProtocol(AMIProtocol):
    """AMIProtocol with incremental decoding and no replay of pending actions."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._chunks: list[str] = []
        self._buffered = 0
        self._skipping = False
        self._tail = ""  # the last characters read: a separator may span two reads
        self.lost = False
        self.frames_dropped = 0
        self.last_read_at = time.monotonic()  # the manager's watchdog reads it

    def connection_lost(self, exc: Exception | None) -> None:
        if self.factory is None:  # not adopted yet: BridgeManager.connection_made retries
            self.lost = self.closed = True
            return
        super().connection_lost(exc)

    def send(self, data: Any, as_list: bool | None = False) -> Any:
        """Write one action, refused with ``AmiInvalidValue`` if it could inject lines."""
        check_action(data)
        return super().send(data, as_list=as_list)

    def data_received(self, data: bytes) -> None:
        self.last_read_at = time.monotonic()
        text = self._decoder.decode(data)
        if getattr(self, "version", None) is None and text.startswith(_BANNER):
            line = text.partition(utils.EOL)[0]
            self.version = line.partition("/")[2].strip()
        tail, self._tail = self._tail, (self._tail + text)[-3:]
        if _SEPARATOR not in tail + text:  # the frame goes on: keep it, split nothing
            self._hold(text)
            return
        if self._skipping:  # resume after the end of the oversized frame
            text = (tail + text).partition(_SEPARATOR)[2]
            self._skipping = False
        *blocks, rest = ("".join(self._chunks) + text).split(_SEPARATOR)
        self._chunks, self._buffered = [], 0
        self._hold(rest)
        for block in blocks:
            self._handle_block(block)

    def _hold(self, text: str) -> None:
        if self._skipping or not text:
            return
        self._chunks.append(text)
        self._buffered += len(text)
        if self._buffered > MAX_FRAME_CHARS:
            self._drop("".join(self._chunks), f"longer than {MAX_FRAME_CHARS} characters")
            self._chunks, self._buffered, self._skipping = [], 0, True

    def _handle_block(self, block: str) -> None:
        head = block.lstrip()
        if head.startswith("Event: ") and "ActionID" not in head:
            end = head.find(utils.EOL)
            name = (head[7:end] if end >= 0 else head[7:]).strip()
            wants = getattr(self.factory, "wants_event", None)
            if wants is not None and not wants(name, head):
                self.factory.event_skipped()
                return
        message = Message.from_line(block.strip())
        if message is None:
            return
        repeated = [k for k in _SINGLE_HEADERS if isinstance(message.get(k), list)]
        if repeated:
            self._drop(block, f"repeated header {', '.join(repeated)}")
            return
        try:
            self.handle_message(message)
        except Exception:
            self._drop(block, "its handling failed", exc_info=True)

    def _drop(self, frame: str, why: str, *, exc_info: bool = False) -> None:
        self.frames_dropped += 1
        names = [name if _HEADER_NAME.fullmatch(name) else "?"
                 for name in (line.partition(":")[0] for line in frame.split(utils.EOL)[:12])]
        log.warning("AMI frame dropped (%s), %d characters, headers %s",
                    why, len(frame), names, exc_info=exc_info)
        log.debug("AMI dropped frame starts %r", frame[:120])

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
