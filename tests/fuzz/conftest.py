"""Fuzz harnesses of the web surfaces (hypothesis): each runs a bounded number of
inputs against the real app on SQLite (one app for all, the store shared between
inputs) and checks the surface's promise - above all, never a 5xx.

``FUZZ_EXAMPLES`` scales every harness (default 1: ~1 minute in all; CI runs that)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from support.panels import Panels, build_panels

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


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panels]:
    """The real app with limits high enough that the fuzzer reaches the parsers (one for
    every harness: building it, argon2 hashes included, is the slow part)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    yield from build_panels(
        f"sqlite:///{tmp / 'fuzz.db'}", tmp, twilio_auth_token=TWILIO_TOKEN,
        public_base_url=BASE, shahrbin_webhook_secret=SHAHRBIN_SECRET,
        open311_clients=CLIENTS, open311_posts_per_minute=100_000,
        open311_reads_per_minute=100_000, status_lookups_per_minute=100_000,
        login_max_failures=100_000, login_user_max_failures=100_000)
