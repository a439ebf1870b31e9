"""Tracking codes: every single-digit typo and every adjacent swap is caught."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from callcenter.cases.tracking import (
    CODE_LENGTH,
    check_digit,
    generate_code,
    is_valid_code,
    normalise_code,
)

bodies = st.text(alphabet="0123456789", min_size=CODE_LENGTH - 1, max_size=CODE_LENGTH - 1)


def test_generated_codes_are_valid_numeric_and_not_sequential() -> None:
    codes = [generate_code() for _ in range(200)]
    assert all(len(c) == CODE_LENGTH and c.isdigit() and is_valid_code(c) for c in codes)
    assert len(set(codes)) > 190
    ints = [int(c) for c in codes]
    assert sum(1 for a, b in itertools.pairwise(ints) if b == a + 1) == 0


@given(bodies, st.integers(0, CODE_LENGTH - 1), st.integers(1, 9))
def test_every_single_digit_error_is_detected(body: str, pos: int, delta: int) -> None:
    code = body + check_digit(body)
    wrong = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1:]
    assert is_valid_code(code)
    assert not is_valid_code(wrong)


@given(bodies, st.integers(0, CODE_LENGTH - 2))
def test_every_adjacent_swap_is_detected(body: str, pos: int) -> None:
    code = body + check_digit(body)
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
    if swapped != code:
        assert not is_valid_code(swapped)


def test_persian_digits_and_separators_are_accepted() -> None:
    code = generate_code()
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert normalise_code(persian[:4] + " - " + persian[4:]) == code
    assert is_valid_code(persian)


def test_malformed_codes_are_invalid() -> None:
    for bad in ["", "1234", "abcdefgh", "123456789012", None]:
        assert not is_valid_code(bad)  # type: ignore[arg-type]
