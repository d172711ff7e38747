"""Look-up keys match one number however it is written, and only under the same key."""

from __future__ import annotations

import pytest

from sync.personal import CipherSuite, keyed_digest, lookup_key, normalized_id_number
from sync.personal import normalized_phone as phone

KEY = bytes(range(16))


@pytest.mark.parametrize(
    "written",
    [
        "13909310001",
        "+86 139 0931 0001",
        "86-139-0931-0001",
        "0086 13909310001",
        "１３９０９３１０００１",
    ],
)
def test_a_mobile_with_any_country_prefix_or_width_is_its_eleven_digits(written: str) -> None:
    assert phone(written) == "13909310001"


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("0931-8451234", "09318451234"),
        ("(0931) 845 1234", "09318451234"),
        ("+86 0931-8451234", "09318451234"),
        ("010-12345678", "01012345678"),
        ("8451234", "8451234"),
        ("", ""),
    ],
)
def test_a_landline_keeps_its_area_code_digits(written: str, digits: str) -> None:
    assert phone(written) == digits


def test_an_id_number_loses_its_spaces_and_its_check_x_is_upper_case() -> None:
    assert normalized_id_number(" 620102 19900101 123x ") == "62010219900101123X"


@pytest.mark.parametrize("suite", list(CipherSuite))
def test_a_lookup_key_is_32_hex_digits_of_the_keyed_digest(suite: CipherSuite) -> None:
    key = lookup_key(suite, KEY, "phone", "13909310001")
    message = b"hotline.v1.lookup\x00phone\x0013909310001"
    assert key == keyed_digest(suite, KEY, message)[:16].hex()
    assert len(key) == 32 and "13909310001" not in key


@pytest.mark.parametrize("suite", list(CipherSuite))
def test_lookup_keys_differ_by_key_kind_and_suite(suite: CipherSuite) -> None:
    key = lookup_key(suite, KEY, "phone", "13909310001")
    assert key != lookup_key(suite, bytes(16), "phone", "13909310001")
    assert key != lookup_key(suite, KEY, "id", "13909310001")
    other = next(s for s in CipherSuite if s is not suite)
    assert key != lookup_key(other, KEY, "phone", "13909310001")


def test_no_value_has_no_lookup_key() -> None:
    assert lookup_key(CipherSuite.COMMERCIAL, KEY, "id", "") == ""


def test_a_lookup_key_of_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="phone or id"):
        lookup_key(CipherSuite.INTERNATIONAL, KEY, "name", "张伟")
