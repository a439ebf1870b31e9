"""What may go into an AMI action: checked once, where every action is written.

AMI is a line protocol: a header is ``Key: value`` ending in CRLF and an empty line ends
the action. A value carrying CR or LF would therefore end the header early and start a
header or a whole action of the sender's choosing (``reason="x\\r\\n\\r\\nAction:
Hangup\\r\\nChannel: /.*/"`` hangs up every call). A NUL ends the line inside Asterisk's
C parser. So no key or value may hold CR, LF or NUL, keys are plain header names, and a
header line fits Asterisk's 1024-byte line buffer (``mansession_session.inbuf``: longer
lines are dumped, not read). ``BridgeAMIProtocol.send`` runs this for every action,
whatever the caller, so a service that forgot to check cannot reopen the hole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from callcenter.ami.exceptions import AmiInvalidValue

# Asterisk reads at most 1024 bytes of a line and 128 headers of an action
# (AST_MAX_MANHEADERS); beyond that it silently drops what we meant to send.
MAX_LINE_BYTES = 1024
MAX_HEADERS = 128
_FORBIDDEN = re.compile(r"[\r\n\x00]")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def check_value(key: str, value: str) -> None:
    """Refuse one header value that could break out of its line or be cut short."""
    if not isinstance(value, str):
        raise AmiInvalidValue(f"AMI header {key} is not text", key=key, problem="not-text")
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise AmiInvalidValue(
            f"AMI header {key} contains a line break or NUL (at {found.start()})",
            key=key,
            problem="control-character",
        )
    if len(key.encode()) + 2 + len(value.encode()) > MAX_LINE_BYTES:
        raise AmiInvalidValue(
            f"AMI header {key} is longer than Asterisk reads ({MAX_LINE_BYTES} bytes a line)",
            key=key,
            problem="too-long",
        )


def _values(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list | tuple) else (value,)


def check_action(action: Mapping[str, Any]) -> None:
    """Refuse an action any of whose keys or values could inject a header or action.

    Raises ``AmiInvalidValue`` (a domain error with the offending header's name, never
    its value: the value may be a citizen's number or an attacker's payload).
    """
    lines = 0
    for key, value in action.items():
        if not isinstance(key, str) or _KEY.fullmatch(key) is None:
            raise AmiInvalidValue(
                "AMI header name is not a plain header name", key=repr(key)[:40],
                problem="bad-key",
            )
        for item in _values(value):
            check_value(key, item)
            lines += 1
    if lines > MAX_HEADERS:
        raise AmiInvalidValue(
            f"AMI action has {lines} headers; Asterisk reads {MAX_HEADERS}",
            problem="too-many-headers",
        )
