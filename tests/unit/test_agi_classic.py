"""The classic AGI entry point, driven through real pipes like Asterisk drives it.

A small script runs ``callcenter.agi.classic.main`` with a test route in a
subprocess; the test plays Asterisk on its stdin/stdout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from callcenter.agi.classic import RoutesUnavailable, load_routes

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    from callcenter.agi.classic import main
    from ivr_flows.channel import ChannelHangup

    async def probe(channel):
        await channel.answer()
        key = await channel.play("fa/welcome", interrupt="9")
        digits = await channel.read_digits("fa/menu", max_digits=3, timeout=2)
        rec = await channel.record("/tmp/msg", max_seconds=120)
        summary = f"{channel.script}|{','.join(channel.arguments)}|{key}|{digits}|{rec.reason}"
        await channel.set_variable("PROBE", summary)

    async def boom(channel):
        raise RuntimeError("flow bug")

    sys.exit(main(sys.argv[1:], routes={"probe": probe, "boom": boom},
                  command_timeout=float(sys.argv[-1]) if sys.argv[-1][0].isdigit() else 5))
    """
)

ENV = (
    "agi_request: callcenter-agi\n"
    "agi_channel: PJSIP/citizen-00000002\n"
    "agi_language: fa\n"
    "agi_uniqueid: 1700000000.9\n"
    "agi_callerid: 09131234567\n"
    "agi_arg_1: probe\n"
    "\n"
)


class Asterisk:
    """The test's side of the pipes."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin = proc.stdin
        self.stdout = proc.stdout

    def send(self, text: str) -> None:
        self.stdin.write(text)
        self.stdin.flush()

    def command(self) -> str:
        return self.stdout.readline().rstrip("\n")

    def finish(self) -> tuple[int, str]:
        self.stdin.close()
        rest = self.stdout.read()
        assert rest == "", f"unexpected output after the call: {rest!r}"
        code = self.proc.wait(timeout=10)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


StartAgi = Callable[..., Asterisk]


@pytest.fixture
def run_agi(tmp_path: Path) -> Iterator[StartAgi]:
    script = tmp_path / "agi_probe.py"
    script.write_text(SCRIPT)
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Asterisk:
        proc = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        started.append(proc)
        return Asterisk(proc)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_a_call_through_the_pipe(run_agi: StartAgi) -> None:
    ast = run_agi("probe", "extra")
    ast.send(ENV)
    assert ast.command() == "ANSWER"
    ast.send("200 result=0\n")
    assert ast.command() == 'STREAM FILE "fa/welcome" "9"'
    ast.send("200 result=57 endpos=100\n")
    assert ast.command() == 'GET DATA "fa/menu" 2000 3'
    ast.send("200 result=42 (timeout)\n")
    assert ast.command() == 'RECORD FILE "/tmp/msg" "wav" "#" 120000 0 BEEP'
    ast.send("200 result=-1 (hangup) endpos=8000\n")
    # the recording survived the hangup; the next command finds a dead channel
    assert ast.command() == 'SET VARIABLE "PROBE" "probe|extra|9|42|hangup"'
    ast.send("511 Command Not Permitted on a dead channel or intercept routine\n")
    code, stderr = ast.finish()
    assert code == 0
    assert "09131234567" not in stderr  # pyst2's environment dump is not logged


def test_usage_error_spanning_lines_fails_the_call_and_hangs_up(run_agi: StartAgi) -> None:
    ast = run_agi("probe")
    ast.send(ENV)
    assert ast.command() == "ANSWER"
    ast.send("520-Invalid command syntax.  Proper usage follows:\n Usage: ANSWER\n"
             "520 End of proper usage.\n")
    assert ast.command() == "HANGUP"
    ast.send("200 result=1\n")
    code, stderr = ast.finish()
    assert code == 1
    assert "1700000000.9" in stderr and "ANSWER" in stderr


def test_failing_flow_is_logged_with_uniqueid(run_agi: StartAgi) -> None:
    ast = run_agi("boom")
    ast.send(ENV)
    assert ast.command() == "HANGUP"
    ast.send("200 result=1\n")
    code, stderr = ast.finish()
    assert code == 1
    assert "1700000000.9" in stderr and "flow bug" in stderr


def test_unknown_script_hangs_up(run_agi: StartAgi) -> None:
    ast = run_agi("nosuchflow")
    ast.send(ENV)
    assert ast.command() == "HANGUP"
    ast.send("200 result=1\n")
    code, stderr = ast.finish()
    assert code == 1
    assert "nosuchflow" in stderr


def test_sighup_ends_the_call(run_agi: StartAgi) -> None:
    ast = run_agi("probe")
    ast.send(ENV)
    assert ast.command() == "ANSWER"
    ast.proc.send_signal(signal.SIGHUP)  # Asterisk's way of saying the caller hung up
    ast.send("200 result=0\n")
    code, _ = ast.finish()  # no further command was sent
    assert code == 0


def test_pipe_closed_mid_call(run_agi: StartAgi) -> None:
    ast = run_agi("probe")
    ast.send(ENV)
    assert ast.command() == "ANSWER"
    code, _ = ast.finish()
    assert code == 0


def test_silent_asterisk_hits_the_command_timeout(run_agi: StartAgi) -> None:
    ast = run_agi("probe", "0.3")
    ast.send(ENV)
    assert ast.command() == "ANSWER"
    assert ast.command() == "HANGUP"  # gave up waiting, hung up, exited
    assert ast.proc.wait(timeout=10) == 1


def test_missing_route_module_is_a_clear_error() -> None:
    with pytest.raises(RoutesUnavailable, match=r"callcenter\.agi\.no_such_routes"):
        load_routes("callcenter.agi.no_such_routes:build_routes")
    with pytest.raises(RoutesUnavailable, match="does not exist"):
        load_routes("callcenter.agi.protocol:build_routes")
