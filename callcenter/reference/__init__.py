"""reference capability."""
