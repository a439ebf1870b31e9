"""Append-only history of agent states (for the per-agent report)."""
