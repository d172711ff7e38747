"""Reading the signed log through one connection, inside a unit of work.

Every method works on the connection it was given, so the caller decides the transaction (a
writer batch, a read snapshot). The log's rows are written by the node's one writer
(``sync.writer``, whose ``event_row`` builds an event's row); the few writes here prepare a
node's database at start, before its writer runs (its own chain head, its certificates).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from sqlalchemy import ColumnElement, Connection, Row, func, insert, select, update

from proto.hotline.v1 import events_pb2
from sync import schema as s
from sync.envelope import SealedEvent, open_sealed
from sync.pki import NodeCertificate, PkiError
from sync.statements import KeyedQuery
from sync.trust import TrustStore, certificate_row

HLC_STATE = "hlc"


@dataclass(frozen=True)
class Head:
    """How far a complete chain is held: its last sequence and that envelope's hash."""

    origin_node: str
    origin_unit: str
    seq: int
    hash: bytes


_EVENTS_OF_TICKETS = KeyedQuery(
    select(s.events.c.ticket_id, s.events.c.envelope, s.events.c.signature)
    .where(s.events.c.verdict == "")
    .order_by(s.events.c.pos),
    s.events.c.ticket_id,
)
"""The counted events of some tickets, in local arrival order."""
_EVENT_IDS_OF_TICKETS = KeyedQuery(
    select(s.events.c.ticket_id, s.events.c.event_id).where(s.events.c.verdict == ""),
    s.events.c.ticket_id,
)
"""The ids of the counted events of some tickets (what a kept fold is checked against)."""


def _sealed(row: object) -> SealedEvent:
    return open_sealed(row.envelope, row.signature)  # type: ignore[attr-defined]


def _feed_for(prefix: str, after: int) -> tuple[ColumnElement[bool], ...]:
    """Which feed entries (joined to their events) a child under ``prefix`` pulls after ``after``.

    Events recorded inside the same subtree are left out: the child pushed them up and
    already has them; so are events kept only as evidence (a non-empty verdict).
    """
    return (
        s.feed.c.pos > after,
        s.feed.c.unit_code.startswith(prefix, autoescape=True),
        ~s.events.c.origin_unit.startswith(prefix, autoescape=True),
        s.events.c.verdict == "",
    )


class EventLog:
    """The signed log, its heads, keys, feed and cursors, seen through one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- preparing a node's database at start -------------------------------------------------

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
        """Every counted event of one ticket held here, in local arrival order."""
        rows = self.conn.execute(
            select(s.events.c.envelope, s.events.c.signature)
            .where(s.events.c.ticket_id == ticket_id, s.events.c.verdict == "")
            .order_by(s.events.c.pos)
        )
        return [_sealed(r) for r in rows]

    def events_of_tickets(self, ticket_ids: Sequence[str]) -> dict[str, list[SealedEvent]]:
        """Every counted event of several tickets, by ticket, in local arrival order."""
        found: dict[str, list[SealedEvent]] = {}
        for ticket_id, envelope, signature in _EVENTS_OF_TICKETS.all(self.conn, ticket_ids):
            found.setdefault(ticket_id, []).append(open_sealed(envelope, signature))
        return found

    def event_ids_of_tickets(self, ticket_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """The ids of every counted event of several tickets, by ticket (none: absent)."""
        found: dict[str, set[str]] = {}
        for ticket_id, event_id in _EVENT_IDS_OF_TICKETS.all(self.conn, ticket_ids):
            found.setdefault(ticket_id, set()).add(event_id)
        return {t: frozenset(ids) for t, ids in found.items()}

    def ticket_positions(self, ticket_id: str) -> list[int]:
        """Local positions of one ticket's counted events, ascending."""
        return list(
            self.conn.execute(
                select(s.events.c.pos)
                .where(s.events.c.ticket_id == ticket_id, s.events.c.verdict == "")
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

    def signed_chain_after(
        self, origin_node: str, seq: int, limit: int
    ) -> list[tuple[int, str, events_pb2.SignedEvent]]:
        """Up to ``limit`` events of a chain after ``seq`` as sent on the wire, unparsed:
        (sequence, signer key id, signed event). Pushing a backlog needs no more."""
        rows = self.conn.execute(
            select(
                s.events.c.origin_seq,
                s.events.c.signer_key_id,
                s.events.c.envelope,
                s.events.c.signature,
            )
            .where(s.events.c.origin_node == origin_node, s.events.c.origin_seq > seq)
            .order_by(s.events.c.origin_seq)
            .limit(limit)
        )
        return [
            (
                r.origin_seq,
                r.signer_key_id,
                events_pb2.SignedEvent(envelope=r.envelope, signature=r.signature),
            )
            for r in rows
        ]

    def registrations_in_chain(self, origin_node: str, after: int, upto: int) -> dict[int, str]:
        """The registrations of a chain between two sequences (``after`` < seq <= ``upto``):
        sequence -> ticket id. What a push sends the sealed personal data of."""
        rows = self.conn.execute(
            select(s.events.c.origin_seq, s.events.c.ticket_id).where(
                s.events.c.origin_node == origin_node,
                s.events.c.origin_seq > after,
                s.events.c.origin_seq <= upto,
                s.events.c.event_type == "hotline.v1.TicketRegistered",
            )
        )
        return {int(r.origin_seq): str(r.ticket_id) for r in rows}

    def feed_after(self, prefix: str, after: int, limit: int) -> list[tuple[int, SealedEvent]]:
        """The jurisdiction feed for units under ``prefix`` after position ``after``.

        Events recorded inside the same subtree are left out: the child pushed them up and
        already has them.
        """
        rows = self.conn.execute(
            select(s.feed.c.pos, s.events.c.envelope, s.events.c.signature)
            .join(s.events, s.events.c.pos == s.feed.c.event_pos)
            .where(*_feed_for(prefix, after))
            .order_by(s.feed.c.pos)
            .limit(limit)
        )
        return [(r.pos, _sealed(r)) for r in rows]

    def feed_count_after(self, prefix: str, after: int) -> int:
        """How many entries ``feed_after`` would still hand units under ``prefix`` after ``after``.

        The same filter as ``feed_after``: entries the child never pulls (its own subtree's
        events, events kept only as evidence) are not counted, so the count drains to 0.
        """
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(s.feed)
                .join(s.events, s.events.c.pos == s.feed.c.event_pos)
                .where(*_feed_for(prefix, after))
            ).scalar_one()
        )

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

    def certificate_rows(self) -> list[tuple[str, bytes]]:
        """Every certificate held (kind "ca" or "node", DER), authorities first."""
        rows = self.conn.execute(
            select(s.trusted_certificates.c.kind, s.trusted_certificates.c.der).order_by(
                s.trusted_certificates.c.kind, s.trusted_certificates.c.fingerprint
            )
        )
        return [(r.kind, r.der) for r in rows]

    def load_trust(self, store: TrustStore) -> list[str]:
        """Fill ``store`` with the certificates and revocation lists kept here.

        Returns the reasons for rows that no longer verify (they are skipped, not trusted).
        """
        problems: list[str] = []
        certificates = []
        for _, der in self.certificate_rows():
            try:
                certificates.append(x509.load_der_x509_certificate(bytes(der)))
            except ValueError as exc:
                problems.append(f"certificate does not parse: {exc}")
        problems.extend(f"certificate refused: {reason}" for reason in store.add_any(certificates))
        for der in self.revocation_list_rows():
            try:
                store.add_revocations(x509.load_der_x509_crl(bytes(der)))
            except (ValueError, PkiError) as exc:
                problems.append(f"revocation list refused: {exc}")
        return problems

    def keep_certificate(self, cert: x509.Certificate, node: NodeCertificate | None) -> None:
        """Keep a certificate in ``trusted_certificates`` unless it is already there."""
        row = certificate_row(cert, node)
        held = self.conn.execute(
            select(s.trusted_certificates.c.fingerprint).where(
                s.trusted_certificates.c.fingerprint == row["fingerprint"]
            )
        ).first()
        if held is None:
            self.conn.execute(insert(s.trusted_certificates).values(**row))

    def revocation_list_rows(self) -> list[bytes]:
        """Every revocation list held (DER)."""
        return list(self.conn.execute(select(s.revocation_lists.c.der)).scalars())

    def quarantined(self) -> dict[str, tuple[str, int]]:
        """Origins held back until an administrator releases them: reason and since when."""
        rows = self.conn.execute(select(s.quarantined_origins))
        return {r.origin_node: (r.reason, r.since_ms) for r in rows}

    def open_alerts(self, limit: int = 100) -> list[Row[Any]]:
        """Alerts not cleared, newest first."""
        return list(
            self.conn.execute(
                select(s.alerts)
                .where(s.alerts.c.cleared_ms == 0)
                .order_by(s.alerts.c.id.desc())
                .limit(limit)
            )
        )

    def count_open_alerts(self) -> int:
        """How many alerts are not cleared."""
        return int(
            self.conn.execute(
                select(func.count()).select_from(s.alerts).where(s.alerts.c.cleared_ms == 0)
            ).scalar_one()
        )

    def count_refused(self) -> int:
        """Events refused on receipt or kept only as evidence."""
        refused = self.conn.execute(select(func.count()).select_from(s.sync_problems))
        kept = self.conn.execute(
            select(func.count()).select_from(s.events).where(s.events.c.verdict != "")
        )
        return int(refused.scalar_one()) + int(kept.scalar_one())

    def state_value(self, name: str) -> int:
        """A named counter of this node (e.g. the last hybrid clock value); 0 if unset."""
        value = self.conn.execute(
            select(s.node_state.c.value).where(s.node_state.c.name == name)
        ).scalar()
        return int(value or 0)

    def cursor(self, peer: str) -> int:
        """How far this node has pulled from ``peer``'s feed (0 when never)."""
        value = self.conn.execute(
            select(s.peer_cursors.c.position).where(s.peer_cursors.c.peer == peer)
        ).scalar()
        return int(value or 0)

    def cursors_with_prefix(self, prefix: str) -> dict[str, int]:
        """Every cursor whose peer name starts with ``prefix``."""
        rows = self.conn.execute(
            select(s.peer_cursors.c.peer, s.peer_cursors.c.position).where(
                s.peer_cursors.c.peer.startswith(prefix, autoescape=True)
            )
        )
        return {r.peer: int(r.position) for r in rows}

    def parent_cursor(self) -> int:
        """How far this node has pulled from its parent, whichever node that was last."""
        value = self.conn.execute(
            select(func.max(s.peer_cursors.c.position)).where(
                s.peer_cursors.c.peer.startswith("parent:")
            )
        ).scalar()
        return int(value or 0)
