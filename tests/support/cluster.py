"""Several real ``callcenter serve`` processes (with the test hooks) on one PostgreSQL
store: what the two-instance tests and ``scripts/bench-screenpop --instances 2`` run.

Each ``Instance`` is ``tests/support/serve_hooked.py`` in its own process, named (the
name /health and the lease report), with its own web port and FastAGI on a free port.
``kill()`` is a crash (SIGKILL); ``stop()`` a clean SIGTERM; ``start()`` again reuses
the name and port (a restart).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from support.bridge import REPO_ROOT, ServeProcess, free_port

PASSWORD = "cluster-password-1"


class Instance(ServeProcess):
    def __init__(self, *, name: str, database_url: str, workdir: Path,
                 env: dict[str, str] | None = None, log_level: str = "warning") -> None:
        self.name = name
        self.log_level = log_level
        self.workdir = workdir
        self.web_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")},
            "CALLCENTER_ENVIRONMENT": "test", "CALLCENTER_DATABASE_URL": database_url,
            "CALLCENTER_DATA_DIR": str(workdir), "CALLCENTER_INSTANCE_NAME": name,
            "CALLCENTER_AGI_PORT": "0", "CALLCENTER_SECRET_KEY": "cluster-secret-key-0123",
            **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_prefix = name

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.web_port}"

    def start(self, *, ready: Callable[[dict[str, Any]], bool] | None = None,
              timeout: float = 60) -> dict[str, Any]:
        self.starts += 1
        log = (self.workdir / f"{self.name}-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "tests" / "support" / "serve_hooked.py"),
             "--port", str(self.web_port), "--log-level", self.log_level],
            env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self.wait(ready or (lambda health: "parts" in health), timeout=timeout)

    def wait(self, ready: Callable[[dict[str, Any]], bool], *,
             timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=2).json()
            except (httpx.TransportError, ValueError):
                time.sleep(0.1)
                continue
            if ready(health):
                return health
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready in {timeout} s: {health}\n"
                             f"{self.log_tail()}")


def holding(health: dict[str, Any], part: str = "ami") -> bool:
    lease = health.get("parts", {}).get(part, {}).get("lease") or {}
    return bool(lease.get("holding"))


def standby(health: dict[str, Any], part: str = "ami") -> bool:
    return health.get("parts", {}).get(part, {}).get("state") == "standby"


async def sign_in(url: str, username: str, password: str = PASSWORD) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "no login form"
        answer = await client.post("/login", data={"username": username, "password": password,
                                                   "csrf_token": token.group(1)})
        assert answer.status_code in (200, 303), answer.status_code
        return str(client.cookies["cc_session"])


def csrf_of(url: str, cookie: str, page: str = "/agent") -> str:
    answer = httpx.get(f"{url}{page}", cookies={"cc_session": cookie}, timeout=30)
    found = re.search(r'name="csrf_token" value="([^"]+)"', answer.text)
    assert found, "no CSRF token on the page"
    return found.group(1)
