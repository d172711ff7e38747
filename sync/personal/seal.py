"""Sealing a filer's personal data (个人信息密封): a commitment to sign, a ciphertext beside it.

The signed event log is kept for years and replicated to the city and the province, so it must
not carry the filer's name, phone, address or ID number in clear (PIPL; DOMAIN.md §9). Instead
the signed payload carries a **commitment**: the suite's digest of the ticket id and a
canonical encoding of the personal data that starts with a 32-byte random salt. The salt makes
the commitment hiding (an 11-digit phone number cannot be found by trying them all); the
digest makes it binding (no other data opens it). Beside the event, the values are encrypted
under a per-ticket data key (DEK), with the commitment in the associated data, and the DEK is
wrapped by each node under its own key-encryption key (KEK). Erasing a ticket's personal data
is then forgetting its DEK; the signatures over the log still verify.

Nothing here draws random bytes: the DEK, salt and nonces are arguments, so every function is
reproducible and has test vectors (``sync.personal.fresh`` draws them for real use).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from core.ticket.vocabulary import Consumer
from sync.personal.suites import (
    NONCE_BYTES,
    CipherSuite,
    SealBroken,
    aead_open,
    aead_seal,
    digest,
)

SALT_BYTES = 32
"""The commitment's salt: 256 bits, so guessing it is no easier than guessing the digest."""

MAGIC = b"HLP1"
"""The first bytes of the canonical encoding, so that a later layout is told apart."""

PERSONAL_CONTEXT = b"hotline.v1.personal\x00"
"""Domain separation: a commitment or ciphertext of personal data is never valid as another
digest or ciphertext of the project."""

DEK_CONTEXT = b"hotline.v1.dek\x00"
"""Domain separation for a wrapped data key."""

_FIELDS = ("name", "phone", "address", "id_number")
_LENGTH_BYTES = 4


def personal_plaintext(salt: bytes, consumer: Consumer) -> bytes:
    """The canonical bytes committed to and encrypted: ``HLP1``, the salt, then name, phone,
    address and ID number, each a 4-byte big-endian length and its UTF-8. Deterministic, so
    the same data and salt always give the same commitment on every node."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"the salt has {SALT_BYTES} bytes, not {len(salt)}")
    parts = [MAGIC, salt]
    for field in _FIELDS:
        value = str(getattr(consumer, field)).encode("utf-8")
        parts.append(len(value).to_bytes(_LENGTH_BYTES, "big"))
        parts.append(value)
    return b"".join(parts)


def parse_personal_plaintext(data: bytes) -> tuple[bytes, Consumer]:
    """The salt and consumer that ``personal_plaintext`` encoded; ``SealBroken`` for bytes
    that are not exactly such an encoding (a wrong prefix, a cut field, trailing bytes)."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + SALT_BYTES:
        raise SealBroken("personal data does not start with its HLP1 header and salt")
    salt = data[len(MAGIC) : len(MAGIC) + SALT_BYTES]
    at = len(MAGIC) + SALT_BYTES
    values: list[str] = []
    for field in _FIELDS:
        if at + _LENGTH_BYTES > len(data):
            raise SealBroken(f"personal data is cut before the length of {field}")
        length = int.from_bytes(data[at : at + _LENGTH_BYTES], "big")
        at += _LENGTH_BYTES
        if at + length > len(data):
            raise SealBroken(f"personal data is cut inside {field}")
        try:
            values.append(data[at : at + length].decode("utf-8"))
        except UnicodeDecodeError as error:
            raise SealBroken(f"{field} of personal data is not UTF-8") from error
        at += length
    if at != len(data):
        raise SealBroken("personal data has bytes after its last field")
    name, phone, address, id_number = values
    return salt, Consumer(name=name, phone=phone, address=address, id_number=id_number)


def commitment(suite: CipherSuite, ticket_id: str, plaintext: bytes) -> bytes:
    """What the signed event carries instead of the personal data: the suite's digest of the
    ticket id and the canonical plaintext. Bound to the ticket, so a commitment copied onto
    another ticket does not check there."""
    return digest(suite, PERSONAL_CONTEXT + ticket_id.encode("utf-8") + b"\x00" + plaintext)


@dataclass(frozen=True)
class SealedPersonal:
    """A ticket's personal data as stored and replicated: the suite, the commitment (also in
    the signed payload), and the nonce and ciphertext (with its tag) under the ticket's DEK."""

    suite: CipherSuite
    commitment: bytes
    nonce: bytes
    ciphertext: bytes


def _personal_aad(ticket_id: str, commitment_bytes: bytes) -> bytes:
    return PERSONAL_CONTEXT + ticket_id.encode("utf-8") + b"\x00" + commitment_bytes


def seal_personal(
    suite: CipherSuite,
    ticket_id: str,
    consumer: Consumer,
    *,
    dek: bytes,
    salt: bytes,
    nonce: bytes,
) -> SealedPersonal:
    """Commit to and encrypt ``consumer`` for ``ticket_id``. The commitment is in the
    associated data, so a ciphertext cannot be paired with another ticket's commitment."""
    plaintext = personal_plaintext(salt, consumer)
    committed = commitment(suite, ticket_id, plaintext)
    ciphertext = aead_seal(suite, dek, nonce, plaintext, _personal_aad(ticket_id, committed))
    return SealedPersonal(suite=suite, commitment=committed, nonce=nonce, ciphertext=ciphertext)


def open_personal(sealed: SealedPersonal, ticket_id: str, dek: bytes) -> Consumer:
    """The consumer sealed for ``ticket_id``, after checking that the decrypted data opens the
    commitment; ``SealBroken`` for a wrong key or ticket id, a changed byte or a mismatch."""
    aad = _personal_aad(ticket_id, sealed.commitment)
    plaintext = aead_open(sealed.suite, dek, sealed.nonce, sealed.ciphertext, aad)
    _, consumer = parse_personal_plaintext(plaintext)
    expected = commitment(sealed.suite, ticket_id, plaintext)
    if not hmac.compare_digest(expected, sealed.commitment):
        raise SealBroken(f"personal data of {ticket_id} does not open its commitment")
    return consumer


def _dek_aad(kek_id: str, ticket_id: str) -> bytes:
    return DEK_CONTEXT + kek_id.encode("utf-8") + b"\x00" + ticket_id.encode("utf-8")


def wrap_key(
    suite: CipherSuite, kek: bytes, kek_id: str, ticket_id: str, dek: bytes, nonce: bytes
) -> bytes:
    """A ticket's DEK encrypted under a node's KEK, as stored: the nonce then the sealed key.
    The KEK's id and the ticket id are bound in, so a wrapped key moved to another ticket or
    said to be under another KEK does not unwrap."""
    return nonce + aead_seal(suite, kek, nonce, dek, _dek_aad(kek_id, ticket_id))


def unwrap_key(
    suite: CipherSuite, kek: bytes, kek_id: str, ticket_id: str, wrapped: bytes
) -> bytes:
    """The DEK that ``wrap_key`` wrapped, or ``SealBroken`` if it does not check."""
    if len(wrapped) < NONCE_BYTES:
        raise SealBroken(f"wrapped key of {ticket_id} is shorter than its nonce")
    nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
    dek = aead_open(suite, kek, nonce, sealed, _dek_aad(kek_id, ticket_id))
    # Only the length of a data key any suite has: the wrapping suite is the key-encryption
    # key's, and a data key of the other suite (the province switched suites, the node's key
    # was made in the first) is wrapped under it too. Its own suite checks it when it opens.
    if len(dek) not in DATA_KEY_LENGTHS:
        raise SealBroken(f"wrapped key of {ticket_id} is not a data key")
    return dek


DATA_KEY_LENGTHS = frozenset(s.key_bytes for s in CipherSuite)
"""The lengths a data key may have: one per suite (32 for AES-256, 16 for SM4)."""
