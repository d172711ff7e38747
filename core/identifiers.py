"""Checks for the identifiers a ticket carries: credit codes and phone numbers.

The unified social credit code (统一社会信用代码, GB 32100-2015) has 18 characters from a
31-letter alphabet (no I, O, Z, S, V); the last is a check character over the first 17.
Catching a mistyped code at intake is what lets routing and the top-ten lists trust it.
"""

from __future__ import annotations

import re

from core.errors import InvalidInput

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?[1-9]\d{6,7}$")


def credit_code_check_character(first17: str) -> str:
    """The check character that completes the 17 leading characters of a credit code."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(code: str, field: str) -> str:
    """Return the code upper-cased if it is a valid credit code, else ``InvalidInput``."""
    normalized = code.strip().upper()
    if len(normalized) != 18:
        raise InvalidInput(field, f"credit code must have 18 characters, got {len(normalized)}")
    bad = sorted({ch for ch in normalized if ch not in _VALUE})
    if bad:
        raise InvalidInput(field, f"credit code has characters outside GB 32100: {''.join(bad)}")
    if not normalized[2:8].isdigit():
        raise InvalidInput(field, "characters 3-8 of a credit code are a region code (digits)")
    expected = credit_code_check_character(normalized[:17])
    if normalized[17] != expected:
        raise InvalidInput(
            field, f"check character is {normalized[17]!r} but should be {expected!r}"
        )
    return normalized


def check_phone(phone: str, field: str) -> str:
    """Return the number without spaces if it is a mainland mobile or landline number."""
    normalized = re.sub(r"[\s()]", "", phone)
    if normalized.startswith("+86"):
        normalized = normalized[3:]
    if not (_MOBILE.match(normalized) or _LANDLINE.match(normalized)):
        raise InvalidInput(
            field, f"{phone!r} is not a mobile (11 digits from 1) or landline (0xx-xxxxxxx) number"
        )
    return normalized
