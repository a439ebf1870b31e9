"""calls capability."""
