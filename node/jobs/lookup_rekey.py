"""Keyed look-ups for every seal held, under the look-up key in force (关联键计算与重算).

Duplicate, group and claimant detection compare keyed digests of the filers' phone and ID
numbers (``sync.personal.shelf.lookups_of``). When the province rotates its look-up key, or a
node that digested with its own key first receives the province's, digests under the old key
would no longer match new ones: the links between past and new tickets would be lost; and a
seal taken in by replication comes without look-ups (computing them would slow a backlog's
catch-up). This job finds, a batch per round, the tickets whose look-ups are under another key
or missing while their seal is held, opens their seals (deleting one that does not open to its
commitment), and writes the digests under the key in force into
``personal_lookups``, the signals view and the same-matter fingerprints. Nothing of the clear
values is kept; erased tickets have no seal and are left alone.

It finds them by index, so that a round with nothing to do costs next to nothing however many
seals the node holds (a search of every seal, for one without look-ups, took the database
seconds every round at a million tickets: docs/benchmarks.md): a seal taken in without
look-ups is stored with a look-up row under no key (``sync.personal.shelf.UNKEYED``), and the
job reads the rows under any key but the one in force as the two ranges of the index on
``key_id`` either side of it.

A batch is written in writer jobs of ``SLICE`` tickets on the writer's backlog lane
(``sync.writer.lanes``): opening a seal is done on the writer, and a replication storm leaves
thousands of seals to open, so one job of a whole batch held the writer for over a second and
every registration at the desk waited for it (docs/storm.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, select

from node.app.blocking import BlockingPool
from node.desks.intake import same_matter
from node.storage.tables import ticket_fingerprints, ticket_signals
from node.views.signals import next_change
from sync.personal.shelf import LookupKey, SealShelf, lookups_of
from sync.personal.suites import SealBroken
from sync.schema import personal_lookups, personal_seals
from sync.writer import Lane, LogBatch, LogWriter

if TYPE_CHECKING:
    from node.app.runtime import Node

log = logging.getLogger(__name__)

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
BATCH = 500
"""Tickets re-keyed per round."""
SLICE = 50
"""Tickets re-keyed per writer job."""


class LookupRekey:
    """Moves the look-ups of a node's tickets to the look-up key in force, a batch a round."""

    def __init__(
        self,
        shelf: SealShelf,
        read: ReadSnapshot,
        writer: LogWriter,
        blocking: BlockingPool,
        batch: int = BATCH,
        slice_size: int = SLICE,
    ) -> None:
        self._shelf = shelf
        self._read = read
        self._writer = writer
        self._blocking = blocking
        self._batch = batch
        self._slice = slice_size

    def _pending(self, key_id: str) -> list[str]:
        """Tickets to re-key, at most a batch: those whose look-ups are under another key than
        ``key_id``, seals taken in without look-ups included (their row is under no key,
        ``UNKEYED``, which sorts first). By the index on ``key_id``, as the two ranges either
        side of the key in force ("!=" would read every row), so a round with nothing to do
        reads next to nothing however many seals the node holds."""
        seals, lookups = personal_seals.c, personal_lookups.c
        pending: list[str] = []
        with self._read() as conn:
            for other in (lookups.key_id < key_id, lookups.key_id > key_id):
                room = self._batch - len(pending)
                if room <= 0:
                    break
                pending.extend(
                    conn.execute(
                        select(lookups.ticket_id)
                        .select_from(
                            personal_lookups.join(
                                personal_seals, seals.ticket_id == lookups.ticket_id
                            )
                        )
                        .where(other)
                        .order_by(lookups.key_id, lookups.ticket_id)
                        .limit(room)
                    ).scalars()
                )
        return pending

    async def run_once(self) -> int:
        """One batch; returns 0 (it records no events)."""
        key = self._shelf.lookup_key()
        pending = await self._blocking.run(self._pending, key.key_id)
        if not pending:
            return 0
        moved = 0
        for start in range(0, len(pending), self._slice):
            part = pending[start : start + self._slice]
            moved += await self._writer.run(
                partial(self._rekey, key=key, ticket_ids=part), lane=Lane.BACKLOG
            )
        log.info("re-keyed the look-ups of %d tickets under look-up key %s", moved, key.key_id)
        return 0

    def _rekey(self, batch: LogBatch, key: LookupKey, ticket_ids: list[str]) -> int:
        moved = 0
        # New digests are a change detection must see (a replicated ticket gets its first here).
        seq = next_change(batch.conn)
        for ticket_id in ticket_ids:
            try:
                consumer = self._shelf.consumer_of(batch.conn, ticket_id)
            except SealBroken as exc:
                # A seal taken in by replication is first opened here: one whose ciphertext
                # is not what its commitment names is damaged or forged, and goes.
                log.error("sealed personal data of ticket %s deleted: %s", ticket_id, exc)
                batch.delete(personal_seals, (ticket_id,))
                batch.delete(personal_lookups, (ticket_id,))
                continue
            if consumer is None:
                continue  # erased meanwhile
            found = lookups_of(key, consumer)
            batch.upsert(
                personal_lookups,
                {
                    "ticket_id": ticket_id,
                    "key_id": found.key_id,
                    "phone_key": found.phone_key,
                    "id_key": found.id_key,
                },
            )
            batch.update(
                ticket_signals,
                {"ticket_id": ticket_id},
                {"phone_key": found.phone_key, "id_key": found.id_key, "change_seq": seq},
            )
            self._refingerprint(batch, ticket_id, found.phone_key)
            moved += 1
        return moved

    def _refingerprint(self, batch: LogBatch, ticket_id: str, phone_key: str) -> None:
        """The same-matter fingerprint of a ticket that has one, under the new phone digest."""
        old = batch.conn.execute(
            select(ticket_fingerprints.c.fingerprint).where(
                and_(ticket_fingerprints.c.ticket_id == ticket_id)
            )
        ).scalar()
        registration = batch.state_of(ticket_id).registration
        if old is None or registration is None:
            return
        batch.delete(ticket_fingerprints, (old,))
        fingerprint = same_matter(phone_key, registration.respondent, registration.facts)
        batch.upsert(ticket_fingerprints, {"fingerprint": fingerprint, "ticket_id": ticket_id})


def lookup_rekey(node: Node) -> LookupRekey:
    """The re-keying job of a node."""
    return LookupRekey(node.shelf, node.db.read, node.writer, node.blocking)
