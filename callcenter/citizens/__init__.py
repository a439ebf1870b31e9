"""citizens capability."""
