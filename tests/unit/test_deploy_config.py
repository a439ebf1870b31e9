"""The operator's files: search order, ``callcenter init`` and ``callcenter check-config``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from callcenter.deploy.starter import commented_toml, write_starter
from callcenter.locations import PACKAGED_DEFAULTS, config_file_path, find_config
from callcenter.settings import Settings

CLI = [sys.executable, "-m", "callcenter.cli"]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    full_env.update(env or {})
    return subprocess.run([*CLI, *args], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, no CALLCENTER_* from the caller."""
    for key in [k for k in os.environ if k.startswith("CALLCENTER_")]:
        monkeypatch.delenv(key)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def holidays(folder: Path) -> Path:
    path = folder / "reference" / "holidays.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("yearly: []\n", encoding="utf-8")
    return path


def test_search_order_setting_then_config_dir_then_cwd_then_package(
        elsewhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = PACKAGED_DEFAULTS / "reference" / "holidays.yaml"
    assert find_config("reference/holidays.yaml") == packaged
    assert Settings().holidays_file == packaged
    local = holidays(elsewhere)
    assert Settings().holidays_file == local
    config_dir = tmp_path / "etc"
    named = holidays(config_dir)
    monkeypatch.setenv("CALLCENTER_CONFIG", str(config_dir / "callcenter.toml"))
    assert Settings().holidays_file == named
    explicit = holidays(tmp_path / "explicit")
    monkeypatch.setenv("CALLCENTER_HOLIDAYS_FILE", str(explicit))
    assert Settings().holidays_file == explicit


def test_config_file_is_named_one_then_cwd_then_packaged(
        elsewhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_file_path() == PACKAGED_DEFAULTS / "callcenter.toml"
    (elsewhere / "callcenter.toml").write_text("web_port = 9001\n")
    assert config_file_path() == elsewhere / "callcenter.toml"
    assert Settings().web_port == 9001
    named = tmp_path / "named.toml"
    named.write_text("web_port = 9002\n")
    monkeypatch.setenv("CALLCENTER_CONFIG", str(named))
    assert Settings().web_port == 9002


def test_data_lives_under_the_working_directory(elsewhere: Path) -> None:
    settings = Settings()
    assert settings.data_dir == elsewhere / "data"
    assert settings.database_url == f"sqlite:///{elsewhere / 'data' / 'callcenter.db'}"


def test_commented_toml_has_every_key_and_uncommented_loads_as_the_defaults(
        elsewhere: Path) -> None:
    text = commented_toml()
    assert not [line for line in text.splitlines() if line and not line.startswith("#")]
    uncommented = "\n".join(m.group(1) for m in re.finditer(r"^# (\w+ = .*)$", text, re.M))
    values = tomllib.loads(uncommented)
    assert set(values) == set(Settings.model_fields)
    values.pop("database_url")  # shown empty: derived from data_dir
    defaults = Settings()
    computed = {name for name, field in Settings.model_fields.items()
                if field.default_factory is not None and isinstance(values.get(name), str)}
    assert {"data_dir", "reference_dir", "holidays_file", "shahrbin_config_file"} <= computed
    for name in computed:  # shown relative to where the default is found, with a note
        value = getattr(defaults, name)
        assert str(value).endswith(values.pop(name)), name
        assert re.search(rf"^# default: .*\n# {name} = ", text, re.M), name
    loaded = Settings(**values).model_dump()
    assert {k: loaded[k] for k in values} == {k: defaults.model_dump()[k] for k in values}


def test_init_writes_toml_reference_and_asterisk_and_will_not_overwrite(
        tmp_path: Path) -> None:
    target = tmp_path / "etc"
    written = write_starter(target)
    assert target / "callcenter.toml" in written
    for name in ("departments", "categories", "neighbourhoods", "holidays"):
        assert (target / "reference" / f"{name}.yaml").is_file()
    assert (target / "asterisk" / "extensions.conf").is_file()
    (target / "reference" / "holidays.yaml").write_text("edited\n")
    with pytest.raises(FileExistsError, match=r"holidays\.yaml"):
        write_starter(target)
    assert (target / "reference" / "holidays.yaml").read_text() == "edited\n"
    write_starter(target, force=True)
    assert (target / "reference" / "holidays.yaml").read_text() != "edited\n"


def test_check_config_passes_on_an_init_configuration(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "etc"), cwd=tmp_path).returncode == 0
    toml = tmp_path / "etc" / "callcenter.toml"
    done = run_cli("check-config", cwd=tmp_path, env={"CALLCENTER_CONFIG": str(toml)})
    assert done.returncode == 0, done.stderr
    assert f"reference data: {tmp_path / 'etc' / 'reference'}" in done.stdout
    assert "0 problem(s)" in done.stdout


def test_check_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    """Tried together: two bad settings, a category naming an unknown department, an
    SMS catalogue missing a message, a holiday file that is not YAML."""
    etc = tmp_path / "etc"
    write_starter(etc)
    (etc / "callcenter.toml").write_text('ami_port = 70000\ntimezone = "Mars/Olympus"\n')
    categories = etc / "reference" / "categories.yaml"
    categories.write_text(categories.read_text("utf-8").replace(
        "department: ", "department: nowhere-", 1), encoding="utf-8")
    (etc / "sms_messages.yaml").write_text("messages: {}\nstatuses: {}\n")
    (etc / "reference" / "holidays.yaml").write_text("yearly: [unclosed\n")
    done = run_cli("check-config", cwd=tmp_path,
                   env={"CALLCENTER_CONFIG": str(etc / "callcenter.toml")})
    assert done.returncode == 2
    for expected in ("ami_port", "Mars/Olympus", "unknown department 'nowhere-",
                     "missing messages", "holidays.yaml: cannot read holidays"):
        assert expected in done.stderr, (expected, done.stderr)
    assert "Traceback" not in done.stderr
