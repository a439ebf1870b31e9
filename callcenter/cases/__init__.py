"""cases capability."""
