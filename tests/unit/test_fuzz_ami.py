"""Fuzzing the AMI boundary both ways, a bounded number of inputs per run (scripts/test).

In: whatever bytes a peer sends, cut into whatever reads, ``BridgeAMIProtocol`` never
raises out of ``data_received`` (asyncio would drop the connection), the frames it hands
on do not depend on how the stream was cut, and a good frame after garbage still
arrives. Out: whatever keys and values a caller passes, an action either is refused
with ``AmiInvalidValue`` or reaches the wire as exactly one action holding exactly those
values.
"""

from __future__ import annotations

import itertools
from typing import Any
from unittest.mock import MagicMock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panoramisk.actions import Action
from panoramisk.utils import CaseInsensitiveDict

from callcenter.ami.exceptions import AmiInvalidValue
from callcenter.ami.protocol import BridgeAMIProtocol
from callcenter.ami.validation import check_action

# Bounded so the whole file stays within seconds in scripts/test; raise max_examples
# (or HYPOTHESIS profiles) for a longer hunt.
FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

NAMES = ["Event", "ActionID", "Response", "Message", "Uniqueid", "CallerIDNum", "Channel",
         "EventList", "Queue", "event", "actionid", "X-Custom", ""]
# Text with the characters that matter to AMI framing over-represented.
TEXT = st.text(alphabet=st.sampled_from([*"ab:9 \r\n\x00-", "ب", "۱", "\ufffd"]),
               max_size=30) | st.text(max_size=20)


LINE = st.tuples(st.sampled_from(NAMES), st.sampled_from([": ", ":", " "]), TEXT)
# One AMI-ish frame: header lines (names repeated on purpose), sometimes ended.
FRAME = st.builds(
    lambda lines, end, tail: ("\r\n".join("".join(line) for line in lines) + end).encode(
        "utf-8", errors="surrogatepass") + tail,
    st.lists(LINE, max_size=6), st.sampled_from(["\r\n\r\n", "\r\n", "", "\n\n"]),
    st.binary(max_size=3),
)


class Collect:
    """The manager's side of the protocol: collects what it is handed."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.received.append(message)

    def connection_lost(self, exc: object) -> None:  # a "Shutdown" event
        pass


def feed(chunks: list[bytes]) -> list[dict[str, Any]]:
    collect = Collect()
    received = collect.received
    proto = BridgeAMIProtocol()
    proto.connection_made(MagicMock())
    proto.factory = collect
    for chunk in chunks:
        proto.data_received(chunk)  # must never raise
    return [dict(m.items()) for m in received]


def cut(stream: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({p % (len(stream) + 1) for p in points} | {0, len(stream)})
    return [stream[a:b] for a, b in itertools.pairwise(edges)]


@FUZZ
@given(frames=st.lists(FRAME, max_size=10), points=st.lists(st.integers(0, 10_000), max_size=20))
def test_any_stream_any_cut_never_raises_and_parses_the_same(
    frames: list[bytes], points: list[int]
) -> None:
    stream = b"".join(frames)
    whole = feed([stream])
    assert feed(cut(stream, points)) == whole


@FUZZ
@given(junk=st.lists(FRAME, max_size=8))
def test_a_good_event_after_garbage_still_arrives(junk: list[bytes]) -> None:
    good = b"\r\n\r\nEvent: UserEvent\r\nUserEvent: Marker\r\n\r\n"
    events = feed([*junk, good])
    assert events and events[-1].get("UserEvent") == "Marker"


def parse_wire(raw: str) -> list[list[tuple[str, str]]]:
    """How Asterisk reads actions: lines up to CRLF, an empty line ends one."""
    actions, current = [], []
    for line in raw.split("\r\n"):
        if line == "":
            if current:
                actions.append(current)
            current = []
            continue
        key, _, value = line.partition(": ")
        current.append((key, value))
    return actions


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["Channel", "Reason", "MemberName", "Exten",
                                               "Bad Key", "Re\r\nason", "Variable"]),
                              TEXT | st.lists(TEXT, max_size=3), max_size=5))
def test_an_action_is_refused_or_is_exactly_one_action_on_the_wire(
    fields: dict[str, Any]
) -> None:
    action = {"Action": "QueuePause", **fields}
    try:
        check_action(action)
    except AmiInvalidValue:
        return
    # Action's own serialisation, without building an Action (it makes a Future, which
    # needs a running loop).
    built = CaseInsensitiveDict({**action, "ActionID": "fuzz/1"})
    (sent,) = parse_wire(Action.__str__(built))
    expected = {(k, v) for k, vs in built.items()
                for v in (vs if isinstance(vs, list) else [vs])}
    assert set(sent) == expected
