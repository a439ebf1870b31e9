"""Bounded, decoded request bodies for the public intake endpoints (SMS, Open311, CRM)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from callcenter.errors import DomainError, InvalidInput


class PayloadTooLarge(DomainError):
    error_id = "payload-too-large"
    status_code = 413


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refusing (413) past ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("request body too large", limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("request body too large", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_form(raw: bytes) -> dict[str, str]:
    """``application/x-www-form-urlencoded`` UTF-8 into a dict (last value wins)."""
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                              strict_parsing=bool(raw)))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body is not form-encoded UTF-8") from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object")
    return data
