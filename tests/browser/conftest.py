"""Browser-test fixtures (the server and chromium settings live in ``serving.py``)."""

from serving import server

__all__ = ["server"]
