"""Handing the province's look-up keys down in a replication round's Hello.

A child says which look-up key is the newest it holds (``HelloRequest.lookup_key_id``); the
parent answers with every key it holds after that one (all of them when it does not know the
id), oldest first (``HelloResponse.lookup_keys``), and the child keeps each. So a county that
was offline through two rotations gets both keys at its next round, in the order they were made,
and a rule book naming a key arrives no earlier than the key (the parent took both from its own
parent in one Hello). The keys travel only inside the nodes' mutual TLS and rest only in each
node's key folder (``node.personal.lookup_keys``); the parent is trusted for them as it is for
the feed it hands down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

from core.errors import InvalidInput
from proto.hotline.v1 import sync_pb2

log = logging.getLogger(__name__)


class HeldLookupKey(Protocol):
    """One look-up key as a node holds it (``node.personal.lookup_keys.StoredLookupKey``)."""

    @property
    def key_id(self) -> str:
        """The key's id, as rule books name it."""
        ...

    @property
    def suite(self) -> str:
        """The cipher suite whose hash the key is for."""
        ...

    @property
    def key(self) -> bytes:
        """The key material."""
        ...


class LookupKeyKeeper(Protocol):
    """What replication needs of a node's look-up keys (``LookupKeyStore``)."""

    def newest_id(self) -> str:
        """The id of the newest key held ("" when none)."""
        ...

    def missing_after(self, key_id: str) -> Sequence[HeldLookupKey]:
        """The keys a child holding ``key_id`` lacks, oldest first."""
        ...

    def add(self, key_id: str, suite: str, key: bytes, now_ms: int) -> HeldLookupKey:
        """Keep a key handed down (idempotent; a different key under a held id is refused)."""
        ...


def keys_for_child(keeper: LookupKeyKeeper, child_newest: str) -> list[sync_pb2.LookupKeyMaterial]:
    """The keys to hand a child whose newest key is ``child_newest``, as sent."""
    return [
        sync_pb2.LookupKeyMaterial(key_id=k.key_id, suite=k.suite, key=k.key)
        for k in keeper.missing_after(child_newest)
    ]


def keep_keys(
    keeper: LookupKeyKeeper, received: Iterable[sync_pb2.LookupKeyMaterial], now_ms: int
) -> list[str]:
    """Keep the keys the parent handed down, in order (a blocking write); returns why any was
    refused. A refused key is logged and skipped: the round goes on, and the look-ups under
    that key wait until an administrator sees why (a key that differs from one already held
    under its id means two nodes disagree about the province's key)."""
    refused = []
    for material in received:
        try:
            keeper.add(material.key_id, material.suite, material.key, now_ms)
        except InvalidInput as exc:
            log.warning("LOOK-UP KEY %r FROM THE PARENT REFUSED: %s", material.key_id, exc)
            refused.append(f"{material.key_id}: {exc}")
    return refused
