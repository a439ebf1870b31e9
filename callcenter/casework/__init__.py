"""Case page, case search and triage view (issue 16)."""
