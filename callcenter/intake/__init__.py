"""Unified intake: every channel files requests through ``services.file_request``."""
