"""Tracking codes: 8 digits, random (not sequential), the last a Damm check digit.

The Damm check (python-stdnum) catches every single-digit error and every swap of
adjacent digits, which is what a caller typing on a keypad gets wrong.
"""

from __future__ import annotations

import secrets

from stdnum import damm

from callcenter.digits import ascii_digits

CODE_LENGTH = 8


def check_digit(body: str) -> str:
    """The Damm digit to append to ``body``."""
    return str(damm.calc_check_digit(body))


def normalise_code(code: str) -> str:
    """Strip spaces/dashes and turn Persian or Arabic digits into ASCII."""
    return "".join(ch for ch in ascii_digits(code or "") if ch not in " -\u200c")


def is_valid_code(code: str) -> bool:
    """True for a well-formed code whose check digit matches (Persian digits accepted)."""
    code = normalise_code(code)
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit() and damm.is_valid(code)


def generate_code() -> str:
    """A fresh random code; uniqueness is enforced by the database (caller retries)."""
    body = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(CODE_LENGTH - 2)
    )
    return body + check_digit(body)
