"""Browser-test fixtures: ``server`` (``serving.py``: a real serve with the test hooks, no
PBX); the PBX test uses the plugin ``tests/support/pbx_plugin.py`` (sandbox Asterisk,
AMI, SIPp and the real ``callcenter serve`` bridge), registered in ``tests/conftest.py``."""

from __future__ import annotations

from serving import server, server_env

__all__ = ["server", "server_env"]
