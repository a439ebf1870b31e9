"""Deployment: ``callcenter init`` (a starting configuration) and ``check-config``."""
