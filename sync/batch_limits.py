"""How big one replication batch may be, on both sides of the wire.

A batch (``hotline.v1.EventBatch``) carries up to ``--sync-batch`` events (500 by default; a
child may pull up to ``sync.children.MAX_BATCH``, 5,000, at once) and the certificates of their
signers. A typical event weighs under 2 KB signed, so a full batch is about a megabyte; but
the largest event the limits allow (a registration with every text at its limit, written in
four-byte characters: ``core.limits``) weighs about 78 KB, and 5,000 of those would be 390 MB.
So the sender also cuts a batch by bytes: it fills one to ``BATCH_BYTES`` of signed events at
most (always at least one event, so one large event still travels), and the receiver accepts
one message of ``BATCH_MESSAGE_LIMIT``: a full batch, one event over, and the certificates of
thousands of signers. Both the peer port's server (``node.app.runtime``) and the child's
channel to its parent (``sync.client``) are given that limit, not gRPC's default 4 MB nor the
64 MB they had.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

BATCH_BYTES = 4 << 20
"""Most bytes of signed events a sender puts in one batch (unless one event alone is more)."""

BATCH_MESSAGE_LIMIT = 16 << 20
"""Largest batch message a node accepts from a peer: ``BATCH_BYTES``, the event that may go
over, and the signers' certificates (about a kilobyte each)."""


def by_size(
    items: Sequence[T], size_of: Callable[[T], int], budget: int = BATCH_BYTES
) -> Iterator[list[T]]:
    """``items`` in order, cut into runs of at most ``budget`` bytes (a run holds at least one
    item, so an item larger than the budget travels alone)."""
    run: list[T] = []
    used = 0
    for item in items:
        size = size_of(item)
        if run and used + size > budget:
            yield run
            run, used = [], 0
        run.append(item)
        used += size
    if run:
        yield run
