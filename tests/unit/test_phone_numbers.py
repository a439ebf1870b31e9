"""Iranian phone formats all normalise to one citizen identity."""

from __future__ import annotations

import pytest

from callcenter.citizens.phone import InvalidPhone, mask_phone, normalise_phone

SAME_PERSON = [
    "09131234567",
    "+989131234567",
    "989131234567",
    "00989131234567",
    "9131234567",
    "0913 123 4567",
    "0913-123-4567",
    "(0913) 123-4567",
    "۰۹۱۳۱۲۳۴۵۶۷",
    "+۹۸۹۱۳۱۲۳۴۵۶۷",
    "٠٩١٣١٢٣٤٥٦٧",
    "0913\u200c123\u200c4567",
]


@pytest.mark.parametrize("raw", SAME_PERSON)
def test_formats_normalise_to_one_identity(raw: str) -> None:
    assert normalise_phone(raw) == "+989131234567"


def test_landline_of_yazd() -> None:
    assert normalise_phone("035 3626 1234") == "+983536261234"


@pytest.mark.parametrize("raw", ["", "abc", "12", "0913123", "+1 555", "09131234567890"])
def test_garbage_is_rejected_with_a_domain_error(raw: str) -> None:
    with pytest.raises(InvalidPhone) as info:
        normalise_phone(raw)
    assert info.value.error_id == "invalid-phone"


def test_mask_keeps_only_last_digits() -> None:
    assert mask_phone("+989131234567") == "**********567"
