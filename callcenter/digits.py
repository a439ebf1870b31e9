"""The one table of Persian and Arabic-Indic digits: to ASCII for what citizens type,
to Persian for what they read."""

from __future__ import annotations

PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans(PERSIAN + ARABIC_INDIC, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN)


def ascii_digits(text: str) -> str:
    """Persian (U+06F0...) and Arabic-Indic (U+0660...) digits as 0-9; the rest as is."""
    return text.translate(_TO_ASCII)


def persian_digits(text: str) -> str:
    """0-9 as Persian digits (SMS texts, Persian pages)."""
    return text.translate(_TO_PERSIAN)
