"""Iranian phone numbers normalised to one E.164 identity (0913…, +98913…, 98913…)."""

from __future__ import annotations

import re

import phonenumbers

from callcenter.digits import ascii_digits
from callcenter.errors import InvalidInput

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits, as typed on Iranian phones.
_SEPARATORS = re.compile(r"[\s\-().\u200c\u200f\u200e]")


class InvalidPhone(InvalidInput):
    error_id = "invalid-phone"


def normalise_phone(raw: str) -> str:
    """Return the E.164 form (``+989131234567``) or raise ``InvalidPhone``."""
    text = _SEPARATORS.sub("", ascii_digits(raw or ""))
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("98") and len(text) == 12:
        text = "+" + text
    elif text.startswith("9") and len(text) == 10:
        text = "0" + text
    try:
        number = phonenumbers.parse(text, "IR")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number", reason=str(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """A phone number fit for logs at INFO: only the last 3 digits."""
    return "*" * max(len(phone) - 3, 0) + phone[-3:]
