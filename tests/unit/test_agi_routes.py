"""The classic ``callcenter-agi`` entry point builds the same flows from settings alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.agi.routes import build_routes


def test_build_routes_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    routes = build_routes()
    assert set(routes) == {"main", "callback", "survey"}
    assert all(callable(handler) for handler in routes.values())


def test_build_routes_with_bad_settings_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: a broken AMI port in the environment of an AGI script."""
    monkeypatch.setenv("CALLCENTER_AMI_PORT", "x")
    with pytest.raises(Exception, match="ami_port"):
        build_routes()
