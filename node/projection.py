"""The ticket projection: a table of folded ticket states, kept in step with the log.

Events are the truth; this table is a view (DESIGN.md rule 1). The log writer calls
``TicketProjection`` at the end of every transaction with the tickets it touched, so the view
is updated atomically with the events. ``rebuild`` recomputes the whole table from the log,
and ``differences`` compares the live table with a fresh fold: the test suite and
``hotline projection check`` use it to prove the two agree.

The same hook keeps the jurisdiction feed that children pull (``sync.schema.feed``): when a
ticket reaches a unit below this node (routed to a county, assigned to a station) that unit
is fed the ticket's whole history; afterwards it is fed each new event, up to and including
the one that takes the ticket away. The registering unit keeps being fed (``audience_of``).
It also writes the signals view that incident detection and the queues read (``node.signals``)
beside the tickets table, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    insert,
    select,
)

from core.ticket.fold import fold
from core.ticket.state import TicketState
from core.units import Unit
from node.obligations import DeadlineRules
from node.signals import refresh_signals, ticket_signals
from proto.hotline.v1 import ticket_pb2
from sync.codec import to_message
from sync.log_store import EventLog
from sync.schema import feed as feed_table
from sync.schema import metadata
from sync.statements import BulkRows, KeyedQuery

tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("holder_unit", String(12), nullable=False),
    Column("assigned_station", String(12), nullable=False),
    Column("registering_unit", String(12), nullable=False),
    Column("respondent_name", String(200), nullable=False),
    Column("category", String(100), nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("dispatch_count", Integer, nullable=False),
    Column("in_conflict", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_hlc", BigInteger, nullable=False),
    Column("state", LargeBinary, nullable=False),
    Index("ix_tickets_holder_unit", "holder_unit"),
    Index("ix_tickets_status", "status"),
)


_UPSERT_TICKETS = BulkRows(tickets, [c.name for c in tickets.columns], on_conflict="update")


_AUDIENCES = KeyedQuery(
    select(
        tickets.c.ticket_id,
        tickets.c.holder_unit,
        tickets.c.assigned_station,
        tickets.c.registering_unit,
    ),
    tickets.c.ticket_id,
)
"""Who saw some tickets until now (their holding, assigned and registering units)."""


def encode_state(state: TicketState) -> bytes:
    """The ``hotline.v1.Ticket`` bytes of a folded state."""
    return to_message(state, ticket_pb2.Ticket).SerializeToString(deterministic=True)


def projection_row(state: TicketState) -> dict[str, object]:
    """The projection row of one ticket."""
    reg = state.registration
    return {
        "ticket_id": state.ticket_id,
        "kind": reg.kind.value if reg else "",
        "status": state.status.value,
        "holder_unit": state.holder_unit,
        "assigned_station": state.assigned_station,
        "registering_unit": reg.registering_unit if reg else "",
        "respondent_name": reg.respondent.name[:200] if reg else "",
        "category": reg.category[:100] if reg else "",
        "received_ms": int(reg.received_at.timestamp() * 1000) if reg else 0,
        "dispatch_count": state.dispatch_count,
        "in_conflict": state.in_conflict,
        "version": state.version,
        "last_hlc": state.last_hlc,
        "state": encode_state(state),
    }


def _audience(own: Unit, *units: str) -> set[str]:
    """Which of ``units`` (holder, station, registering unit) sit strictly below this node."""
    return {u for u in units if u and u != own.code and own.covers(u)}


def audience_of(own: Unit, state: TicketState) -> set[str]:
    """The units below this node that must see the ticket now.

    The unit holding it and the station working on it; and the unit that registered it, which
    follows its ticket to the end because the consumer calls it back (a county learns what
    became of a walk-in complaint it sent elsewhere; a province of one it relayed nationally).
    """
    registering = state.registration.registering_unit if state.registration else ""
    return _audience(own, state.holder_unit, state.assigned_station, registering)


class TicketProjection:
    """Keeps the ``tickets`` table and the jurisdiction feed; called by the log writer."""

    def __init__(self, own_unit: Unit, deadlines: DeadlineRules | None = None) -> None:
        self.own_unit = own_unit
        self.deadlines = deadlines
        """Keeps the obligations view beside the tickets (None: a tool that needs no deadlines)."""

    def __call__(
        self,
        conn: Connection,
        states: dict[str, TicketState],
        new_positions: dict[str, list[int]],
        committed: Mapping[str, TicketState] | None = None,
    ) -> dict[str, bytes]:
        """Write the new states of the changed tickets, feed their events to children, and
        return each ticket's encoded view. ``committed``: the states the views were last
        written from, where the writer knows them (rows they determine alike are not
        rewritten)."""
        rows = {t: projection_row(s) for t, s in states.items()}
        known = [t for t, s in states.items() if s.version > len(new_positions.get(t, ()))]
        before_known = set(known)  # the others are wholly new: all their events are new ones
        # Tickets that existed before this transaction: who saw them until now. Their rows
        # were written from the state the writer folded before this batch, where it did
        # (``committed``), so those are read from it; the rest from the table.
        committed = committed or {}
        before = {t: audience_of(self.own_unit, committed[t]) for t in known if t in committed}
        unread = [t for t in known if t not in before]
        if unread:
            before.update(
                (ticket_id, _audience(self.own_unit, holder, station, registering))
                for ticket_id, holder, station, registering in _AUDIENCES.all(conn, unread)
            )
        _UPSERT_TICKETS.run(conn, list(rows.values()))
        log = EventLog(conn)
        feed: list[dict[str, object]] = []
        for ticket_id, state in states.items():
            old = before.get(ticket_id, set())
            for unit in sorted(old | audience_of(self.own_unit, state)):
                positions = (
                    sorted(new_positions.get(ticket_id, ()))
                    if unit in old or ticket_id not in before_known
                    else log.ticket_positions(ticket_id)
                )
                feed.extend({"unit_code": unit, "event_pos": p} for p in positions)
        if feed:
            conn.execute(insert(feed_table), feed)
        refresh_signals(conn, states.values(), committed)
        if self.deadlines is not None:
            self.deadlines.refresh(conn, states.values(), existing=before_known)
        return {t: r["state"] for t, r in rows.items()}  # type: ignore[misc]

    def fold_from_log(self, conn: Connection, ticket_id: str) -> TicketState:
        """The state of one ticket folded afresh from the log."""
        return fold(ticket_id, (e.recorded() for e in EventLog(conn).ticket_events(ticket_id)))

    def rebuild(self, conn: Connection) -> int:
        """Recompute the whole ``tickets`` table from the log; returns the number of tickets."""
        conn.execute(delete(tickets))
        conn.execute(delete(ticket_signals))
        ids = EventLog(conn).all_ticket_ids()
        for start in range(0, len(ids), 500):
            states = [self.fold_from_log(conn, t) for t in ids[start : start + 500]]
            if states:
                conn.execute(insert(tickets), [projection_row(s) for s in states])
                refresh_signals(conn, states)
                if self.deadlines is not None:
                    self.deadlines.refresh(conn, states)
        return len(ids)

    def differences(self, conn: Connection) -> list[str]:
        """Tickets whose live row differs from a fresh fold of the log (empty = all agree)."""
        live = {r.ticket_id: r._asdict() for r in conn.execute(select(tickets))}
        ids = EventLog(conn).all_ticket_ids()
        held = set(ids)
        problems = [t for t in live if t not in held]
        for ticket_id in ids:
            row = live.get(ticket_id)
            if row != projection_row(self.fold_from_log(conn, ticket_id)):
                problems.append(ticket_id)
        return sorted(problems)


def states(conn: Connection, ticket_ids: Iterable[str]) -> dict[str, ticket_pb2.Ticket]:
    """The stored ``Ticket`` views of some tickets."""
    found: dict[str, ticket_pb2.Ticket] = {}
    for row in conn.execute(
        select(tickets.c.ticket_id, tickets.c.state).where(
            tickets.c.ticket_id.in_(list(ticket_ids))
        )
    ):
        msg = ticket_pb2.Ticket()
        msg.ParseFromString(row.state)
        found[row.ticket_id] = msg
    return found
