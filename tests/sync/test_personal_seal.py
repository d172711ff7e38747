"""Sealed personal data opens only for its ticket and key, and its commitment hides and binds.

The fixed vectors at the end are the ones docs/protocol.md quotes, so another implementation
of the encoding can be checked against them byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from core.ticket.vocabulary import Consumer
from sync.personal import (
    NONCE_BYTES,
    SALT_BYTES,
    CipherSuite,
    SealBroken,
    SealedPersonal,
    aead_seal,
    commitment,
    fresh_seal,
    open_personal,
    parse_personal_plaintext,
    personal_plaintext,
    seal_personal,
    unwrap_key,
    wrap_key,
)

TICKET = "T-20260315-0001"
ZHANG_WEI = Consumer("张伟", "13909310001", "兰州市城关区庆阳路1号", "620102199001011234")
SALT = bytes(range(32))
NONCE = bytes(range(12))
SUITES = list(CipherSuite)


def _dek(suite: CipherSuite) -> bytes:
    return bytes(range(32, 32 + suite.key_bytes))


def _sealed(suite: CipherSuite, salt: bytes = SALT) -> SealedPersonal:
    return seal_personal(suite, TICKET, ZHANG_WEI, dek=_dek(suite), salt=salt, nonce=NONCE)


@pytest.mark.parametrize("suite", SUITES)
def test_sealed_personal_data_opens_to_the_same_consumer(suite: CipherSuite) -> None:
    assert open_personal(_sealed(suite), TICKET, _dek(suite)) == ZHANG_WEI


@pytest.mark.parametrize("suite", SUITES)
def test_sealed_personal_data_holds_no_value_in_clear(suite: CipherSuite) -> None:
    sealed = _sealed(suite)
    stored = sealed.commitment + sealed.nonce + sealed.ciphertext
    for value in ("张伟", "13909310001", "庆阳路", "620102199001011234"):
        assert value.encode() not in stored


@pytest.mark.parametrize("suite", SUITES)
def test_a_wrong_data_key_does_not_open(suite: CipherSuite) -> None:
    wrong = bytes(suite.key_bytes)
    with pytest.raises(SealBroken):
        open_personal(_sealed(suite), TICKET, wrong)


@pytest.mark.parametrize("suite", SUITES)
def test_sealed_data_does_not_open_for_another_ticket(suite: CipherSuite) -> None:
    with pytest.raises(SealBroken):
        open_personal(_sealed(suite), "T-20260315-0002", _dek(suite))


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("at", [0, 40, -1], ids=["first", "middle", "tag"])
def test_one_flipped_byte_of_ciphertext_does_not_open(suite: CipherSuite, at: int) -> None:
    sealed = _sealed(suite)
    changed = bytearray(sealed.ciphertext)
    changed[at] ^= 0x01
    with pytest.raises(SealBroken):
        open_personal(replace(sealed, ciphertext=bytes(changed)), TICKET, _dek(suite))


@pytest.mark.parametrize("suite", SUITES)
def test_the_commitment_of_another_salt_does_not_open(suite: CipherSuite) -> None:
    other = _sealed(suite, salt=bytes(SALT_BYTES))
    with pytest.raises(SealBroken):
        open_personal(replace(_sealed(suite), commitment=other.commitment), TICKET, _dek(suite))


@pytest.mark.parametrize("suite", SUITES)
def test_a_commitment_that_does_not_match_its_plaintext_is_refused_even_if_it_decrypts(
    suite: CipherSuite,
) -> None:
    """A sealer that encrypted other data under the commitment's aad is caught by the
    recomputation, not only by the tag."""
    bogus = b"\x00" * 32
    aad = b"hotline.v1.personal\x00" + TICKET.encode() + b"\x00" + bogus
    ciphertext = aead_seal(suite, _dek(suite), NONCE, personal_plaintext(SALT, ZHANG_WEI), aad)
    forged = SealedPersonal(suite=suite, commitment=bogus, nonce=NONCE, ciphertext=ciphertext)
    with pytest.raises(SealBroken, match="commitment"):
        open_personal(forged, TICKET, _dek(suite))


@pytest.mark.parametrize("suite", SUITES)
def test_the_commitment_hides_the_same_consumer_under_different_salts(suite: CipherSuite) -> None:
    assert _sealed(suite).commitment != _sealed(suite, salt=bytes(SALT_BYTES)).commitment


@pytest.mark.parametrize("suite", SUITES)
def test_the_commitment_binds_the_ticket_id(suite: CipherSuite) -> None:
    plaintext = personal_plaintext(SALT, ZHANG_WEI)
    assert commitment(suite, TICKET, plaintext) != commitment(suite, "T-2", plaintext)
    assert len(commitment(suite, TICKET, plaintext)) == 32


def test_the_two_suites_commit_differently_to_the_same_data() -> None:
    plaintext = personal_plaintext(SALT, ZHANG_WEI)
    international = commitment(CipherSuite.INTERNATIONAL, TICKET, plaintext)
    assert international != commitment(CipherSuite.COMMERCIAL, TICKET, plaintext)


def test_the_plaintext_is_the_header_the_salt_and_four_length_prefixed_fields() -> None:
    encoded = personal_plaintext(SALT, Consumer("张", "1", "", "X"))
    assert encoded == (
        b"HLP1" + SALT + b"\x00\x00\x00\x03" + "张".encode() + b"\x00\x00\x00\x011"
        b"\x00\x00\x00\x00" + b"\x00\x00\x00\x01X"
    )


texts = st.text(max_size=40)


@given(
    salt=st.binary(min_size=SALT_BYTES, max_size=SALT_BYTES),
    consumer=st.builds(Consumer, name=texts, phone=texts, address=texts, id_number=texts),
)
def test_any_consumer_survives_the_canonical_encoding(salt: bytes, consumer: Consumer) -> None:
    assert parse_personal_plaintext(personal_plaintext(salt, consumer)) == (salt, consumer)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-1],
        lambda b: b + b"\x00",
        lambda b: b"HLP2" + b[4:],
        lambda b: b[:30],
        lambda b: b[:36] + b"\xff\xff\xff\xff" + b[40:],
        lambda b: b[:40] + b"\xff\xfe" + b[42:],
    ],
    ids=["cut", "trailing", "header", "no-salt", "huge-length", "not-utf8"],
)
def test_a_malformed_plaintext_is_seal_broken(damage: Callable[[bytes], bytes]) -> None:
    encoded = personal_plaintext(SALT, ZHANG_WEI)
    with pytest.raises(SealBroken):
        parse_personal_plaintext(damage(encoded))


def test_a_salt_of_the_wrong_length_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="salt"):
        personal_plaintext(bytes(16), ZHANG_WEI)


@pytest.mark.parametrize("suite", SUITES)
def test_a_wrapped_data_key_unwraps_under_its_kek_for_its_ticket(suite: CipherSuite) -> None:
    kek = bytes(range(100, 100 + suite.key_bytes))
    wrapped = wrap_key(suite, kek, "kek-620100-1", TICKET, _dek(suite), NONCE)
    assert wrapped[:NONCE_BYTES] == NONCE
    assert _dek(suite) not in wrapped
    assert unwrap_key(suite, kek, "kek-620100-1", TICKET, wrapped) == _dek(suite)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(
    ("kek_id", "ticket_id"),
    [("kek-620100-2", TICKET), ("kek-620100-1", "T-20260315-0002")],
    ids=["other-kek-id", "other-ticket"],
)
def test_a_wrapped_data_key_does_not_unwrap_elsewhere(
    suite: CipherSuite, kek_id: str, ticket_id: str
) -> None:
    kek = bytes(range(100, 100 + suite.key_bytes))
    wrapped = wrap_key(suite, kek, "kek-620100-1", TICKET, _dek(suite), NONCE)
    with pytest.raises(SealBroken):
        unwrap_key(suite, kek, kek_id, ticket_id, wrapped)


@pytest.mark.parametrize("suite", SUITES)
def test_a_wrapped_key_cut_short_or_under_another_kek_does_not_unwrap(suite: CipherSuite) -> None:
    kek = bytes(range(100, 100 + suite.key_bytes))
    wrapped = wrap_key(suite, kek, "k", TICKET, _dek(suite), NONCE)
    with pytest.raises(SealBroken):
        unwrap_key(suite, kek, "k", TICKET, wrapped[:5])
    with pytest.raises(SealBroken):
        unwrap_key(suite, bytes(suite.key_bytes), "k", TICKET, wrapped)


@pytest.mark.parametrize("suite", SUITES)
def test_fresh_seal_draws_a_new_key_salt_and_nonce_each_time(suite: CipherSuite) -> None:
    first, first_dek = fresh_seal(suite, TICKET, ZHANG_WEI)
    second, second_dek = fresh_seal(suite, TICKET, ZHANG_WEI)
    assert len(first_dek) == suite.key_bytes and first.suite is suite
    assert first_dek != second_dek
    assert first.commitment != second.commitment and first.nonce != second.nonce
    assert open_personal(second, TICKET, second_dek) == ZHANG_WEI


# The fixed vectors of docs/protocol.md: ticket T-20260315-0001, the consumer above,
# salt = bytes(range(32)), nonce = bytes(range(12)), dek = bytes(range(32, 32 + key_bytes)).
FIXED = {
    CipherSuite.INTERNATIONAL: (
        "c5b142b74491cdd5117192ba1ba70ded9a542b1c586ec6241c6f5514742f3dad",
        "141e0d964a34e9efb8fccfc12e7a54371f7de76b7a00b4023018c5ada398d183"
        "30c30c221b1f44e30fc75a1c70542ab13202dccd6363ceb6970d3c9914bd63af"
        "5a220eaa136a223cebe373ecd79c7e2662b125577a9bbb83d837aaa4b2bc74f6"
        "4726599e13507cbcce69f7d8dd2f195ae0cc3744ac3913cfff4d024dd5577194"
        "4df5c8ad3717",
    ),
    CipherSuite.COMMERCIAL: (
        "aa6fface80f0e398e51019e6adbde69693a365638e2d8ed66d6c80c039cfee3a",
        "9b07bf289924df4641757e7b4d354aa63e8bce5dcc772b8f203f5c389933c133"
        "6434a7efdfce86c42dc808e841517c770fd168a11aa2e2bc90916a42c33e6364"
        "23a1b641d68226b816bee0a9ac67f5180c29ff9b03a03ab7a8360fe7e5a99331"
        "ecc24cf9fd4d30c78fb7c50e959e6291559421715194e481459ff6142dc32167"
        "a095ec7c638d",
    ),
}


@pytest.mark.parametrize("suite", SUITES)
def test_the_fixed_vector_gives_the_published_commitment_and_ciphertext(
    suite: CipherSuite,
) -> None:
    sealed = _sealed(suite)
    assert (sealed.commitment.hex(), sealed.ciphertext.hex()) == FIXED[suite]


def _written_plaintext() -> bytes:
    """The canonical encoding written out from its description, not from sync.personal."""
    plaintext = b"HLP1" + SALT
    for text in ("张伟", "13909310001", "兰州市城关区庆阳路1号", "620102199001011234"):
        plaintext += len(text.encode()).to_bytes(4, "big") + text.encode()
    return plaintext


def test_the_international_fixed_vector_is_reproduced_from_the_written_rules_alone() -> None:
    """hashlib and AESGCM straight from the layout as documented, without sync.personal."""
    plaintext = _written_plaintext()
    context = b"hotline.v1.personal\x00" + TICKET.encode() + b"\x00"
    committed = hashlib.sha256(context + plaintext).digest()
    ciphertext = AESGCM(bytes(range(32, 64))).encrypt(NONCE, plaintext, context + committed)
    assert (committed.hex(), ciphertext.hex()) == FIXED[CipherSuite.INTERNATIONAL]


def test_the_commercial_fixed_vector_is_reproduced_from_the_written_rules_alone() -> None:
    """SM3 and SM4-GCM from ``cryptography`` directly, without sync.personal."""
    plaintext = _written_plaintext()
    context = b"hotline.v1.personal\x00" + TICKET.encode() + b"\x00"
    hasher = hashes.Hash(hashes.SM3())
    hasher.update(context + plaintext)
    committed = hasher.finalize()
    encryptor = Cipher(algorithms.SM4(bytes(range(32, 48))), modes.GCM(NONCE)).encryptor()
    encryptor.authenticate_additional_data(context + committed)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag
    assert (committed.hex(), ciphertext.hex()) == FIXED[CipherSuite.COMMERCIAL]


@pytest.mark.parametrize("suite", SUITES)
def test_docs_protocol_shows_the_fixed_vector(suite: CipherSuite) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text("utf-8")
    commitment, ciphertext = FIXED[suite]
    assert f"commitment {commitment}" in page
    assert f"ciphertext {ciphertext}" in page


@pytest.mark.parametrize("kek_suite", SUITES)
@pytest.mark.parametrize("data_suite", SUITES)
def test_a_data_key_of_either_suite_is_wrapped_under_a_key_of_either_suite(
    kek_suite: CipherSuite, data_suite: CipherSuite
) -> None:
    """A province that switches suites leaves its nodes' key-encryption keys in the first one:
    an AES-256 data key is wrapped under an SM4 key, and the other way round."""
    kek = bytes(range(kek_suite.key_bytes))
    dek = bytes(range(100, 100 + data_suite.key_bytes))
    wrapped = wrap_key(kek_suite, kek, "k1", TICKET, dek, bytes(12))
    assert unwrap_key(kek_suite, kek, "k1", TICKET, wrapped) == dek
