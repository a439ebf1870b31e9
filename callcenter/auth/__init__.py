"""Login, signed session cookies, CSRF tokens and roles for every page, API and websocket."""
