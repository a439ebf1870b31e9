"""The sandbox PBX as the end-to-end tests see it (``scripts/asterisk-sandbox``)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SANDBOX = REPO_ROOT / "scripts" / "asterisk-sandbox"
AGENTS = [f"21{n:02d}" for n in range(1, 11)]
QUEUE = "citizen-requests"
# The session's hold on the sandbox lock (conftest.py). Defined here, in a module both
# tests/e2e and tests/browser import by name, so both fixture copies share one key.
LOCK_KEY = pytest.StashKey[IO[str]]()


@dataclass(frozen=True)
class SandboxPbx:
    """The running sandbox Asterisk and where its files are on the host."""

    root: Path
    ami_host: str
    ami_port: int
    ami_user: str
    ami_secret: str

    @property
    def log_dir(self) -> Path:
        """Asterisk's log folder: messages, queue_log, cdr-csv/Master.csv."""
        return self.root / "var/log/asterisk"

    @property
    def recordings_dir(self) -> Path:
        """/var/spool/asterisk/recording as seen from the host."""
        return self.root / "var/spool/asterisk/recording"

    def host_path(self, pbx_path: str) -> Path:
        """A path as Asterisk names it (inside the chroot), seen from the host."""
        return self.root / pbx_path.lstrip("/")

    def cli(self, command: str) -> str:
        """Run one Asterisk CLI command (``asterisk -rx``) and return its output."""
        done = subprocess.run(
            [str(SANDBOX), "cli", command], capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"asterisk -rx {command!r} failed: {done.stderr or done.stdout}")
        return done.stdout
