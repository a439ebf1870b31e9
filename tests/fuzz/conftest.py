"""Fuzz harnesses of the web surfaces (hypothesis): each runs a bounded number of
inputs against the real app on SQLite (one app for all, the store shared between
inputs) and checks the surface's promise - above all, never a 5xx.

``FUZZ_EXAMPLES`` scales every harness (default 1: ~1 minute in all; CI runs that)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.fuzzing import BASE, CLIENTS, SHAHRBIN_SECRET, TWILIO_TOKEN
from support.panels import Panels, build_panels


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
