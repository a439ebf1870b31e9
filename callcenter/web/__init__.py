"""Server-rendered UI: templates, the string catalogue, Jalali dates and Persian digits."""
