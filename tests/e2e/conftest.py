"""End-to-end tests: the real sandbox Asterisk 22, SIPp callers and agents, AMI.

Tier: these tests need root, Debian's ``sip-tester`` and the sandbox chroot
(``scripts/ci-provision`` installs all of it; ``docs/pbx-sandbox.md``). They
fail, never skip, when the PBX cannot be brought up: CI always can. The fixtures are
the plugin ``tests/support/pbx_plugin.py`` (shared with ``tests/browser``).
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder needs the real PBX: mark it ``pbx``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.pbx)
