"""The tickets view: a table of folded ticket states, kept in step with the log.

Events are the truth; this table is a view (DESIGN.md rule 1). The log writer calls
``TicketProjection`` at the end of every transaction with the tickets it touched, so the views
are updated atomically with the events: the tickets table, the jurisdiction feed children pull
(``node.views.feed``), the signals detection and queues compare (``node.views.signals``) and
the open obligations the sweeps act on (``node.views.obligations``). ``rebuild`` recomputes the
views from the log, and ``differences`` compares the live table with a fresh fold: the test
suite and ``hotline projection check`` use it to prove the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, delete, insert, select

from core.ticket.fold import fold
from core.ticket.state import TicketState
from core.units import Unit
from node.storage.tables import consumer_codes, ticket_fingerprints, ticket_signals, tickets
from node.views.feed import audiences_before, feed_children
from node.views.obligations import DeadlineRules
from node.views.signals import next_change, refresh_signals
from sync.codec import encode_ticket
from sync.log_store import EventLog
from sync.schema import personal_lookups, personal_seals
from sync.statements import BulkRows

_UPSERT_TICKETS = BulkRows(tickets, [c.name for c in tickets.columns], on_conflict="update")


def encode_state(state: TicketState) -> bytes:
    """The ``hotline.v1.Ticket`` bytes of a folded state."""
    return encode_ticket(state)


def projection_row(state: TicketState, view: bytes | None = None) -> dict[str, object]:
    """The projection row of one ticket; ``view``: its ``encode_state`` if already made."""
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
        "state": view if view is not None else encode_state(state),
        "odr_credit_code": state.dispute.credit_code if state.dispute else "",
    }


ERASED_WITH_THE_DATA = (personal_seals, personal_lookups, consumer_codes, ticket_fingerprints)
"""What a node deletes of a ticket whose personal data was erased (个人信息删除): the sealed
data with its wrapped key, the keyed look-ups, the consumer's code and the same-matter
fingerprint (a digest over the phone). The signed log keeps only the commitment."""


def forget_erased(conn: Connection, ticket_ids: Sequence[str]) -> None:
    """Delete what this node holds of the erased tickets' personal data, in the transaction
    that folds their ``PersonalDataErased`` (or any later step of theirs: then it is a no-op)."""
    for start in range(0, len(ticket_ids), 500):
        part = ticket_ids[start : start + 500]
        for table in ERASED_WITH_THE_DATA:
            conn.execute(delete(table).where(table.c.ticket_id.in_(part)))


class TicketProjection:
    """Keeps the views of the tickets a transaction changed; called by the log writer."""

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
        encoded: Mapping[str, bytes] | None = None,
    ) -> dict[str, bytes]:
        """Write the new states of the changed tickets, feed their events to children, and
        return each ticket's encoded view. ``committed``: the states the views were last
        written from, where the writer knows them (rows they determine alike are not
        rewritten); ``encoded``: views of some of the states already encoded (by the worker
        that verified a backlog, ``sync.read_ahead``)."""
        views = encoded or {}
        rows = {t: projection_row(s, views.get(t)) for t, s in states.items()}
        # Tickets that existed before this transaction (the others' events are all new).
        known = [t for t, s in states.items() if s.version > len(new_positions.get(t, ()))]
        existed = set(known)
        committed = committed or {}
        before = audiences_before(conn, self.own_unit, known, committed)
        _UPSERT_TICKETS.run(conn, list(rows.values()))
        feed_children(conn, self.own_unit, states, new_positions, before, existed)
        forget_erased(conn, [t for t, s in states.items() if s.personal_erased])
        refresh_signals(conn, states.values(), committed)
        if self.deadlines is not None:
            self.deadlines.refresh(conn, states.values(), existing=existed)
        return {t: r["state"] for t, r in rows.items()}  # type: ignore[misc]

    def fold_from_log(self, conn: Connection, ticket_id: str) -> TicketState:
        """The state of one ticket folded afresh from the log."""
        return fold(ticket_id, (e.recorded() for e in EventLog(conn).ticket_events(ticket_id)))

    def rebuild(self, conn: Connection) -> int:
        """Recompute the whole ``tickets`` table from the log; returns the number of tickets."""
        # Rebuilt rows are numbered above every row they replace: detection that last looked
        # at the view before the rebuild sees all of them as changed.
        seq = next_change(conn)
        conn.execute(delete(tickets))
        conn.execute(delete(ticket_signals))
        ids = EventLog(conn).all_ticket_ids()
        for start in range(0, len(ids), 500):
            states = [self.fold_from_log(conn, t) for t in ids[start : start + 500]]
            if states:
                conn.execute(insert(tickets), [projection_row(s) for s in states])
                refresh_signals(conn, states, seq=seq)
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
