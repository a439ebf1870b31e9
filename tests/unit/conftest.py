"""Fixtures of the web tests: ``panels``, the app over each backend with staff accounts
(``tests/support/panels.py``). A module changes its settings by overriding
``panel_settings``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.panels import Panels, build_panels


@pytest.fixture
def panel_settings() -> dict[str, Any]:
    """Settings overrides of the ``panels`` app (none by default)."""
    return {}


@pytest.fixture
def panels(empty_database_url: str, tmp_path: Path,
           panel_settings: dict[str, Any]) -> Iterator[Panels]:
    """The app on each backend (SQLite, and PostgreSQL when configured), staff created."""
    yield from build_panels(empty_database_url, tmp_path, **panel_settings)
