"""Keyed look-up digests of a filer's phone and ID number (关联键).

To recognise a repeat filer or count the consumers of a group complaint, nodes compare phone
and ID numbers without holding them in clear. A plain hash will not do: there are only about
10^10 mobile numbers, so anyone with the table could hash them all. A keyed digest (HMAC under
a key the province's nodes share, never stored beside the table) can be recomputed only by a
holder of that key. Values are normalised first (``core.identifiers``), so ``+86 139 0931
0001`` and ``13909310001`` give one key.
"""

from __future__ import annotations

from core.identifiers import normalized_id_number, normalized_phone
from sync.personal.suites import CipherSuite, keyed_digest

LOOKUP_CONTEXT = b"hotline.v1.lookup\x00"
"""Domain separation: a look-up digest is never valid as another keyed digest of the project."""

LOOKUP_BYTES = 16
"""128 bits of the digest kept: no collision among a province's filers, half the storage."""

KINDS = ("phone", "id")
"""What a look-up key may be of; the kind is digested too, so a phone never matches an ID."""

__all__ = ["KINDS", "lookup_key", "normalized_id_number", "normalized_phone"]


def lookup_key(suite: CipherSuite, key: bytes, kind: str, value: str) -> str:
    """The look-up key of an already normalised ``value`` of ``kind`` (``phone`` or ``id``):
    32 hexadecimal digits, or ``""`` when there is no value (nothing to match on)."""
    if kind not in KINDS:
        raise ValueError(f"a look-up key is of {' or '.join(KINDS)}, not {kind!r}")
    if not value:
        return ""
    message = LOOKUP_CONTEXT + kind.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return keyed_digest(suite, key, message)[:LOOKUP_BYTES].hex()
