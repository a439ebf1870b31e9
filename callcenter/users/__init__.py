"""users capability."""
