"""Run SIPp as real SIP citizens and agents against the sandbox Asterisk.

The scenarios live in ``tests/e2e/sipp/``; this module renders them (the
in-call steps of a citizen, the ring and talk times of an agent), starts SIPp
as an asyncio subprocess and reports what happened: SIPp's exit code, its
successful/failed call counts, the per-call outcomes the scenarios log
("answered", "local_bye", "remote_bye", "cancelled", ...) and the tail of its
error output. Every run is bounded by a timeout; a SIPp still running then is
killed (by its own pid) and the result says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import random
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[1] / "e2e" / "sipp"
PCAP_DIR = Path("/usr/share/sip-tester")
PBX_HOST = "127.0.0.1"
PBX_SIP_PORT = 5060
CITIZENS_TRUNK_PORT = "5090"  # where Asterisk sends outbound calls (pjsip.conf [citizens] aor)
# A phone's INVITE that Asterisk CANCELs within this many ms of our 180 is a stale
# ring (agent_uas.xml); at most this many of them per phone run.
STALE_RING_MS = 250
STALE_RING_SLACK = 20
DTMF_NAMES = {"#": "pound", "*": "star"} | {d: d for d in "0123456789"}
# RTP numbers of the first key press of a call (above those of every SIPp capture).
DTMF_BASE_SEQ = 20000
DTMF_BASE_TS = 160000


@dataclass(frozen=True)
class Pause:
    """Stay on the line, silent, for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Digits:
    """Press keys (0-9, *, #) as RFC 4733 events, ``gap`` seconds apart."""

    keys: str
    gap: float = 0.4

    def __post_init__(self) -> None:
        bad = set(self.keys) - set(DTMF_NAMES)
        if bad:
            raise ValueError(f"not DTMF keys: {sorted(bad)}")


@dataclass(frozen=True)
class Audio:
    """Speak: play an RTP capture (default: SIPp's 7 s G.711 A-law sample)."""

    pcap: Path = PCAP_DIR / "g711a.pcap"


@dataclass(frozen=True)
class AwaitHangup:
    """Wait up to ``timeout`` seconds for the PBX to hang up; the call fails otherwise."""

    timeout: float


@dataclass(frozen=True)
class Hangup:
    """The citizen hangs up (BYE)."""


Step = Pause | Digits | Audio | AwaitHangup | Hangup


@dataclass
class SippResult:
    """What one SIPp run did."""

    name: str
    exit_code: int | None
    successful: int
    failed: int
    outcomes: list[str]
    stale_rings: int
    stderr_tail: str
    timed_out: bool
    workdir: Path

    @property
    def ok(self) -> bool:
        """SIPp exited 0: every call followed its scenario to the end."""
        return self.exit_code == 0 and not self.timed_out and self.failed == 0

    def describe(self) -> str:
        """One paragraph for assertion messages."""
        errors = sorted(self.workdir.glob("*errors.log"))
        unexpected = errors[0].read_text(errors="replace")[-1500:] if errors else ""
        return (
            f"sipp {self.name}: exit={self.exit_code} timed_out={self.timed_out} "
            f"successful={self.successful} failed={self.failed} outcomes={self.outcomes} "
            f"stale_rings={self.stale_rings}\n"
            f"stderr: {self.stderr_tail}\nunexpected messages: {unexpected}"
        )


def pcap_seconds(path: Path) -> float:
    """Duration of a classic pcap file (first to last packet)."""
    data = path.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    offset, stamps = 24, []
    while offset + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[offset : offset + 16])
        stamps.append(sec + frac / (1e9 if nano else 1e6))
        offset += 16 + incl
    return stamps[-1] - stamps[0] if stamps else 0.0


def _play(pcap: Path) -> str:
    return f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'


def _pause(seconds: float) -> str:
    return f'  <pause milliseconds="{max(1, round(seconds * 1000))}"/>'


def _rtp_headers(pcap: bytes) -> list[int]:
    """Offset of the RTP header of every packet of an Ethernet/IPv4/UDP classic pcap."""
    found, offset = [], 24
    while offset + 16 <= len(pcap):
        (length,) = struct.unpack("<I", pcap[offset + 8 : offset + 12])
        packet = offset + 16
        ip_header = (pcap[packet + 14] & 0x0F) * 4
        found.append(packet + 14 + ip_header + 8)
        offset = packet + length
    return found


def dtmf_press(key: str, press: int, folder: Path) -> Path:
    """SIPp's capture of ``key``, renumbered as the ``press``-th key of a call.

    SIPp replays a capture as it is, and each of its DTMF captures carries fixed RTP
    sequence numbers and timestamps ("1"'s are lower than "2"'s). Asterisk drops a
    telephone-event whose timestamp is not after the last one as an old packet, so
    a repeated key, or a 1 after a 2, would be lost. A real phone's numbers only
    grow: each press gets a copy whose numbers grow with ``press`` (same SSRC; the
    UDP checksum is cleared, 0 = none in IPv4).
    """
    path = folder / f"dtmf-{press:03d}-{DTMF_NAMES[key]}.pcap"
    if path.exists():
        return path
    data = bytearray((PCAP_DIR / f"dtmf_2833_{DTMF_NAMES[key]}.pcap").read_bytes())
    headers = _rtp_headers(bytes(data))
    first_seq, first_ts = struct.unpack(">HI", bytes(data[headers[0] + 2 : headers[0] + 8]))
    for at in headers:
        seq, stamp = struct.unpack(">HI", bytes(data[at + 2 : at + 8]))
        struct.pack_into(
            ">HI", data, at + 2,
            (DTMF_BASE_SEQ + press * 32 + seq - first_seq) & 0xFFFF,
            (DTMF_BASE_TS + press * 16000 + stamp - first_ts) & 0xFFFFFFFF,
        )  # fmt: skip
        struct.pack_into(">H", data, at - 2, 0)  # UDP checksum
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


def render_steps(steps: Sequence[Step], *, dtmf_dir: Path | None = None) -> str:
    """The XML of a citizen's in-call steps (ends with a hang-up of some kind).

    With ``dtmf_dir``, every key press plays its own renumbered capture written
    there (:func:`dtmf_press`), so any sequence of keys reaches Asterisk; without
    it, SIPp's captures are played as they are.
    """
    lines: list[str] = []
    presses = 0
    steps = list(steps)
    if not steps or not isinstance(steps[-1], Hangup | AwaitHangup):
        steps.append(Hangup())
    for step in steps:
        match step:
            case Pause(seconds=seconds):
                lines.append(_pause(seconds))
            case Digits(keys=keys, gap=gap):
                # SIPp stops a capture still playing when the next one starts:
                # wait at least the capture's length (0.14 s) between keys.
                for key in keys:
                    if dtmf_dir is None:
                        pcap = PCAP_DIR / f"dtmf_2833_{DTMF_NAMES[key]}.pcap"
                    else:
                        pcap = dtmf_press(key, presses, dtmf_dir)
                    presses += 1
                    lines += [_play(pcap), _pause(max(gap, 0.2))]
            case Audio(pcap=pcap):
                lines += [_play(pcap), _pause(pcap_seconds(pcap) + 0.2)]
            case AwaitHangup(timeout=timeout):
                ms = max(1, round(timeout * 1000))
                lines.append(f'  <recv request="BYE" timeout="{ms}" next="remote_bye"/>')
                break
            case Hangup():
                lines.append((SCENARIOS / "citizen_bye.xml").read_text())
                break
    return "\n".join(lines)


def free_media_port() -> int:
    """An even UDP port on loopback with the next three free (SIPp's -mp uses a few)."""
    for _ in range(200):
        base = random.randrange(30000, 39990, 4)
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + 4):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free media port range between 30000 and 40000")


@dataclass
class SippProcess:
    """A running SIPp; ``await wait()`` for its result."""

    name: str
    process: asyncio.subprocess.Process
    workdir: Path
    max_seconds: float
    _result: SippResult | None = field(default=None, init=False)

    async def wait(self) -> SippResult:
        """Wait for SIPp to finish (bounded); kill it if it overstays."""
        if self._result is not None:
            return self._result
        timed_out = False
        try:
            await asyncio.wait_for(self.process.wait(), self.max_seconds)
        except TimeoutError:
            timed_out = True
            await self.stop()
        stderr = b""
        if self.process.stderr is not None:
            stderr = await self.process.stderr.read()
        self._result = self._collect(timed_out, stderr.decode(errors="replace"))
        return self._result

    async def stop(self) -> None:
        """Kill this SIPp (only this process) if still running."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    def _collect(self, timed_out: bool, stderr: str) -> SippResult:
        successful = failed = 0
        stats = self.workdir / "stats.csv"
        if stats.exists():
            text = stats.read_text(errors="replace")
            rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
            if rows:
                successful = int(rows[-1].get("SuccessfulCall(C)") or 0)
                failed = int(rows[-1].get("FailedCall(C)") or 0)
        log = self.workdir / "calls.log"
        outcomes = []
        stale_rings = 0
        if log.exists():
            for line in log.read_text(errors="replace").splitlines():
                if "OUTCOME " in line:
                    outcome = line.split("OUTCOME ", 1)[1].split()[0]
                    if outcome == "stale_ring":
                        stale_rings += 1
                    else:
                        outcomes.append(outcome)
        return SippResult(
            name=self.name,
            exit_code=None if timed_out else self.process.returncode,
            successful=successful,
            failed=failed,
            outcomes=outcomes,
            stale_rings=stale_rings,
            stderr_tail=stderr[-1500:],
            timed_out=timed_out,
            workdir=self.workdir,
        )


@dataclass
class SippRunner:
    """Starts SIPp citizens and agents against the PBX, files in ``workdir``."""

    workdir: Path
    pbx_host: str = PBX_HOST
    pbx_port: int = PBX_SIP_PORT
    sipp: str = "sipp"
    started: list[SippProcess] = field(default_factory=list)
    _count: int = field(default=0, init=False)

    async def stop_all(self) -> None:
        """Kill every SIPp this runner started that is still running."""
        for process in self.started:
            await process.stop()

    def _dir(self, name: str) -> Path:
        self._count += 1
        path = self.workdir / f"{self._count:02d}-{name}"
        path.mkdir(parents=True)
        return path

    async def _start(
        self,
        name: str,
        scenario: str,
        args: list[str],
        max_seconds: float,
        callers: Sequence[str] = (),
    ) -> SippProcess:
        workdir = self._dir(name)
        (workdir / "scenario.xml").write_text(scenario)
        if callers:
            write_injection(workdir / "callers.csv", callers)
        command = [
            self.sipp, "-sf", "scenario.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1",
            "-mp", str(free_media_port()), "-nostdin", "-trace_logs", "-log_file", "calls.log",
            "-trace_err", "-error_file", "errors.log", "-trace_stat", "-stf", "stats.csv",
            "-fd", "1", "-timeout", f"{max_seconds:.0f}s", "-timeout_error", *args,
        ]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command, cwd=workdir, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        # The timeout below outlasts SIPp's own -timeout so SIPp reports first.
        started = SippProcess(
            name=name, process=process, workdir=workdir, max_seconds=max_seconds + 10
        )
        self.started.append(started)  # stop_all() kills what a test left running
        return started

    async def citizen(
        self,
        *,
        callers: Sequence[str],
        steps: Sequence[Step],
        dialled: str = "137",
        rate: float = 5,
        max_seconds: float = 60,
        caller_name: str | None = None,
    ) -> SippProcess:
        """Citizens (one call per caller number) dial ``dialled`` and follow ``steps``.

        ``caller_name`` is sent as the display name of From (UTF-8, e.g. Persian).
        """
        if not callers:
            raise ValueError("at least one caller number")
        if caller_name is not None and any(c in caller_name for c in '"\\\r\n<>'):
            raise ValueError(f"caller name {caller_name!r} needs quoting")
        scenario = (SCENARIOS / "citizen_uac.xml").read_text()
        scenario = scenario.replace("@@DIALLED@@", dialled)
        from_name = f'"{caller_name}" ' if caller_name else ""
        scenario = scenario.replace("@@FROM_NAME@@", from_name)
        actions = render_steps(steps, dtmf_dir=self.workdir / "dtmf")
        scenario = scenario.replace("@@ACTIONS@@", actions)
        target = f"{self.pbx_host}:{self.pbx_port}"
        args = ["-inf", "callers.csv", "-m", str(len(callers)), "-r", str(rate), target]
        return await self._start(f"citizen-{callers[0]}", scenario, args, max_seconds, callers)

    async def agent(
        self,
        *,
        extension: str = "2101",
        answer_after: float | None = 1.0,
        talk_for: float = 5.0,
        calls: int = 1,
        max_seconds: float = 60,
    ) -> SippProcess:
        """The phone of agent ``extension`` (its static contact, port 61NN).

        It answers ``calls`` calls after ringing ``answer_after`` seconds and hangs
        up after ``talk_for``; with ``answer_after=None`` it never answers and
        each call ends when Asterisk cancels the ringing.
        """
        return await self._answerer(
            f"agent-{extension}",
            agent_sip_port(extension),
            answer_after,
            talk_for,
            calls,
            max_seconds,
        )

    async def called_citizen(
        self,
        *,
        answer_after: float | None = 1.0,
        talk_for: float = 5.0,
        calls: int = 1,
        max_seconds: float = 60,
    ) -> SippProcess:
        """The citizens' side of outbound calls (survey, callback): the trunk's
        contact sip:127.0.0.1:5090 (pjsip.conf). Same behaviour as ``agent``."""
        return await self._answerer(
            "called-citizen", CITIZENS_TRUNK_PORT, answer_after, talk_for, calls, max_seconds
        )

    async def refuser(
        self,
        *,
        port: str,
        code: int = 486,
        reason: str = "Busy Here",
        ring_for: float = 1.0,
        calls: int = 1,
        max_seconds: float = 30,
    ) -> SippProcess:
        """A phone on ``port`` (an agent's 61NN, or the trunk's) that rings ``ring_for``
        seconds, then refuses each call with ``code`` (486 busy, 603 decline)."""
        scenario = (SCENARIOS / "refuse_uas.xml").read_text()
        scenario = scenario.replace("@@RING_MS@@", str(max(1, round(ring_for * 1000))))
        scenario = scenario.replace("@@CODE@@", str(code)).replace("@@REASON@@", reason)
        args = ["-p", port, "-m", str(calls)]
        return await self._start(f"refuser-{port}", scenario, args, max_seconds)

    async def _answerer(
        self,
        name: str,
        port: str,
        answer_after: float | None,
        talk_for: float,
        calls: int,
        max_seconds: float,
    ) -> SippProcess:
        if answer_after is None:
            scenario = answerer_scenario(calls=calls, answer_ms=round(max_seconds * 1000),
                                         answer_block="", bye_headers="")
        else:
            block = (SCENARIOS / "agent_answer_block.xml").read_text()
            block = block.replace("@@TALK_MS@@", str(max(1, round(talk_for * 1000))))
            # the scenario already waited STALE_RING_MS for a stale ring's CANCEL
            answer_ms = max(1, round(answer_after * 1000) - STALE_RING_MS)
            headers = (SCENARIOS / "agent_bye_headers.xml").read_text()
            scenario = answerer_scenario(calls=calls, answer_ms=answer_ms, answer_block=block,
                                         bye_headers=headers)
        # The scenario stops itself after ``calls`` real calls; -m leaves room for
        # stale rings (see agent_uas.xml), which it does not count.
        args = ["-p", port, "-m", str(calls + STALE_RING_SLACK)]
        return await self._start(name, scenario, args, max_seconds)


def answerer_scenario(*, calls: int, answer_ms: int, answer_block: str, bye_headers: str
                      ) -> str:
    """agent_uas.xml for a phone that rings ``answer_ms`` (after the stale-ring check),
    then runs ``answer_block`` (empty: never answers), stopping after ``calls`` real
    calls. Run it with ``-m calls + STALE_RING_SLACK``."""
    scenario = (SCENARIOS / "agent_uas.xml").read_text()
    scenario = scenario.replace("@@CALLS@@", str(calls))
    scenario = scenario.replace("@@STALE_MS@@", str(STALE_RING_MS))
    scenario = scenario.replace("@@ANSWER_MS@@", str(answer_ms))
    scenario = scenario.replace("@@ANSWER_BLOCK@@", answer_block)
    return scenario.replace("@@BYE_HEADERS@@", bye_headers)


def agent_sip_port(extension: str) -> str:
    """Agent 21NN's static contact is sip:21NN@127.0.0.1:61NN (pjsip.conf)."""
    if len(extension) != 4 or not extension.startswith("21") or not extension.isdigit():
        raise ValueError(f"agent extensions are 2101-2110, not {extension!r}")
    return f"61{extension[2:]}"


def write_injection(path: Path, callers: Sequence[str]) -> None:
    """SIPp injection file: one caller number (field0) per call, in order."""
    path.write_text("SEQUENTIAL\n" + "".join(f"{number};\n" for number in callers))
