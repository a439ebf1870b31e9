"""followups capability."""
