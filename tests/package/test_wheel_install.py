"""The built wheel serves on its own: installed into a fresh virtualenv outside the
checkout and started from an empty directory, with nothing of the checkout to read.

Slow by nature (builds the wheel, installs it and its dependencies from pip's cache):
marked ``wheel``; ``pytest -m "not wheel"`` leaves it out while iterating.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("callcenter", "ivr_flows", "crm_bridge", "config", "pyproject.toml", "README.md")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def clean_env(venv: Path) -> dict[str, str]:
    """No CALLCENTER_* of the caller, no PYTHONPATH back into the checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CALLCENTER_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the wheel installed; the wheel is built from a copy of the
    sources, so the checkout's own build/ leftovers cannot slip into it."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True, ignore=IGNORED)
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    run([*pip, "wheel", "--no-deps", "-w", str(root / "dist"), str(src)], cwd=root)
    (wheel,) = (root / "dist").glob("callcenter-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    # --no-compile: byte-compiling every dependency is most of an install's time here.
    run([str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
         "install", "--no-compile", str(wheel)], cwd=root)
    shutil.rmtree(src)  # nothing of the sources is left to read by mistake
    return venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``callcenter db upgrade`` then ``callcenter serve`` from an empty directory."""
    workdir = tmp_path / "empty"
    workdir.mkdir()
    env = clean_env(installed)
    env.update(CALLCENTER_AMI_ENABLED="false", CALLCENTER_AGI_PORT="0")  # no Asterisk here
    callcenter = str(installed / "bin" / "callcenter")
    upgraded = run([callcenter, "db", "upgrade"], cwd=workdir, env=env, timeout=120)
    assert "database at revision" in upgraded.stdout
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([callcenter, "serve", "--port", str(port)], cwd=workdir,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        yield base, workdir
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def test_wheel_serves_health_login_and_open311_from_an_empty_directory(
        served: tuple[str, Path]) -> None:
    base, workdir = served
    for path in ("/health", "/login", "/open311/v2/services.json"):
        response = httpx.get(base + path, timeout=10)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    services = httpx.get(base + "/open311/v2/services.json", timeout=10).json()
    assert services, "the packaged reference data (categories) was not loaded"
    assert (workdir / "data" / "callcenter.db").is_file()  # the working directory's data/


def test_installed_package_reads_nothing_from_the_checkout(installed: Path,
                                                           tmp_path: Path) -> None:
    """check-config names every file it reads: all inside the virtualenv."""
    done = run([str(installed / "bin" / "callcenter"), "check-config"], cwd=tmp_path,
               env=clean_env(installed), timeout=120)
    used = [line.split(": ", 1)[1] for line in done.stdout.splitlines()
            if line.split(": ", 1)[0] in ("reference data", "holidays", "SMS messages",
                                          "prompt catalogue", "Shahrbin mapping")]
    assert len(used) == 5, done.stdout
    for path in used:
        assert Path(path).is_relative_to(installed), f"{path} is outside the virtualenv"
        assert Path(path).exists()


def test_installed_package_takes_the_operators_files_over_its_own(installed: Path,
                                                                   tmp_path: Path) -> None:
    """``callcenter init`` writes editable files; an edited category name is what the
    store gets, while the files not copied out still come from the package."""
    callcenter = str(installed / "bin" / "callcenter")
    env = clean_env(installed)
    run([callcenter, "init", str(tmp_path / "etc")], cwd=tmp_path, env=env)
    categories = tmp_path / "etc" / "reference" / "categories.yaml"
    categories.write_text(categories.read_text("utf-8").replace(
        "en: Waste and street cleaning", "en: Refuse (edited by the operator)"), "utf-8")
    env["CALLCENTER_CONFIG"] = str(tmp_path / "etc" / "callcenter.toml")
    workdir = tmp_path / "empty"
    workdir.mkdir()
    run([callcenter, "db", "upgrade"], cwd=workdir, env=env, timeout=120)
    with sqlite3.connect(workdir / "data" / "callcenter.db") as db:
        (name,) = db.execute("SELECT name_en FROM category WHERE code = 'waste'").fetchone()
    assert name == "Refuse (edited by the operator)"
    checked = run([callcenter, "check-config"], cwd=workdir, env=env, timeout=120).stdout
    assert f"reference data: {tmp_path / 'etc' / 'reference'}" in checked
    assert f"SMS messages: {installed}" in checked  # not copied out: the packaged one
