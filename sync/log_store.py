"""Reading and appending the signed log through one connection, inside a unit of work.

Only appends: nothing here updates or deletes an event row. Every method works on the
connection it was given, so the caller decides the transaction (a writer batch, a read snapshot).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from core.units import UnitLevel
from sync import schema as s
from sync.envelope import SealedEvent, open_sealed
from sync.identity import PublicIdentity

HLC_STATE = "hlc"


@dataclass(frozen=True)
class Head:
    """How far a complete chain is held: its last sequence and that envelope's hash."""

    origin_node: str
    origin_unit: str
    seq: int
    hash: bytes


def _sealed(row: object) -> SealedEvent:
    return open_sealed(row.envelope, row.signature)  # type: ignore[attr-defined]


class EventLog:
    """The signed log, its heads, keys, feed and cursors, seen through one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- appending ---------------------------------------------------------------------------

    def append(self, events: Sequence[SealedEvent], received_from: str = "") -> list[int]:
        """Append events; returns their local positions in the same order."""
        if not events:
            return []
        rows = [
            {
                "event_id": e.event_id,
                "origin_node": e.origin_node,
                "origin_unit": e.origin_unit,
                "origin_seq": e.origin_seq,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
                "ticket_id": e.ticket_id,
                "event_type": e.event_type,
                "hlc": e.hlc,
                "signer_key_id": e.signer_key_id,
                "envelope": e.envelope,
                "signature": e.signature,
                "received_from": received_from,
            }
            for e in events
        ]
        result = self.conn.execute(
            insert(s.events).returning(s.events.c.pos, sort_by_parameter_order=True), rows
        )
        return [r.pos for r in result]

    def set_head(self, head: Head) -> None:
        """Record how far a chain is now held (insert or move forward)."""
        moved = self.conn.execute(
            update(s.origin_heads)
            .where(s.origin_heads.c.origin_node == head.origin_node)
            .values(seq=head.seq, hash=head.hash)
        )
        if moved.rowcount == 0:
            self.conn.execute(
                insert(s.origin_heads).values(
                    origin_node=head.origin_node,
                    origin_unit=head.origin_unit,
                    seq=head.seq,
                    hash=head.hash,
                )
            )

    def add_feed(self, unit_code: str, event_positions: Iterable[int]) -> None:
        """Make events visible to children under ``unit_code`` (after everything already fed)."""
        rows = [{"unit_code": unit_code, "event_pos": p} for p in event_positions]
        if rows:
            self.conn.execute(insert(s.feed), rows)

    # -- reading -----------------------------------------------------------------------------

    def head(self, origin_node: str, *, for_update: bool = False) -> Head | None:
        """How far ``origin_node``'s chain is held, locking the row if asked (PostgreSQL)."""
        query = select(s.origin_heads).where(s.origin_heads.c.origin_node == origin_node)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else Head(row.origin_node, row.origin_unit, row.seq, row.hash)

    def heads_under(self, prefix: str) -> list[Head]:
        """Heads of every complete chain whose origin unit starts with ``prefix``."""
        rows = self.conn.execute(
            select(s.origin_heads)
            .where(s.origin_heads.c.origin_unit.startswith(prefix, autoescape=True))
            .order_by(s.origin_heads.c.origin_node)
        )
        return [Head(r.origin_node, r.origin_unit, r.seq, r.hash) for r in rows]

    def known_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` are already in the log."""
        ids = list(event_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                self.conn.execute(
                    select(s.events.c.event_id).where(s.events.c.event_id.in_(chunk))
                ).scalars()
            )
        return found

    def event_at(self, origin_node: str, seq: int) -> SealedEvent | None:
        """The event at ``seq`` in ``origin_node``'s chain, if held."""
        row = self.conn.execute(
            select(s.events.c.envelope, s.events.c.signature).where(
                s.events.c.origin_node == origin_node, s.events.c.origin_seq == seq
            )
        ).first()
        return None if row is None else _sealed(row)

    def ticket_events(self, ticket_id: str) -> list[SealedEvent]:
        """Every event of one ticket held here, in local arrival order."""
        rows = self.conn.execute(
            select(s.events.c.envelope, s.events.c.signature)
            .where(s.events.c.ticket_id == ticket_id)
            .order_by(s.events.c.pos)
        )
        return [_sealed(r) for r in rows]

    def ticket_positions(self, ticket_id: str) -> list[int]:
        """Local positions of one ticket's events, ascending."""
        return list(
            self.conn.execute(
                select(s.events.c.pos)
                .where(s.events.c.ticket_id == ticket_id)
                .order_by(s.events.c.pos)
            ).scalars()
        )

    def chain_after(self, origin_node: str, seq: int, limit: int) -> list[SealedEvent]:
        """Up to ``limit`` events of a chain after ``seq``, in chain order."""
        rows = self.conn.execute(
            select(s.events.c.envelope, s.events.c.signature)
            .where(s.events.c.origin_node == origin_node, s.events.c.origin_seq > seq)
            .order_by(s.events.c.origin_seq)
            .limit(limit)
        )
        return [_sealed(r) for r in rows]

    def feed_after(self, prefix: str, after: int, limit: int) -> list[tuple[int, SealedEvent]]:
        """The jurisdiction feed for units under ``prefix`` after position ``after``.

        Events recorded inside the same subtree are left out: the child pushed them up and
        already has them.
        """
        rows = self.conn.execute(
            select(s.feed.c.pos, s.events.c.envelope, s.events.c.signature)
            .join(s.events, s.events.c.pos == s.feed.c.event_pos)
            .where(
                s.feed.c.pos > after,
                s.feed.c.unit_code.startswith(prefix, autoescape=True),
                ~s.events.c.origin_unit.startswith(prefix, autoescape=True),
            )
            .order_by(s.feed.c.pos)
            .limit(limit)
        )
        return [(r.pos, _sealed(r)) for r in rows]

    def feed_end(self) -> int:
        """The last position of the feed (0 when empty)."""
        return int(self.conn.execute(select(func.coalesce(func.max(s.feed.c.pos), 0))).scalar_one())

    def count_events(self) -> int:
        """How many events are held."""
        return int(self.conn.execute(select(func.count()).select_from(s.events)).scalar_one())

    def all_ticket_ids(self) -> list[str]:
        """Every ticket with at least one event held here."""
        return list(
            self.conn.execute(
                select(s.events.c.ticket_id).distinct().order_by("ticket_id")
            ).scalars()
        )

    # -- keys, clock and cursors -------------------------------------------------------------

    def register_key(self, key: PublicIdentity) -> None:
        """Remember a node's public key (first sight wins; see docs/protocol.md)."""
        if self.key(key.key_id) is None:
            self.conn.execute(
                insert(s.node_keys).values(
                    key_id=key.key_id,
                    node_id=key.node_id,
                    unit_code=key.unit_code,
                    level=key.level.value,
                    public_key=key.public_key,
                )
            )

    def key(self, key_id: str) -> PublicIdentity | None:
        """The public identity behind ``key_id``, if known."""
        row = self.conn.execute(select(s.node_keys).where(s.node_keys.c.key_id == key_id)).first()
        if row is None:
            return None
        return PublicIdentity(row.node_id, row.unit_code, UnitLevel(row.level), row.public_key)

    def keys(self, key_ids: Iterable[str]) -> dict[str, PublicIdentity]:
        """The known public identities among ``key_ids``."""
        found = {}
        for key_id in set(key_ids):
            key = self.key(key_id)
            if key is not None:
                found[key_id] = key
        return found

    def state_value(self, name: str) -> int:
        """A named counter of this node (e.g. the last hybrid clock value); 0 if unset."""
        value = self.conn.execute(
            select(s.node_state.c.value).where(s.node_state.c.name == name)
        ).scalar()
        return int(value or 0)

    def set_state_value(self, name: str, value: int) -> None:
        """Set a named counter of this node."""
        moved = self.conn.execute(
            update(s.node_state).where(s.node_state.c.name == name).values(value=value)
        )
        if moved.rowcount == 0:
            self.conn.execute(insert(s.node_state).values(name=name, value=value))

    def cursor(self, peer: str) -> int:
        """How far this node has pulled from ``peer``'s feed (0 when never)."""
        value = self.conn.execute(
            select(s.peer_cursors.c.position).where(s.peer_cursors.c.peer == peer)
        ).scalar()
        return int(value or 0)

    def set_cursor(self, peer: str, position: int, now_ms: int) -> None:
        """Record how far this node has pulled; call in the transaction that stored the events."""
        moved = self.conn.execute(
            update(s.peer_cursors)
            .where(s.peer_cursors.c.peer == peer)
            .values(position=position, updated_ms=now_ms)
        )
        if moved.rowcount == 0:
            self.conn.execute(
                insert(s.peer_cursors).values(peer=peer, position=position, updated_ms=now_ms)
            )

    def record_problem(
        self, event_id: str, origin_node: str, peer: str, reason: str, now_ms: int
    ) -> None:
        """Keep a note of an event refused on receipt (it is not stored in the log)."""
        self.conn.execute(
            insert(s.sync_problems).values(
                event_id=event_id,
                origin_node=origin_node,
                peer=peer,
                reason=reason,
                recorded_ms=now_ms,
            )
        )
