"""A real ``callcenter serve`` with the test hooks (``tests/support/serve_hooked.py``:
uvicorn, temp SQLite, environment "test") and Debian's chromium driven by Playwright for
Python (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine, session_scope
from callcenter.users.services import create_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "browser-pass-1"
AGENTS = [("ali", "2101", "علی رضایی"), ("reza", "2102", "رضا احمدی"),
          ("neda", "2103", "ندا شریفی"), ("omid", "2104", "امید نوری")]
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    engine: Engine
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra environment of the served app (none by default; a module overrides it)."""
    return {}


@pytest.fixture
def server(tmp_path: Path, server_env: dict[str, str]) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required at /usr/bin/chromium")
    database_url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    engine = build_engine(database_url)
    prepare_store(engine)
    with session_scope(engine) as session:
        for username, extension, name in AGENTS:
            create_user(session=session, username=username, password=PASSWORD, role="agent",
                        extension=extension, full_name=name)
        create_user(session=session, username="sara", password=PASSWORD, role="supervisor",
                    full_name="سارا کریمی")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CALLCENTER_ENVIRONMENT": "test", "CALLCENTER_DATA_DIR": str(tmp_path),
           "CALLCENTER_DATABASE_URL": database_url, "CALLCENTER_AMI_ENABLED": "false",
           "CALLCENTER_AGI_PORT": "0", "CALLCENTER_SECRET_KEY": "browser-test-secret-key",
           "CALLCENTER_RECORDINGS_DIR": str(tmp_path / "rec"), "CALLCENTER_PUBLIC_BASE_URL": url,
           **server_env}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "support" / "serve_hooked.py"),
             "--port", str(port), "--log-level", "warning"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/login", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("server did not start:\n" + log.read_text())
            time.sleep(0.2)
    yield Server(url=url, engine=engine, process=process, log=log)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    engine.dispose()


def keep_screenshot(path: Path, name: str) -> None:
    """Copy to docs/screenshots when CALLCENTER_UPDATE_SCREENSHOTS=1 (never by default)."""
    if os.environ.get("CALLCENTER_UPDATE_SCREENSHOTS") == "1":
        target = REPO / "docs" / "screenshots" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
