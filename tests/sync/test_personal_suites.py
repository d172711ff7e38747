"""The two cipher suites give the published answers, and refuse what does not check.

Every vector goes through ``sync.personal.suites``' own functions, so a suite wired to the
wrong algorithm, mode or byte layout fails here: SM3 (GB/T 32905 appendix A), SM4 (GB/T 32907
appendix A), SM4-GCM (RFC 8998 appendix A.1), AES-256-GCM (McGrew and Viega, test case 16),
HMAC-SHA-256 (RFC 4231 test case 2) and HMAC-SM3 (RFC 2104 built by hand on the checked SM3).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from core.errors import HotlineError, InvalidInput
from sync.personal import (
    NONCE_BYTES,
    CipherSuite,
    SealBroken,
    aead_open,
    aead_seal,
    digest,
    keyed_digest,
)

INTERNATIONAL = CipherSuite.INTERNATIONAL
COMMERCIAL = CipherSuite.COMMERCIAL


def test_sm3_of_abc_is_the_published_digest() -> None:
    expected = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert digest(COMMERCIAL, b"abc").hex() == expected


def test_sm3_of_sixty_four_bytes_is_the_published_digest() -> None:
    expected = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert digest(COMMERCIAL, b"abcd" * 16).hex() == expected


def test_sha256_of_abc_is_the_published_digest() -> None:
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert digest(INTERNATIONAL, b"abc").hex() == expected


def test_sm4_block_cipher_gives_the_published_ciphertext() -> None:
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (
        encryptor.update(key) + encryptor.finalize()
    ).hex() == "681edf34d206965e86b3e94f536e4246"


SM4_GCM_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
SM4_GCM_IV = bytes.fromhex("00001234567800000000ABCD")
SM4_GCM_AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
SM4_GCM_PLAINTEXT = bytes.fromhex(
    "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
    "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
)
SM4_GCM_CIPHERTEXT = bytes.fromhex(
    "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
    "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
)
SM4_GCM_TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")


def test_sm4_gcm_seal_gives_rfc8998_ciphertext_followed_by_its_tag() -> None:
    sealed = aead_seal(COMMERCIAL, SM4_GCM_KEY, SM4_GCM_IV, SM4_GCM_PLAINTEXT, SM4_GCM_AAD)
    assert sealed == SM4_GCM_CIPHERTEXT + SM4_GCM_TAG


def test_sm4_gcm_open_of_the_rfc8998_vector_gives_its_plaintext() -> None:
    sealed = SM4_GCM_CIPHERTEXT + SM4_GCM_TAG
    opened = aead_open(COMMERCIAL, SM4_GCM_KEY, SM4_GCM_IV, sealed, SM4_GCM_AAD)
    assert opened == SM4_GCM_PLAINTEXT


AES_KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
AES_IV = bytes.fromhex("cafebabefacedbaddecaf888")
AES_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
AES_PLAINTEXT = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
AES_CIPHERTEXT = bytes.fromhex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
)
AES_TAG = bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")


def test_aes_256_gcm_seal_gives_mcgrew_viega_test_case_16() -> None:
    sealed = aead_seal(INTERNATIONAL, AES_KEY, AES_IV, AES_PLAINTEXT, AES_AAD)
    assert sealed == AES_CIPHERTEXT + AES_TAG


def test_aes_256_gcm_open_of_test_case_16_gives_its_plaintext() -> None:
    opened = aead_open(INTERNATIONAL, AES_KEY, AES_IV, AES_CIPHERTEXT + AES_TAG, AES_AAD)
    assert opened == AES_PLAINTEXT


def test_hmac_sha256_gives_rfc4231_test_case_2() -> None:
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert keyed_digest(INTERNATIONAL, b"Jefe", b"what do ya want for nothing?").hex() == expected


def _sm3(data: bytes) -> bytes:
    hasher = hashes.Hash(hashes.SM3())
    hasher.update(data)
    return hasher.finalize()


def _hmac_by_hand(key: bytes, message: bytes) -> bytes:
    """RFC 2104 over SM3's 64-byte block, written out: the check that does not share code."""
    block = (key if len(key) <= 64 else _sm3(key)).ljust(64, b"\x00")
    inner = _sm3(bytes(b ^ 0x36 for b in block) + message)
    return _sm3(bytes(b ^ 0x5C for b in block) + inner)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (b"Jefe", b"what do ya want for nothing?"),
        (bytes(range(16)), b"hotline.v1.lookup\x00phone\x0013909310001"),
        (b"\xaa" * 131, b"a key longer than the block is hashed first"),
    ],
    ids=["rfc4231-inputs", "lookup", "long-key"],
)
def test_hmac_sm3_is_rfc2104_over_sm3(key: bytes, message: bytes) -> None:
    mac = keyed_digest(COMMERCIAL, key, message)
    assert mac == _hmac_by_hand(key, message)
    assert len(mac) == 32
    assert mac != keyed_digest(INTERNATIONAL, key, message)


@pytest.mark.parametrize("suite", list(CipherSuite))
def test_a_changed_byte_of_ciphertext_tag_or_aad_does_not_open(suite: CipherSuite) -> None:
    key, nonce = bytes(suite.key_bytes), bytes(NONCE_BYTES)
    sealed = aead_seal(suite, key, nonce, b"13909310001", b"aad")
    for at in (0, len(sealed) - 1):
        changed = bytearray(sealed)
        changed[at] ^= 1
        with pytest.raises(SealBroken):
            aead_open(suite, key, nonce, bytes(changed), b"aad")
    with pytest.raises(SealBroken):
        aead_open(suite, key, nonce, sealed, b"other aad")
    with pytest.raises(SealBroken):
        aead_open(suite, key, nonce, sealed[:15], b"aad")
    assert aead_open(suite, key, nonce, sealed, b"aad") == b"13909310001"


@pytest.mark.parametrize("suite", list(CipherSuite))
def test_a_key_of_the_wrong_length_is_a_programming_error_when_sealing(suite: CipherSuite) -> None:
    with pytest.raises(ValueError, match="byte key"):
        aead_seal(suite, bytes(suite.key_bytes + 1), bytes(NONCE_BYTES), b"x", b"")
    with pytest.raises(ValueError, match="nonce"):
        aead_seal(suite, bytes(suite.key_bytes), bytes(NONCE_BYTES - 1), b"x", b"")


def test_a_key_of_the_other_suite_does_not_open_and_says_so_as_seal_broken() -> None:
    sealed = aead_seal(COMMERCIAL, bytes(16), bytes(NONCE_BYTES), b"x", b"")
    with pytest.raises(SealBroken):
        aead_open(INTERNATIONAL, bytes(16), bytes(NONCE_BYTES), sealed, b"")


def test_seal_broken_is_one_of_the_projects_errors() -> None:
    assert issubclass(SealBroken, HotlineError)


def test_suites_have_their_key_lengths_and_chinese_labels() -> None:
    assert (INTERNATIONAL.key_bytes, INTERNATIONAL.label_zh) == (32, "国际算法")
    assert (COMMERCIAL.key_bytes, COMMERCIAL.label_zh) == (16, "商用密码")


@pytest.mark.parametrize(
    ("text", "suite"),
    [
        ("aes-256-gcm/sha-256", INTERNATIONAL),
        ("International", INTERNATIONAL),
        ("sm4-gcm/sm3", COMMERCIAL),
        (" COMMERCIAL ", COMMERCIAL),
        ("SM4-GCM/SM3", COMMERCIAL),
    ],
)
def test_a_suite_is_parsed_from_its_value_or_its_name(text: str, suite: CipherSuite) -> None:
    assert CipherSuite.parse(text) is suite


def test_an_unknown_suite_is_refused_naming_the_field_and_the_allowed_values() -> None:
    with pytest.raises(InvalidInput) as refused:
        CipherSuite.parse("des", field="settings.personal_suite")
    assert refused.value.field == "settings.personal_suite"
    assert "commercial" in refused.value.reason and "aes-256-gcm/sha-256" in refused.value.reason
