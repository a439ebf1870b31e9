"""The agent's screen-pop panel: queue login and breaks, pops, request form, follow-ups."""
