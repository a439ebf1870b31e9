"""Stored call records: one row per ended call (the tracker in ``calls/`` is pure)."""
