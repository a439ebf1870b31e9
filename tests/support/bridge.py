"""The real bridge under test: ``callcenter serve`` as a subprocess against the sandbox.

It listens for FastAGI on 127.0.0.1:4573 (the dialplan's address), connects to the
sandbox's AMI, and keeps its store in a temporary SQLite file the test can read.
``kill()`` is a crash (SIGKILL), ``restart()`` starts it again on the same store.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.db.engine import build_engine, session_scope
from callcenter.users.services import create_user

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """One ``callcenter serve``-like process: its web port, /health, a crash (SIGKILL),
    a clean stop (SIGTERM), and the tail of its latest ``<log_prefix>-N.log``."""

    log_prefix = "serve"
    workdir: Path
    web_port: int
    process: subprocess.Popen[bytes] | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/health", timeout=5).json()
        return result

    def kill(self) -> None:
        """A crash: SIGKILL, no clean shutdown."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        logs = sorted(self.workdir.glob(f"{self.log_prefix}-*.log"))
        if not logs:
            return ""
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:])


class Bridge(ServeProcess):
    """One ``callcenter serve`` process and its store."""

    def __init__(self, *, env: dict[str, str], workdir: Path) -> None:
        self.workdir = workdir
        self.web_port = free_port()
        self.database_url = f"sqlite:///{workdir / 'callcenter.db'}"
        self.env = {**env, "CALLCENTER_DATABASE_URL": self.database_url,
                    "CALLCENTER_DATA_DIR": str(workdir), "CALLCENTER_AGI_PORT": "4573",
                    "CALLCENTER_ENVIRONMENT": "test"}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._engine: Engine | None = None

    def start(self, *, timeout: float = 40) -> dict[str, Any]:
        """Start and wait until AMI is logged in and FastAGI listens; returns /health."""
        self.starts += 1
        log = (self.workdir / f"serve-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "callcenter.cli", "serve", "--port", str(self.web_port)],
            env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"callcenter serve exited: {self.log_tail()}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=2).json()
            except (httpx.TransportError, ValueError):
                time.sleep(0.2)
                continue
            parts = health.get("parts", {})
            if (parts.get("ami", {}).get("state") == "connected"
                    and parts.get("ami", {}).get("resyncs", 0) >= 1
                    and parts.get("fastagi", {}).get("state") == "listening"):
                return health
            time.sleep(0.2)
        raise RuntimeError(f"bridge not ready in {timeout} s: {health}\n{self.log_tail()}")

    def restart(self) -> dict[str, Any]:
        self.stop()
        return self.start()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = build_engine(self.database_url)
        return self._engine

    def query(self, work: Callable[[Session], T]) -> T:
        with Session(self.engine) as session:
            return work(session)

    def wait_for(self, work: Callable[[Session], T | None], *, seconds: float = 20) -> T:
        """Poll the store until ``work`` returns something truthy."""
        deadline = time.monotonic() + seconds
        while True:
            result = self.query(work)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"store never satisfied {work}; log:\n{self.log_tail()}")
            time.sleep(0.3)

    def staff_client(self, username: str, *, role: str, extension: str | None = None
                     ) -> httpx.Client:
        """A staff user made in this bridge's store, signed in through the login form
        (the caller closes the client). Its CSRF token is sent on every request."""
        password = f"{username}-e2e-password"
        with session_scope(self.engine) as session:
            create_user(session=session, username=username, password=password, role=role,
                        extension=extension, full_name=username)
        client = httpx.Client(base_url=self.url, timeout=10)
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, form
        answer = client.post("/login", data={"username": username, "password": password,
                                             "csrf_token": token.group(1)},
                             follow_redirects=True)  # to the role's home page
        csrf = re.search(r'"csrf": "([^"]+)"', answer.text)
        assert csrf, answer.text
        client.headers["X-CSRF-Token"] = csrf.group(1)
        return client

    def close(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.dispose()


def environment_without_callcenter() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
