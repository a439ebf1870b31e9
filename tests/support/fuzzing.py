"""The fuzz harnesses' shared budget and secrets (``tests/fuzz``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("FUZZ_EXAMPLES", "1"))
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
SHAHRBIN_SECRET = "shahrbin-webhook-secret-for-fuzzing"
BASE = "https://cc137.yazd.example"
CLIENTS = {"app-key-1": {"name": "yazd-app", "channel": "app"},
           "web-key-1": {"name": "web-form", "channel": "web"}}


def bounded(examples: int) -> settings:
    """A harness's budget: ``examples`` inputs (times ``FUZZ_EXAMPLES``), no deadline
    (the store's timing is not what is tested), no example database written."""
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None,
                    database=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.function_scoped_fixture])
