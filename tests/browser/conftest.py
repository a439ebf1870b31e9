"""Browser-test fixtures: ``server`` (``serving.py``: a real serve, no PBX) and, for the
PBX test, the e2e fixtures (``tests/e2e/conftest.py``: sandbox Asterisk, AMI, SIPp and the
real ``callcenter serve`` bridge), loaded from there rather than copied."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from serving import server

E2E = Path(__file__).resolve().parents[1] / "e2e"
sys.path.insert(0, str(E2E))
_spec = importlib.util.spec_from_file_location("e2e_fixtures", E2E / "conftest.py")
assert _spec is not None and _spec.loader is not None
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)
pbx, ami, sipp, bridge_env, bridge = (_e2e.pbx, _e2e.ami, _e2e.sipp, _e2e.bridge_env,
                                      _e2e.bridge)

__all__ = ["ami", "bridge", "bridge_env", "pbx", "server", "sipp"]
