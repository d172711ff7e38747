"""A consumer's verification code (查询码): what lets a consumer read their own ticket.

Issue 11, item 5. When a complaint or report is registered, the node draws a code of
``LENGTH`` characters from ``ALPHABET`` and hands it to the consumer once (the registering
officer reads it out or prints it); the node keeps only a hash of it. With the ticket number,
the code signs the consumer in to the registering node for that one ticket.

The alphabet has 32 characters and leaves out those that are read or typed as one another
(0/O, 1/I): 8 characters are 40 bits, about a million million codes. That is not enough against
someone who may try codes as fast as a computer hashes, so the node also hashes each code with
Argon2id and a salt (a copied database costs that much per guess), limits tries per caller and
per ticket, and locks a ticket's consumer access after a few wrong codes (docs/security.md,
"Consumer access"). Pure: the random bytes come from the caller.
"""

from __future__ import annotations

from core.errors import InvalidInput

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""32 characters: the Latin capitals without I and O, and the digits without 0 and 1."""
LENGTH = 8
"""Characters of a code: 40 bits."""
RANDOM_BYTES = LENGTH
"""Random bytes ``code_from`` needs (one per character; 256 is a multiple of 32, so each
character is uniform)."""


def code_from(random: bytes) -> str:
    """The code made of ``random`` (``RANDOM_BYTES`` bytes from a secure source)."""
    if len(random) != RANDOM_BYTES:
        raise ValueError(f"a code takes {RANDOM_BYTES} random bytes, got {len(random)}")
    return "".join(ALPHABET[b % len(ALPHABET)] for b in random)


def normalized(code: str, field: str = "code") -> str:
    """The code as stored and compared: spaces and hyphens removed, upper case; refused
    (``InvalidInput`` naming ``field``) when it cannot be a code at all."""
    cleaned = "".join(c for c in code if c not in " -\t").upper()
    if len(cleaned) != LENGTH:
        raise InvalidInput(field, f"a verification code has {LENGTH} characters")
    bad = sorted({c for c in cleaned if c not in ALPHABET})
    if bad:
        shown = "".join(bad[:8])
        raise InvalidInput(field, f"a verification code has no {shown!r} (it uses {ALPHABET})")
    return cleaned


def grouped(code: str) -> str:
    """The code as shown to a consumer: two groups of four (``ABCD-EF23``)."""
    return f"{code[:4]}-{code[4:]}"
