"""Settings: wrong or missing values stop the program with the key, the file and exit 2."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.settings import (
    SECRETS_OF_OPTIONAL_PARTS,
    Settings,
    SettingsError,
    load_settings,
    secret_keys,
)

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "callcenter.cli"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    full_env.update(env)
    return subprocess.run([*CLI, *args], env=full_env, capture_output=True, text=True,
                          timeout=60, cwd=REPO, check=False)


def test_defaults_are_loopback_sqlite_and_tehran(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'callcenter.db'}"
    assert (settings.ami_host, settings.agi_host, settings.web_host) == ("127.0.0.1",) * 3
    assert settings.timezone == "Asia/Tehran"
    assert settings.service_level_seconds == 20


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"CALLCENTER_AMI_PORT": "not-a-port"}, "ami_port"),
        ({"CALLCENTER_AMI_PORT": "70000"}, "ami_port"),
        ({"CALLCENTER_TIMEZONE": "Mars/Olympus"}, "timezone"),
        ({"CALLCENTER_DATABASE_URL": "mysql://x"}, "database_url"),
        ({"CALLCENTER_SMS_PROVIDER": "pigeon"}, "sms_provider"),
        ({"CALLCENTER_ENVIRONMENT": "production"}, "secret_key"),
    ],
)
def test_bad_setting_exits_2_naming_key_and_file(env: dict[str, str], key: str) -> None:
    """Tried: a non-numeric and an out-of-range port, an unknown zone, an unsupported
    database, an unknown SMS provider, production with placeholder secrets."""
    result = run_cli("db", "upgrade", env=env)
    assert result.returncode == 2, result.stderr
    assert key in result.stderr
    assert "callcenter.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_config_file_names_the_file(tmp_path: Path) -> None:
    """Tried: a TOML file with a syntax error, and a key that does not exist."""
    bad = tmp_path / "bad.toml"
    bad.write_text("ami_port = = 5\n")
    result = run_cli("db", "upgrade", env={"CALLCENTER_CONFIG": str(bad)})
    assert result.returncode == 2
    assert str(bad) in result.stderr and "Traceback" not in result.stderr
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('ami_prot = 5038\n')
    result = run_cli("db", "upgrade", env={"CALLCENTER_CONFIG": str(unknown)})
    assert result.returncode == 2
    assert "ami_prot" in result.stderr and str(unknown) in result.stderr


def real_secrets() -> dict[str, str]:
    real = {key: secrets.token_urlsafe(32) for key in secret_keys()}
    real["twilio_auth_token"] = secrets.token_hex(16)  # as Twilio issues it
    return real


def test_production_refuses_each_placeholder_secret() -> None:
    real = real_secrets()
    assert {"secret_key", "ami_secret", "twilio_auth_token"} <= set(real)
    Settings(environment="production", **real)  # all real: accepted
    for key in real:
        # a part's own secrets (the bot's) with that part on
        parts = {part: True for k, part in SECRETS_OF_OPTIONAL_PARTS.items() if k == key}
        with pytest.raises(SettingsError, match=key):
            load_settings(environment="production", **{**real, **parts, key: "change-me"})


@pytest.mark.parametrize("weak", ["", " ", "x", " dev-" + "a" * 40, "  change-me  ",
                                  "short-but-not-a-placeholder", "a" * 40,
                                  secrets.token_urlsafe(32) + " "])
def test_production_refuses_empty_short_trivial_and_padded_secrets(weak: str) -> None:
    """Tried on every secret at once: empty, blank, one character, a placeholder behind a
    space, a 27-character word, 40 times the same letter, a real value with a trailing
    space. Before the fix only a value *starting* with a placeholder word was refused, so
    an empty ``secret_key`` let anyone mint a supervisor cookie. (The bot's secrets are
    checked only with the bot on: tests/unit/test_bot_settings.py.)"""
    with pytest.raises(SettingsError) as raised:
        load_settings(environment="production", **{key: weak for key in secret_keys()})
    for key in set(secret_keys()) - set(SECRETS_OF_OPTIONAL_PARTS):
        # every bad key named in the one error, not just the first
        assert key in str(raised.value), (key, str(raised.value))


def test_production_twilio_token_must_be_what_twilio_issues() -> None:
    """Tried: a long random token that is not 32 hex characters (Twilio signs with the
    real one, so such a token can only be a mistake)."""
    real = real_secrets()
    with pytest.raises(SettingsError, match="twilio_auth_token") as raised:
        load_settings(environment="production",
                      **{**real, "twilio_auth_token": secrets.token_urlsafe(32)})
    assert "secret_key" not in str(raised.value)
    Settings(environment="production", **{**real, "twilio_auth_token":
                                          real["twilio_auth_token"].upper()})


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_AMI_PORT", "6038")
    assert load_settings().ami_port == 6038
