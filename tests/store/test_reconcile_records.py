"""Reconciliation: a stream whose hangups were all lost still yields every call record
within one reconciliation period (the bridge against a scripted AMI peer on a socket).

Every recorded call shape (tests/data/ami-shapes) is sent with its ``Hangup`` events
dropped. While Asterisk still lists the channels (``CoreShowChannels``) the calls stay
open; once it lists none, the next periodic reconcile ends each call, and the recorder
stores it, marked as ended unseen (``details.end_seen`` false) since no CDR held it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.ami.bridge import AmiBridge
from callcenter.callrecords.models import Call
from callcenter.callrecords.recorder import CallRecorder
from callcenter.calls.events import CallEnded
from callcenter.calls.replay import load_events
from callcenter.settings import Settings

SHAPES = Path(__file__).resolve().parents[1] / "data" / "ami-shapes"
PERIOD = 0.5
EOL = "\r\n"


def block(headers: dict[str, str]) -> bytes:
    return ("".join(f"{k}: {v}{EOL}" for k, v in headers.items()) + EOL).encode()


class ScriptedAmi:
    """Logs in, answers QueueStatus empty and CoreShowChannels with ``self.up``."""

    def __init__(self) -> None:
        self.up: list[dict[str, str]] = []
        self.writer: asyncio.StreamWriter | None = None
        self.reconciles = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = raw.decode().strip().split(EOL)
                action = dict(line.split(": ", 1) for line in lines if ": " in line)
                self.answer(action, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        aid, name = action.get("ActionID", ""), action.get("Action", "")
        if name == "Login":
            writer.write(block({"Response": "Success", "ActionID": aid, "Message": "ok"}))
            return
        listed = self.up if name == "CoreShowChannels" else []
        complete = (
            "CoreShowChannelsComplete" if name == "CoreShowChannels" else "QueueStatusComplete"
        )
        writer.write(block({"Response": "Success", "ActionID": aid, "EventList": "start"}))
        for channel in listed:
            writer.write(block({"Event": "CoreShowChannel", "ActionID": aid, **channel}))
        writer.write(block({"Event": complete, "ActionID": aid, "EventList": "Complete"}))
        if name == "CoreShowChannels":
            self.reconciles += 1


async def until(predicate: Any, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_calls_whose_hangups_were_lost_are_all_recorded_within_one_period(
    engine: Engine, tmp_path: Path
) -> None:
    files = sorted(SHAPES.glob("*.json"))
    stream = [e for path in files for e in load_events(path) if e["Event"] != "Hangup"]
    linkedids = {e["Linkedid"] for e in stream if e["Event"] == "Newchannel"}
    peer = ScriptedAmi()
    peer.up = [  # what Asterisk lists while the calls are up
        {k: e[k] for k in ("Channel", "Uniqueid", "Linkedid", "CallerIDNum") if k in e}
        for e in stream
        if e["Event"] == "Newchannel"
    ]
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    ended: list[CallEnded] = []
    bridge = AmiBridge(
        host="127.0.0.1", port=port, username="bridge", secret="s",
        on_call_event=lambda e: ended.append(e) if isinstance(e, CallEnded) else None,
        resync_interval=PERIOD,
    )  # fmt: skip
    bridge.start()
    try:
        await until(lambda: bridge.resyncs >= 1 and peer.writer is not None, 5)
        assert peer.writer is not None
        before = bridge.manager.events_received  # parsed or dropped unparsed (unwanted)
        for event in stream:
            peer.writer.write(block(event))
        await peer.writer.drain()
        await until(lambda: bridge.manager.events_received - before >= len(stream), 10)
        await until(lambda: bridge.tracker.active_calls == len(linkedids), 5)
        await until(lambda: bridge.resyncs >= 3, 5)  # reconciles while Asterisk lists them
        assert ended == [] and bridge.tracker.active_calls == len(linkedids)

        peer.up = []  # every call hung up, and the bridge saw none of it
        gone_at = time.monotonic()
        await until(lambda: len(ended) == len(linkedids), PERIOD * 2 + 5)
        # Measured, not asserted tight: it is the next sweep, at most one period away
        # (plus the machine's scheduling).
        assert time.monotonic() - gone_at < PERIOD + 5
    finally:
        await bridge.stop()
        if peer.writer is not None:
            peer.writer.close()
        server.close()
        await server.wait_closed()

    assert {e.linkedid for e in ended} == linkedids
    assert all(not e.end_seen for e in ended)
    logs = tmp_path / "no-pbx-logs"
    logs.mkdir()
    settings = Settings(pbx_log_dir=logs, recovery_lookback_hours=1, data_dir=tmp_path)
    recorder = CallRecorder(engine=engine, settings=settings)
    for call_ended in ended:
        await recorder.on_call_ended(call_ended)
    with Session(engine) as session:
        calls = {c.linkedid: c for c in session.exec(select(Call)).all()}
    assert set(calls) == linkedids
    assert all(c.details is not None and c.details["end_seen"] is False for c in calls.values())
    # What was known when the hangups were lost is kept: a click-to-call stays outbound,
    # answered by the citizen; a blind transfer keeps its target.
    by_purpose = [
        c for c in calls.values() if c.details and c.details["purpose"] == "click-to-call"
    ]
    assert by_purpose and all(c.direction == "outbound" for c in by_purpose)
    transfers = [t for c in calls.values() if c.details for t in c.details["transfers"]]
    assert {t["to"] for t in transfers} >= {"2102", "2103", "2190"}
