"""``callcenter ami replay`` and ``record`` (record against the scripted fake AMI server)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from callcenter.ami.backoff import Backoff
from callcenter.ami.cli import ami_app
from callcenter.ami.connection import BridgeManager
from callcenter.calls.replay import record, replay_file

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "test-data" / "cacofonisk"


def test_replay_prints_one_json_call_per_line() -> None:
    result = CliRunner().invoke(ami_app, ["replay", str(DATA / "queue/queue_attn_xfer.json")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 2
    main = next(c for c in lines if c["caller"] == "+31260010001")
    assert main["answered"] is True and main["outcome"] == "answered"
    assert main["transfers"][0]["kind"] == "attended"
    assert set(main) >= {
        "linkedid",
        "parties",
        "answered_by",
        "queue",
        "wait_seconds",
        "talk_seconds",
    }


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(ami_app, ["replay", str(tmp_path / "none.json")])
    assert result.exit_code == 1
    assert "none.json" in result.output


async def test_record_saves_live_events_that_replay(tmp_path: Path) -> None:
    events = json.loads((DATA / "simple/ab_success_b_hangup.json").read_text())

    async def pbx(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        raw = await reader.readuntil(b"\r\n\r\n")
        action_id = next(
            line.split(": ", 1)[1]
            for line in raw.decode().split("\r\n")
            if line.startswith("ActionID")
        )
        writer.write(f"Response: Success\r\nActionID: {action_id}\r\n\r\n".encode())
        for event in events:
            text = "".join(f"{k}: {v}\r\n" for k, v in event.items() if k != "content")
            writer.write((text + "\r\n").encode())
        await writer.drain()
        await reader.read()  # until the recorder hangs up
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(pbx, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    path = tmp_path / "live.json"
    try:
        count = await record(
            lambda: BridgeManager(port=port, username="u", secret="s", backoff=Backoff()),
            path,
            seconds=5,
            max_events=len(events),
        )
    finally:
        server.close()
        await server.wait_closed()
    assert count == len(events)
    saved = json.loads(path.read_text())
    assert [e["Event"] for e in saved] == [e["Event"] for e in events]
    assert replay_file(path) == replay_file(DATA / "simple/ab_success_b_hangup.json")
