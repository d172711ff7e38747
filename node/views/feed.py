"""The jurisdiction feed: which units below this node must see a ticket, and from which event.

Children pull the feed (``sync.schema.feed``) from a cursor they keep. When a ticket reaches
a unit below this node (routed to a county, assigned to a station) that unit is fed the
ticket's whole history; afterwards it is fed each new event, up to and including the one that
takes the ticket away. The unit that registered a ticket keeps being fed to the end
(``audience_of``). Written by the projection in the writer's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, insert, select

from core.ticket.state import TicketState
from core.units import Unit
from node.storage.tables import tickets
from sync.log_store import EventLog
from sync.schema import feed
from sync.statements import KeyedQuery

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


def _below(own: Unit, *units: str) -> set[str]:
    """Which of ``units`` (holder, station, registering unit) sit strictly below this node."""
    return {u for u in units if u and u != own.code and own.covers(u)}


def audience_of(own: Unit, state: TicketState) -> set[str]:
    """The units below this node that must see the ticket now.

    The unit holding it and the station working on it; and the unit that registered it, which
    follows its ticket to the end because the consumer calls it back (a county learns what
    became of a walk-in complaint it sent elsewhere; a province of one it relayed nationally).
    """
    registering = state.registration.registering_unit if state.registration else ""
    return _below(own, state.holder_unit, state.assigned_station, registering)


def audiences_before(
    conn: Connection,
    own: Unit,
    known: list[str],
    committed: Mapping[str, TicketState],
) -> dict[str, set[str]]:
    """Who saw each of the ``known`` tickets until now, before the rows are rewritten.

    Read from the state the views were last written from where the writer folded it
    (``committed``), from the tickets table otherwise.
    """
    before = {t: audience_of(own, committed[t]) for t in known if t in committed}
    unread = [t for t in known if t not in before]
    if unread:
        before.update(
            (ticket_id, _below(own, holder, station, registering))
            for ticket_id, holder, station, registering in _AUDIENCES.all(conn, unread)
        )
    return before


def feed_children(
    conn: Connection,
    own: Unit,
    states: Mapping[str, TicketState],
    new_positions: Mapping[str, list[int]],
    before: Mapping[str, set[str]],
    existed: set[str],
) -> None:
    """Append the feed rows the changed tickets owe their audiences.

    A unit that already saw a ticket gets its new events; a unit that sees it for the first
    time gets its whole history (a wholly new ticket's history is its new events).
    """
    log = EventLog(conn)
    rows: list[dict[str, object]] = []
    for ticket_id, state in states.items():
        old = before.get(ticket_id, set())
        for unit in sorted(old | audience_of(own, state)):
            positions = (
                sorted(new_positions.get(ticket_id, ()))
                if unit in old or ticket_id not in existed
                else log.ticket_positions(ticket_id)
            )
            rows.extend({"unit_code": unit, "event_pos": p} for p in positions)
    if rows:
        conn.execute(insert(feed), rows)
