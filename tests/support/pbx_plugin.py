"""The PBX fixtures as a pytest plugin (``pytest_plugins`` in ``tests/conftest.py``):
the real sandbox Asterisk 22, SIPp callers and agents, AMI, and the real
``callcenter serve`` bridge. Used by ``tests/e2e`` and the PBX test of ``tests/browser``,
loaded once per session.

Tier: these tests need root, Debian's ``sip-tester`` and the sandbox chroot
(``scripts/ci-provision`` installs all of it; ``docs/pbx-sandbox.md``). They
fail, never skip, when the PBX cannot be brought up: CI always can.

The tests assume they have the sandbox to themselves: each test starts with no
channels and no queue members, and FastAGI port 4573 must be free (stop a
``callcenter serve`` you started by hand before running them).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from support.agi_stub import AGI_HOST, AGI_PORT, AgiStub, Flow
from support.ami_client import AmiClient
from support.bridge import Bridge, environment_without_callcenter
from support.pbx_sandbox import AGENTS, LOCK_KEY, QUEUE, SANDBOX, SandboxPbx
from support.sipp import SippRunner

DEFAULT_ROOT = "/var/cache/callcenter/asterisk-root"
NO_HOLIDAYS = Path(__file__).resolve().parents[1] / "e2e" / "no-holidays.yaml"
LOCK_WAIT_SECONDS = 900


def _sandbox_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CALLCENTER_AMI_SECRET", "dev-ami-secret")
    return env


@pytest.fixture(scope="session")
def pbx(request: pytest.FixtureRequest) -> SandboxPbx:
    """``scripts/asterisk-sandbox up`` once per session (seconds when already built).

    The session holds an exclusive lock on the sandbox: test runs of several
    developers on one machine take turns instead of hanging up each other's
    calls. The lock is taken once per test session and kept until it ends (a
    second ``flock`` from the same process would wait on itself). Asterisk is left
    running afterwards for the next run.
    """
    env = _sandbox_env()
    if LOCK_KEY not in request.config.stash:
        request.config.stash[LOCK_KEY] = _take_lock(env)
        request.config.add_cleanup(request.config.stash[LOCK_KEY].close)
    return _sandbox_up(env)


def _take_lock(env: dict[str, str]) -> IO[str]:
    lock_path = Path(env.get("CALLCENTER_PBX_ROOT", DEFAULT_ROOT) + ".e2e.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path.open("w")
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                pytest.fail(f"another test run held {lock_path} for {LOCK_WAIT_SECONDS} s")
            time.sleep(1)


def _sandbox_up(env: dict[str, str]) -> SandboxPbx:
    try:
        done = subprocess.run(
            [str(SANDBOX), "up"], capture_output=True, text=True, timeout=900, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scripts/asterisk-sandbox up did not finish in 900 s: {exc.stderr!r}")
    if done.returncode != 0:
        pytest.fail(
            "The sandbox PBX could not be started (scripts/asterisk-sandbox up):\n"
            f"{done.stderr}\n{done.stdout}\nRun scripts/ci-provision first on a new machine."
        )
    root = subprocess.run(
        [str(SANDBOX), "path", "root"], capture_output=True, text=True, env=env, check=True
    ).stdout.strip()
    return SandboxPbx(
        root=Path(root),
        ami_host="127.0.0.1",
        ami_port=5038,
        ami_user="bridge",
        ami_secret=env["CALLCENTER_AMI_SECRET"],
    )


def no_channels_left(pbx: SandboxPbx, *, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while "0 active channels" not in pbx.cli("core show channels count"):
        if time.monotonic() > deadline:
            raise AssertionError("the sandbox still has channels after Hangup: "
                                 + pbx.cli("core show channels"))
        time.sleep(0.2)


@pytest.fixture
async def ami(pbx: SandboxPbx) -> AsyncIterator[AmiClient]:
    """A logged-in AMI connection recording every event; the PBX starts idle.

    Before the test: every channel is hung up and every agent leaves the queue,
    so calls or members left by an earlier (failed) test cannot interfere.
    """
    client = AmiClient(pbx.ami_host, pbx.ami_port, pbx.ami_user, pbx.ami_secret)
    await client.connect()
    await client.action("Hangup", Channel="/.*/")
    for agent in AGENTS:
        await client.action("QueueRemove", Queue=QUEUE, Interface=f"PJSIP/{agent}")
    # A hangup is only requested: a caller left waiting in the queue by an earlier test
    # could still ring the next test's agent once (seen: its SIPp phone counted that
    # cancelled ring as one of its calls). Wait until Asterisk has no channel left.
    await asyncio.to_thread(no_channels_left, pbx)
    yield client
    await client.close()


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[SippRunner]:
    """Starts SIPp citizens and agents; kills any still running after the test.

    SIPp's logs (calls.log with per-call OUTCOME lines, errors.log, stats.csv)
    stay under the test's tmp_path for post-mortems.
    """
    runner = SippRunner(workdir=tmp_path / "sipp")
    yield runner
    await runner.stop_all()


@pytest.fixture
async def agi_server() -> AsyncIterator[Callable[[Flow], Awaitable[AgiStub]]]:
    """Factory: ``stub = await agi_server(flow)`` serves FastAGI on 127.0.0.1:4573."""
    stubs: list[AgiStub] = []

    async def start(flow: Flow) -> AgiStub:
        with socket.socket() as probe:
            if probe.connect_ex((AGI_HOST, AGI_PORT)) == 0:
                pytest.fail(
                    f"FastAGI port {AGI_HOST}:{AGI_PORT} is taken (a callcenter serve running?); "
                    "the PBX tests need it free"
                )
        stub = AgiStub(flow)
        await stub.start()
        stubs.append(stub)
        return stub

    yield start
    for stub in stubs:
        await stub.close()


# --- The bridge under test ------------------------------------------------------
# ``bridge`` runs the real ``callcenter serve`` (AMI bridge, FastAGI server with the
# 137 flows, web app) against the sandbox with a temporary SQLite store. It takes the
# place of ``agi_server`` (both listen on 127.0.0.1:4573): use one or the other.


@pytest.fixture
def bridge_env(pbx: SandboxPbx, tmp_path: Path) -> dict[str, str]:
    """Environment for a ``callcenter serve`` pointed at the sandbox PBX."""
    env = environment_without_callcenter()
    env.update(
        CALLCENTER_AMI_HOST=pbx.ami_host,
        CALLCENTER_AMI_PORT=str(pbx.ami_port),
        CALLCENTER_AMI_USER=pbx.ami_user,
        CALLCENTER_AMI_SECRET=pbx.ami_secret,
        CALLCENTER_PBX_LOG_DIR=str(pbx.log_dir),
        # Open around the clock, every day, no holidays: the menu under test must not
        # depend on when CI runs (the out-of-hours test sets its own hours).
        CALLCENTER_OPENING_TIME="00:00:00",
        CALLCENTER_CLOSING_TIME="23:59:59",
        CALLCENTER_OPEN_ON_FRIDAY="true",
        CALLCENTER_HOLIDAYS_FILE=str(NO_HOLIDAYS),
        # Calling hours too (surveys, callbacks, status SMS are held outside them).
        CALLCENTER_CALLING_HOURS_START="00:00:00",
        CALLCENTER_CALLING_HOURS_END="23:59:59",
        CALLCENTER_CALLING_ON_FRIDAY="true",
        # Recover only calls of this test from Asterisk's records, not earlier runs'.
        CALLCENTER_RECOVERY_LOOKBACK_HOURS="0.02",
        CALLCENTER_DATABASE_URL=f"sqlite:///{tmp_path / 'callcenter.db'}",
        # The bridge reads what Asterisk recorded where the chroot's folder is on the host.
        CALLCENTER_RECORDINGS_DIR=str(pbx.recordings_dir),

        # No panel says "ready" in these tests: the wrap-up pause (on in production)
        # would hold a SIPp agent for its maximum; test_wrapup_pbx.py turns it on.
        CALLCENTER_WRAP_UP_PAUSE="false",
        # Automatic callbacks are on in production; here they would ring a SIPp agent
        # scripted for the test's own calls with a callback from the follow-up list
        # (seen: the wrap-up and restart tests' agent answered a callback instead).
        CALLCENTER_AUTO_CALLBACKS="false",
    )
    return env


@pytest.fixture
def bridge(bridge_env: dict[str, str], tmp_path: Path, ami: AmiClient) -> Iterator[Bridge]:
    """A started ``callcenter serve`` (AMI logged in and resynced, FastAGI listening)."""
    with socket.socket() as probe:
        if probe.connect_ex((AGI_HOST, AGI_PORT)) == 0:
            pytest.fail(f"FastAGI port {AGI_PORT} is taken (a callcenter serve running?)")
    workdir = tmp_path / "bridge"
    workdir.mkdir()
    server = Bridge(env=bridge_env, workdir=workdir)
    server.start()
    yield server
    server.close()
