"""Re-wrapping data keys after a key rotation (密钥轮换), a batch per round.

``hotline keys rotate`` makes a new active key-encryption key and retires the old one without
touching a single row: rewrapping every ticket's data key at once would hold the log writer
for as long as the table is big. Instead this job moves a bounded batch each round from the
retired keys to the active one, in one writer job per batch (the rows change all or none), so
the node keeps serving; once no row names a retired key, ``hotline keys forget`` may delete
it. The personal data itself is never re-encrypted: only the small wrapped data keys change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from node.app.blocking import BlockingPool
from node.keys.wrapping import RingWrapping
from sync.personal.suites import SealBroken
from sync.schema import personal_seals
from sync.writer import LogBatch, LogWriter

if TYPE_CHECKING:
    from node.app.runtime import Node

log = logging.getLogger(__name__)

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]

BATCH = 500
"""Data keys re-wrapped per round."""


class DataKeyRewrap:
    """Moves data keys from retired key-encryption keys to the active one, a batch a round."""

    def __init__(
        self,
        keys: RingWrapping,
        read: ReadSnapshot,
        writer: LogWriter,
        blocking: BlockingPool,
        batch: int = BATCH,
    ) -> None:
        self._keys = keys
        self._read = read
        self._writer = writer
        self._blocking = blocking
        self._batch = batch

    def _pending(self, active: str) -> list[tuple[str, str, bytes]]:
        # By the retired keys the ring holds, through the index on ``kek_id``: "not the active
        # key" would read every seal, every round, long after the last one moved. A row under
        # a key the ring lacks could not be unwrapped anyway.
        retired = [k.kek_id for k in self._keys.ring.all() if k.kek_id != active]
        if not retired:
            return []
        c = personal_seals.c
        with self._read() as conn:
            rows = conn.execute(
                select(c.ticket_id, c.kek_id, c.wrapped_key)
                .where(c.kek_id.in_(retired))
                .order_by(c.kek_id)  # the index's order: by ticket id, SQLite would scan them all
                .limit(self._batch)
            )
            return [(r.ticket_id, r.kek_id, r.wrapped_key) for r in rows]

    async def run_once(self) -> int:
        """One batch; returns 0 (it records no events). Logs what it moved."""
        active = self._keys.ring.active.kek_id
        pending = await self._blocking.run(self._pending, active)
        if not pending:
            return 0

        def job(batch: LogBatch) -> int:
            moved = 0
            for ticket_id, old, wrapped in pending:
                try:
                    data_key = self._keys.unwrap(old, ticket_id, wrapped)
                except SealBroken as exc:
                    log.error(
                        "data key of ticket %s under %s does not unwrap: %s", ticket_id, old, exc
                    )
                    continue
                new, rewrapped = self._keys.wrap(ticket_id, data_key)
                batch.update(
                    personal_seals,
                    {"ticket_id": ticket_id, "kek_id": old},
                    {"kek_id": new, "wrapped_key": rewrapped},
                )
                moved += 1
            return moved

        moved = await self._writer.run(job)
        log.info("re-wrapped %d data keys under key-encryption key %s", moved, active)
        return 0


def data_key_rewrap(node: Node) -> DataKeyRewrap:
    """The re-wrapping job of a node, over its seal shelf's key ring."""
    keys = node.shelf.keys
    if not isinstance(keys, RingWrapping):
        raise TypeError("the node's data keys are not wrapped by its key ring")
    return DataKeyRewrap(keys, node.db.read, node.writer, node.blocking)
