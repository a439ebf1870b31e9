"""Record live AMI traffic and replay recorded traffic through the tracker.

``callcenter ami record FILE`` saves every AMI event as a JSON array of event dicts (the
format of ../shared/test-data/cacofonisk/). ``callcenter ami replay FILE`` reads such a
file, or raw AMI text (``Key: Value`` lines, a blank line between messages), runs it
through the call tracker with no PBX and no database, and prints one JSON object per
call. Without ``Timestamp`` headers in the recording, durations are those of the replay
clock, i.e. about zero.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from callcenter.ami.subscriptions import message_to_dict
from callcenter.calls.events import CallEnded
from callcenter.calls.tracker import CallTracker


def parse_raw_ami(text: str) -> list[dict[str, str]]:
    """Raw AMI text -> event dicts (responses and the banner line are skipped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event: dict[str, str] = {}
        for line in block.split("\n"):
            key, sep, value = line.partition(": ")
            if sep:
                event[key.strip()] = value
        if "Event" in event:
            events.append(event)
    return events


def load_events(path: Path | str) -> list[dict[str, str]]:
    """A JSON array of event dicts, or raw AMI text."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        data = json.loads(text)
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON array of event dicts")
        return [
            {str(k): v if isinstance(v, str) else str(v) for k, v in event.items()}
            for event in data
            if isinstance(event, dict)
        ]
    return parse_raw_ami(text)


def call_summary(ended: CallEnded) -> dict[str, Any]:
    """The one-line JSON view of a finished call."""
    return {
        "linkedid": ended.linkedid,
        "caller": ended.caller,
        "caller_name": ended.caller_name,
        "parties": list(ended.parties),
        "answered": ended.answered_by is not None,
        "answered_by": ended.answered_by,
        "transfers": [
            {
                "kind": t.kind.value,
                "from": t.from_party,
                "to": t.to,
                "result": t.result.value if t.result else None,
                "answered_by": t.answered_by,
            }
            for t in ended.transfers
        ],
        "ended_with": ended.ended_with,
        "originated": ended.originated,
        "purpose": ended.purpose,
        "queue": ended.queue,
        "outcome": ended.outcome.value,
        "hangup_by": ended.hangup_by,
        "ivr_path": list(ended.ivr_path),
        "wait_seconds": round(ended.wait_seconds, 3),
        "talk_seconds": round(ended.talk_seconds, 3),
        "joined_late": ended.joined_late,
    }


def replay_events(
    events: Iterable[dict[str, str]], *, clock: Callable[[], float] | None = None
) -> tuple[list[dict[str, Any]], CallTracker]:
    """Run events through a fresh tracker; the finished calls and the tracker."""
    tracker = CallTracker(clock=clock or (lambda: 0.0))
    calls = [
        call_summary(event)
        for raw in events
        for event in tracker.feed(raw)
        if isinstance(event, CallEnded)
    ]
    return calls, tracker


def replay_file(path: Path | str) -> list[dict[str, Any]]:
    """``callcenter ami replay FILE``: one summary dict per finished call."""
    calls, _ = replay_events(load_events(path))
    return calls


async def record(
    manager_factory: Callable[[], Any],
    path: Path | str,
    *,
    seconds: float | None = None,
    max_events: int | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """``callcenter ami record FILE``: save live AMI events until a limit; return the count.

    ``manager_factory()`` builds an unstarted ``BridgeManager``. Recording ends after
    ``seconds``, after ``max_events``, or when ``stop`` is set (Ctrl-C in the CLI).
    """
    events: list[dict[str, str]] = []
    done = stop or asyncio.Event()

    def keep(_manager: Any, message: Any) -> None:
        events.append(message_to_dict(message))
        if max_events is not None and len(events) >= max_events:
            done.set()

    manager = manager_factory()
    manager.register_event("*", keep)
    manager.start()
    try:
        async with asyncio.timeout(seconds):
            await done.wait()
    except TimeoutError:
        pass
    finally:
        await manager.stop()
        text = json.dumps(events, ensure_ascii=False, indent=1)
        await asyncio.to_thread(Path(path).write_text, text, encoding="utf-8")
    return len(events)
