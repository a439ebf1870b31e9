"""Open311 GeoReport v2 for the app, web form and social-media integrations."""
