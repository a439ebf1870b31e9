"""`callcenter serve` starts with no PBX reachable, creates its SQLite store, and says so
in /health while it keeps retrying AMI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_without_pbx_reports_health(tmp_path: Path) -> None:
    """Tried: AMI pointed at a closed port, FastAGI on a free port, a fresh data folder."""
    web, agi, dead_ami = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env.update(CALLCENTER_DATA_DIR=str(tmp_path), CALLCENTER_AMI_PORT=str(dead_ami),
               CALLCENTER_AGI_PORT=str(agi))
    proc = subprocess.Popen(
        [sys.executable, "-m", "callcenter.cli", "serve", "--port", str(web)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{web}/health", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            body = response.json()
            if "ami" not in body["parts"] or body["parts"]["ami"].get("attempts", 0) >= 1:
                break
            time.sleep(0.2)
        assert body is not None, f"serve did not answer; output: {proc.stdout}"
        assert body["parts"]["database"] == {"state": "up", "backend": "sqlite"}
        assert (tmp_path / "callcenter.db").exists()
        if "ami" in body["parts"]:
            assert body["parts"]["ami"]["state"] in {"retrying", "connecting"}
            assert body["status"] == "degraded"
            assert response.status_code == 503
        if "fastagi" in body["parts"]:
            assert body["parts"]["fastagi"]["state"] == "listening"
        assert proc.poll() is None, "serve must keep running without a PBX"
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
