"""The supervisor's live page: waiting callers, agents, today's figures, backlog."""
