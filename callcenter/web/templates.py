"""The app's Jinja2 template set (built once by ``compose``) and JSON safe in a page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"


def script_json(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``</script>`` or ``<!--`` can break out."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def build_templates() -> Jinja2Templates:
    """The panels' templates with the ``tojson_safe`` filter-function."""
    found = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    found.env.globals["tojson_safe"] = script_json
    return found
