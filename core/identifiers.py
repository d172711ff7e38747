"""Checks for the identifiers a ticket carries: credit codes, phone and ID numbers, digests.

The unified social credit code (统一社会信用代码, GB 32100-2015) has 18 characters from a
31-letter alphabet (no I, O, Z, S, V); the last is a check character over the first 17.
Catching a mistyped code at intake is what lets routing and the top-ten lists trust it. The
citizen identity number (公民身份号码, GB 11643-1999) has 17 digits (the region, the birth date
and a sequence number) and a check character (0-9 or X, ISO 7064 MOD 11-2): the filer's number
is what recognises a repeat filer (``core.incidents``), so a mistyped one is refused. An
attachment is referred to by its SHA-256 digest, 64 hexadecimal digits.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from core.errors import InvalidInput
from core.limits import shown

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_REFERENCE = re.compile(r"^[\x21-\x7e]{1,64}$")
_CODE_PREFIX = re.compile(r"^\d{0,9}$")

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


def id_number_check_character(first17: str) -> str:
    """The check character that completes the 17 leading digits of an ID number."""
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def check_id_number(number: str, field: str) -> str:
    """The 18-character citizen ID number (GB 11643), spaces removed and ``x`` upper-cased;
    else ``InvalidInput`` saying what is wrong with it."""
    normalized = re.sub(r"\s", "", unicodedata.normalize("NFKC", number)).upper()
    if len(normalized) != 18:
        raise InvalidInput(field, f"an ID number has 18 characters, not {len(normalized)}")
    if not _ID_NUMBER.match(normalized):
        raise InvalidInput(field, "an ID number is 17 digits and a check character (0-9 or X)")
    try:
        date(int(normalized[6:10]), int(normalized[10:12]), int(normalized[12:14]))
    except ValueError:
        raise InvalidInput(
            field, f"characters 7-14 ({normalized[6:14]}) are not a birth date"
        ) from None
    if normalized[6:8] not in ("18", "19", "20"):
        raise InvalidInput(field, f"birth year {normalized[6:10]} is not plausible")
    expected = id_number_check_character(normalized[:17])
    if normalized[17] != expected:
        raise InvalidInput(
            field, f"check character is {normalized[17]!r} but should be {expected!r}"
        )
    return normalized


def check_sha256(digest: str, field: str) -> str:
    """A SHA-256 digest as 64 lower-case hexadecimal digits (upper case is accepted)."""
    normalized = digest.strip().lower()
    if not _SHA256.match(normalized):
        raise InvalidInput(field, f"a SHA-256 digest is 64 hexadecimal digits, not {shown(digest)}")
    return normalized


def check_reference(value: str, field: str) -> str:
    """An id the node made or a caller chose (a ticket id, a node id, a page token...): 1 to
    64 printable ASCII characters without spaces. A read for one that no id can be is refused
    before the database is asked."""
    if not _REFERENCE.match(value):
        raise InvalidInput(
            field, f"must be 1 to 64 printable characters without spaces, not {shown(value)}"
        )
    return value


def check_code_prefix(prefix: str, field: str) -> str:
    """The start of a unit code ("" for all): at most 9 digits."""
    if not _CODE_PREFIX.match(prefix):
        raise InvalidInput(
            field, f"the start of a unit code is up to 9 digits, not {shown(prefix)}"
        )
    return prefix


_MOBILE_DIGITS = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_DIGITS = re.compile(r"^0\d{2,3}[1-9]\d{6,7}$")


def normalized_phone(phone: str) -> str:
    """A phone number as compared: its digits only (width-folded), a country prefix ``+86``,
    ``86`` or ``0086`` removed before a mobile or a landline with its area code. Call-takers
    write one number in many ways; the filer's keys and masks must see one form."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))
    for prefix in ("0086", "86"):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and (
            _MOBILE_DIGITS.match(rest)
            or _LANDLINE_DIGITS.match(rest)
            or (prefix == "86" and len(digits) == 13)
        ):
            return rest
    return digits


def normalized_id_number(text: str) -> str:
    """An ID number as compared: width-folded, no spaces, a check character ``x`` upper-cased.
    Unlike ``check_id_number`` it refuses nothing, for numbers already stored."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()


def check_phone(phone: str, field: str) -> str:
    """Return the number without spaces if it is a mainland mobile or landline number."""
    normalized = re.sub(r"[\s()]", "", phone)
    if normalized.startswith("+86"):
        normalized = normalized[3:]
    if not (_MOBILE.match(normalized) or _LANDLINE.match(normalized)):
        raise InvalidInput(
            field,
            f"{shown(phone)} is not a mobile (11 digits from 1) or landline (0xx-xxxxxxx) number",
        )
    return normalized
