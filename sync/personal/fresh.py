"""Fresh random keys, salts and nonces for sealing personal data.

``sync.personal.seal`` takes every random value as an argument so that it is reproducible and
testable; this module is the one place that draws them, from the operating system's CSPRNG,
when a ticket's personal data is sealed for real.
"""

from __future__ import annotations

import os

from core.ticket.vocabulary import Consumer
from sync.personal.seal import SALT_BYTES, SealedPersonal, seal_personal
from sync.personal.suites import NONCE_BYTES, CipherSuite


def fresh_seal(
    suite: CipherSuite, ticket_id: str, consumer: Consumer
) -> tuple[SealedPersonal, bytes]:
    """Seal ``consumer`` for ``ticket_id`` under a new DEK, salt and nonce; returns the sealed
    value and the DEK, which the caller wraps under its KEK and never stores in clear. A DEK
    seals one value only, so reusing a GCM nonce under one key cannot happen."""
    dek = os.urandom(suite.key_bytes)
    sealed = seal_personal(
        suite,
        ticket_id,
        consumer,
        dek=dek,
        salt=os.urandom(SALT_BYTES),
        nonce=os.urandom(NONCE_BYTES),
    )
    return sealed, dek
