"""Jinja2 templates and the language switch (``?lang=`` query, ``cc_lang`` cookie)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse

from callcenter.deps import get_services
from callcenter.web.formatting import digits, duration, local_datetime, national, percent
from callcenter.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogue_for, translate
from callcenter.web.templates import script_json

LANGUAGE_COOKIE = "cc_lang"


def language_of(request: Request) -> str:
    """``?lang=en`` wins, then the ``cc_lang`` cookie, then Persian."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def render(request: Request, name: str, context: dict[str, Any], *,
           status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the language helpers; remembers a ``?lang=`` choice."""
    services = get_services(request)
    lang = language_of(request)
    tz = services.settings.timezone
    base: dict[str, Any] = {
        "lang": lang,
        "dir": "rtl" if lang == "fa" else "ltr",
        "other_lang": "en" if lang == "fa" else "fa",
        "t": lambda key: translate(key, lang),
        "num": lambda value: digits(value, lang),
        "when": lambda value, with_date=True: local_datetime(
            value, timezone=tz, language=lang, with_date=with_date),
        "dur": lambda seconds: duration(seconds, lang),
        "pct": lambda value: percent(value, lang),
        "tel": lambda phone: digits(national(phone), lang) if phone else "",
        "strings": catalogue_for(lang),
    }
    user = context.get("user")
    if user is not None:
        base["boot_json"] = script_json({"csrf": user.csrf_token, "lang": lang,
                                         "strings": base["strings"],
                                         **context.get("boot", {})})
    response = services.templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status_code
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response
