"""Public status page by tracking code: status, department and dates only."""
