"""Contact-center figures (offered, answered, service level...) and the request backlog."""
