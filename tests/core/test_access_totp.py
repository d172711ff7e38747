"""TOTP codes (RFC 6238): the appendix B vectors, the window, spent steps, the otpauth URI."""

from __future__ import annotations

import pytest

from core.access import totp
from core.errors import InvalidInput

SEED_SHA1 = b"12345678901234567890"
SEED_SHA256 = b"12345678901234567890123456789012"
SEED_SHA512 = b"1234567890123456789012345678901234567890123456789012345678901234"

RFC_6238_APPENDIX_B = [
    # (Unix seconds, SHA-1, SHA-256, SHA-512): eight digits each, as the RFC prints them
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("seconds", "sha1", "sha256", "sha512"), RFC_6238_APPENDIX_B)
def test_codes_are_those_of_rfc_6238_appendix_b(
    seconds: int, sha1: str, sha256: str, sha512: str
) -> None:
    at = seconds * 1000
    assert totp.totp(SEED_SHA1, at, digits=8) == sha1
    assert totp.totp(SEED_SHA256, at, digits=8, algorithm="sha256") == sha256
    assert totp.totp(SEED_SHA512, at, digits=8, algorithm="sha512") == sha512


def test_an_officer_s_code_is_the_last_six_digits_of_the_sha1_vector() -> None:
    # Six digits are the same number modulo 10^6: the vector's last six.
    assert totp.totp(SEED_SHA1, 1111111109_000) == "081804"
    assert totp.totp(SEED_SHA1, 59_000) == "287082"


def test_a_code_holds_for_its_thirty_seconds_and_one_step_either_side() -> None:
    at = 1111111109_000
    code = totp.totp(SEED_SHA1, at)
    step = totp.step_at(at)
    assert totp.matching_step(SEED_SHA1, code, at) == step
    assert totp.matching_step(SEED_SHA1, code, at + 30_000) == step  # typed as it changed
    assert totp.matching_step(SEED_SHA1, code, at - 30_000) == step  # a phone a little fast
    assert totp.matching_step(SEED_SHA1, code, at + 60_000) is None
    assert totp.matching_step(SEED_SHA1, code, at - 60_000) is None


def test_a_wrong_or_malformed_code_matches_no_step() -> None:
    at = 1234567890_000
    near = {totp.totp(SEED_SHA1, at + d * 30_000) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in near)
    assert totp.matching_step(SEED_SHA1, wrong, at) is None
    assert totp.matching_step(SEED_SHA1, "", at) is None
    assert totp.matching_step(SEED_SHA1, "12345678901234567890", at) is None


def test_the_secret_reads_back_from_its_base32_text_as_apps_show_it() -> None:
    text = totp.secret_text(SEED_SHA1)
    assert text == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    spaced = " ".join(text[i : i + 4] for i in range(0, len(text), 4)).lower()
    assert totp.secret_bytes(spaced) == SEED_SHA1


def test_a_secret_that_is_not_base32_or_too_short_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput, match="totp_secret"):
        totp.secret_bytes("not base32!")
    with pytest.raises(InvalidInput, match="80 bits"):
        totp.secret_bytes("GEZDGNBV")


def test_the_otpauth_uri_names_issuer_account_and_the_parameters() -> None:
    uri = totp.otpauth_uri(SEED_SHA1, "620102-07", "12315-620102")
    assert uri == (
        "otpauth://totp/12315-620102%3A620102-07?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        "&issuer=12315-620102&algorithm=SHA1&digits=6&period=30"
    )
