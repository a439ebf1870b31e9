"""Jalali dates, Persian digits and durations, in the configured time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime

from callcenter.clock import as_utc
from callcenter.digits import persian_digits


def digits(value: object, language: str) -> str:
    """``value`` as text, with Persian digits in Persian."""
    text = "" if value is None else str(value)
    return persian_digits(text) if language == "fa" else text


def local_datetime(value: datetime | None, *, timezone: str, language: str,
                   with_date: bool = True) -> str:
    """A stored UTC time shown in ``timezone``: Jalali in Persian, ISO-like in English."""
    if value is None:
        return ""
    local = as_utc(value).astimezone(ZoneInfo(timezone))
    if language == "fa":
        jalali = jdatetime.datetime.fromgregorian(datetime=local)
        text = jalali.strftime("%Y/%m/%d %H:%M") if with_date else jalali.strftime("%H:%M")
        return digits(text, "fa")
    return local.strftime("%Y-%m-%d %H:%M") if with_date else local.strftime("%H:%M")


def duration(seconds: float | None, language: str) -> str:
    """``m:ss`` (or ``h:mm:ss``) with the language's digits."""
    if seconds is None:
        return ""
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return digits(text, language)


def percent(value: float | None, language: str) -> str:
    if value is None:
        return "—"
    return digits(f"{value * 100:.0f}", language) + ("٪" if language == "fa" else "%")


def national(phone: str) -> str:
    """``+989131234567`` -> ``0913 123 4567`` (how people here read and say it)."""
    if phone.startswith("+98") and len(phone) == 13:
        rest = "0" + phone[3:]
        return f"{rest[:4]} {rest[4:7]} {rest[7:]}"
    return phone
