"""Durable citizen messages: a row first (in the transaction that caused it), then sent
by a store-backed delivery loop with retries and backoff, on any channel (SMS today)."""
