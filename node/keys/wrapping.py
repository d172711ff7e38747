"""Ticket data keys wrapped under the node's key-encryption keys (数据密钥封装).

The seal shelf (``sync.personal.shelf``) keeps each ticket's data key wrapped, never in clear;
this adapter does the wrapping with the ring's active key and the unwrapping with whichever
key the row names, so a rotated ring still opens what its retired keys wrapped. The suite of
the wrapping is the key's own (an SM4 key wraps with SM4-GCM), whatever the data's suite.
"""

from __future__ import annotations

import os

from node.keys.ring import KeyRing
from sync.personal.seal import unwrap_key, wrap_key
from sync.personal.suites import NONCE_BYTES, CipherSuite


class RingWrapping:
    """``DataKeyWrapping`` over a node's ``KeyRing``."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def wrap(self, ticket_id: str, data_key: bytes) -> tuple[str, bytes]:
        """(id of the active key, the data key wrapped under it for this ticket)."""
        kek = self.ring.active
        suite = CipherSuite.parse(kek.suite)
        wrapped = wrap_key(suite, kek.key, kek.kek_id, ticket_id, data_key, os.urandom(NONCE_BYTES))
        return kek.kek_id, wrapped

    def unwrap(self, kek_id: str, ticket_id: str, wrapped: bytes) -> bytes:
        """The data key of ``ticket_id``; ``SealBroken`` when it does not unwrap."""
        kek = self.ring.get(kek_id)
        return unwrap_key(CipherSuite.parse(kek.suite), kek.key, kek_id, ticket_id, wrapped)
