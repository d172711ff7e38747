"""The two cipher suites (密码套件) a province may choose for its personal data.

A province chooses between the international algorithms (AES-256-GCM, SHA-256, HMAC-SHA-256)
and the Chinese commercial suite, 商用密码 (SM4-GCM per RFC 8998, SM3 per GB/T 32905,
HMAC-SM3), which the State Cryptography Administration requires of some government systems.
Everything that seals, commits to or keys a look-up on personal data goes through the four
functions here, so that the rest of ``sync.personal`` is written once for both suites and a
suite is one value carried beside what it protected.

Errors of ``cryptography`` are turned into ``SealBroken`` here, at the boundary, so a caller
has one error for "these bytes do not check" whatever the suite.
"""

from __future__ import annotations

import enum
import hashlib
import hmac as std_hmac
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import HotlineError, InvalidInput

NONCE_BYTES = 12
"""The GCM nonce length both suites use (96 bits, the length GCM is defined for directly)."""

TAG_BYTES = 16
"""The GCM authentication tag appended to every ciphertext (128 bits, never truncated)."""

DIGEST_BYTES = 32
"""SHA-256 and SM3 both give 256-bit digests, so stored commitments have one length."""


class CipherSuite(enum.Enum):
    """A province's choice of algorithms, 密码套件; the value is what is stored and signed."""

    INTERNATIONAL = "aes-256-gcm/sha-256"
    COMMERCIAL = "sm4-gcm/sm3"  # 商用密码 (GB/T 32907 SM4, GB/T 32905 SM3)

    @property
    def key_bytes(self) -> int:
        """The length of a data or key-encryption key: AES-256 takes 32 bytes, SM4 16."""
        return 32 if self is CipherSuite.INTERNATIONAL else 16

    @property
    def label_zh(self) -> str:
        """The suite's name as a Chinese operator knows it, for settings and status pages."""
        return "国际算法" if self is CipherSuite.INTERNATIONAL else "商用密码"

    @classmethod
    def parse(cls, text: str, field: str = "suite") -> CipherSuite:
        """The suite a setting or request names, by value (``sm4-gcm/sm3``) or by name
        (``commercial``), case-insensitive; ``InvalidInput`` naming the allowed spellings."""
        known = _BY_VALUE.get(text)  # every stored seal names its suite exactly so: no search
        if known is not None:
            return known
        wanted = text.strip().lower()
        for suite in cls:
            if wanted in (suite.value, suite.name.lower()):
                return suite
        allowed = ", ".join(f"{s.name.lower()} ({s.value})" for s in cls)
        raise InvalidInput(field, f"unknown cipher suite {text!r}; allowed: {allowed}")


_BY_VALUE: dict[str, CipherSuite] = {s.value: s for s in CipherSuite}


class SealBroken(HotlineError):
    """Sealed personal data or a wrapped key does not check: a wrong key, a wrong ticket id, a
    changed byte or a commitment that does not match. Nothing is returned in part, and the
    message never quotes the bytes (they may be personal data)."""


def _check_lengths(suite: CipherSuite, key: bytes, nonce: bytes) -> None:
    if len(key) != suite.key_bytes:
        raise ValueError(f"{suite.name} takes a {suite.key_bytes}-byte key, not {len(key)}")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a GCM nonce has {NONCE_BYTES} bytes, not {len(nonce)}")


def aead_seal(suite: CipherSuite, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` bound to ``aad``: ciphertext followed by the
    16-byte tag, the layout RFC 5116 and RFC 8998 define. A wrong key or nonce length is a
    programming error (``ValueError``), never silently padded."""
    _check_lengths(suite, key, nonce)
    if suite is CipherSuite.INTERNATIONAL:
        return _aes_gcm(key).encrypt(nonce, plaintext, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def aead_open(suite: CipherSuite, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of ``aead_seal``'s output, or ``SealBroken`` if anything fails to check
    (including key or nonce lengths: a stored value with a short nonce is damaged data)."""
    try:
        _check_lengths(suite, key, nonce)
        if len(sealed) < TAG_BYTES:
            raise SealBroken(f"{suite.name} sealed value shorter than its tag")
        if suite is CipherSuite.INTERNATIONAL:
            return _aes_gcm(key).decrypt(nonce, sealed, aad)
        body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()
    except (InvalidTag, ValueError) as error:
        raise SealBroken(f"{suite.name} sealed value does not check") from error


@lru_cache(maxsize=32)
def _aes_gcm(key: bytes) -> AESGCM:
    """The AES-GCM context of a key, kept for the few keys used over and over (a node's
    key-encryption key wraps every data key): making one costs more than sealing a field."""
    return AESGCM(key)


def digest(suite: CipherSuite, data: bytes) -> bytes:
    """The suite's hash of ``data`` (SHA-256 or SM3), 32 bytes; what commitments are made of."""
    return hashlib.new(_HASH_NAMES[suite], data).digest()


def keyed_digest(suite: CipherSuite, key: bytes, data: bytes) -> bytes:
    """The suite's HMAC of ``data`` under ``key`` (HMAC-SHA-256 or HMAC-SM3), 32 bytes: a
    digest that only holders of the key can compute, so a look-up key cannot be brute-forced
    from the small space of phone numbers."""
    return std_hmac.digest(key, data, _HASH_NAMES[suite])


_HASH_NAMES = {CipherSuite.INTERNATIONAL: "sha256", CipherSuite.COMMERCIAL: "sm3"}
"""OpenSSL's names of the suites' hashes, through ``hashlib`` (the same OpenSSL as
``cryptography``, without an object per call: a backlog digests every filer twice)."""
