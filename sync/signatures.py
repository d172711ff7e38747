"""Ed25519 helpers shared by identities, envelopes and certificates.

Signing goes through libsodium (PyNaCl), not ``cryptography``'s OpenSSL: every event a node
records is signed on its one writer thread, and libsodium signs in about two thirds of the CPU
time here (docs/benchmarks.md, "Issue 14: less Python per registration"). Ed25519 signatures
are deterministic (RFC 8032), so both give the same bytes for the same key and message; the
key files stay ``cryptography``'s PEM.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_sign, crypto_sign_BYTES, crypto_sign_seed_keypair


def key_id_of(public_key: bytes) -> str:
    """The id of a raw Ed25519 public key: hex SHA-256 of its 32 bytes."""
    return hashlib.sha256(public_key).hexdigest()


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


class Ed25519Signer:
    """Signs with one Ed25519 private key through libsodium (see the module docstring)."""

    __slots__ = ("_secret",)

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        seed = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        self._secret = crypto_sign_seed_keypair(seed)[1]

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (libsodium returns it with the
        message appended; only the signature is kept)."""
        return crypto_sign(message, self._secret)[:crypto_sign_BYTES]
