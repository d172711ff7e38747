"""The signals view: what incident detection and the queues need of each ticket, indexed.

Group complaints, professional claimants and emergencies (DOMAIN.md §6, docs/incidents.md) are
found by comparing tickets with each other: complaints against one business in a window, the
tickets of one filer. Reading every ticket's state blob for that would cost a node its whole
table at each sweep; so, like the obligations view, the ``ticket_signals`` table keeps one row
per registered ticket with the few comparable facts (the business's key, the filer's keys as
digests, when it was received, who holds it) and the marks it carries (incident, emergency,
claimant flag). It is a view of the ticket states, written by the projection in the same
transaction as the tickets table and rebuilt with it (DESIGN.md rule 1).

Personal data (DOMAIN.md §9): the filer's phone and ID number are kept only as keyed digests
under the province's look-up key, enough to compare, never to read back. The signed
registration no longer holds them (protocol 2); they are copied from ``personal_lookups``,
which the seal shelf writes with the sealed data (``sync.personal.shelf``) and which erasure
deletes with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    func,
    select,
)

from core.incidents import name_key, respondent_key
from core.ticket.events import TicketRegistered
from core.ticket.state import (
    Emergency,
    GroupIncident,
    ProfessionalClaimant,
    TicketState,
    TicketStatus,
)
from core.ticket.vocabulary import TicketKind
from node.storage.tables import ticket_signals
from sync.schema import personal_lookups
from sync.statements import BulkRows

_UPSERT_SIGNALS = BulkRows(
    ticket_signals, [c.name for c in ticket_signals.columns], on_conflict="update"
)

REASONS_SEPARATOR = "\x1f"
"""Between the emergency reasons in ``emergency_reasons``."""


class SignalInputs(NamedTuple):
    """All that ``signal_row`` reads of a state: equal inputs, equal rows.

    ``signal_row`` reads the state only through these, so that holds by construction; a
    field added to the row must be read through here too.
    """

    ticket_id: str
    registration: TicketRegistered | None
    status: TicketStatus
    holder_unit: str
    incident: GroupIncident | None
    emergency: Emergency | None
    claimant: ProfessionalClaimant | None
    personal_erased: bool


def signal_inputs(state: TicketState) -> SignalInputs:
    """The ``SignalInputs`` of a state."""
    return SignalInputs(
        state.ticket_id,
        state.registration,
        state.status,
        state.holder_unit,
        state.incident,
        state.emergency,
        state.claimant,
        state.personal_erased,
    )


def signal_row(state: TicketState, lookups: tuple[str, str] = ("", "")) -> dict[str, object] | None:
    """The signals row of one ticket; None while its registration is not held here.

    ``lookups``: the filer's keyed phone and ID digests held here ('' where none).
    """
    ticket_id, reg, status, holder_unit, incident, emergency, claimant, erased = signal_inputs(
        state
    )
    if reg is None:
        return None
    phone, id_number = ("", "") if erased else lookups
    return {
        "ticket_id": ticket_id,
        "kind": reg.kind.value,
        "status": status.value,
        "holder_unit": holder_unit,
        "received_ms": int(reg.received_at.timestamp() * 1000),
        "respondent_key": respondent_key(reg.respondent, reg.incident_region)[:300],
        "name_key": name_key(reg.respondent, reg.incident_region)[:300],
        "respondent_name": reg.respondent.name[:200],
        "phone_key": phone,
        "id_key": id_number,
        "incident_id": incident.incident_id if incident else "",
        "incident_key": incident.respondent_key[:300] if incident else "",
        "incident_to": incident.to_unit if incident else "",
        "emergency_to": emergency.to_unit if emergency else "",
        "emergency_reasons": REASONS_SEPARATOR.join(emergency.reasons)[:500] if emergency else "",
        "claimant": claimant is not None,
        "change_seq": 0,  # numbered when written (refresh_signals)
    }


def refresh_signals(
    conn: Connection,
    states: Iterable[TicketState],
    before: Mapping[str, TicketState] | None = None,
    *,
    seq: int | None = None,
) -> None:
    """Write the signals rows of ``states`` (called in the projection's transaction).

    ``seq``: the ``change_seq`` to number them with (by default ``next_change``).

    ``before`` maps tickets to the state their row was last written from (the projection
    writes it from every state it commits, and a rebuild from the fold). A ticket whose
    ``signal_inputs`` are still those keeps its row: it would be written again unchanged.
    A sweep's reminders and escalations are such steps (they touch none of the inputs), so
    a sweep rewrites no signals row.
    """
    changed = [
        state
        for state in states
        if before is None
        or (old := before.get(state.ticket_id)) is None
        or signal_inputs(old) != signal_inputs(state)
    ]
    if not changed:
        return
    held = lookups_of(conn, [s.ticket_id for s in changed])
    rows = [
        row
        for state in changed
        if (row := signal_row(state, held.get(state.ticket_id, ("", "")))) is not None
    ]
    write_signal_rows(conn, rows, seq=seq)


def write_signal_rows(
    conn: Connection, rows: list[dict[str, object]], *, seq: int | None = None
) -> None:
    """Upsert signals rows (``signal_row``), numbered in storing order: ``seq``, by default
    ``next_change``."""
    if not rows:
        return
    numbered = next_change(conn) if seq is None else seq
    for row in rows:
        row["change_seq"] = numbered
    _UPSERT_SIGNALS.run(conn, rows)


def last_change(conn: Connection) -> int:
    """The ``change_seq`` of the latest write to the signals view as committed (0: none).

    A writer transaction holds the node's head lock from its start to its commit, on every
    process of a node (``sync.writer.events``), and numbers its rows above every committed
    one: so a write not yet visible when this is read gets a larger number than it returns.
    """
    return int(conn.execute(select(func.max(ticket_signals.c.change_seq))).scalar() or 0)


def next_change(conn: Connection) -> int:
    """The ``change_seq`` of the rows a writer transaction writes (called inside it)."""
    return last_change(conn) + 1


def lookups_of(conn: Connection, ticket_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """The keyed phone and ID digests held for ``ticket_ids`` (``personal_lookups``)."""
    found: dict[str, tuple[str, str]] = {}
    t = personal_lookups.c
    for start in range(0, len(ticket_ids), 500):
        part = ticket_ids[start : start + 500]
        for r in conn.execute(
            select(t.ticket_id, t.phone_key, t.id_key).where(t.ticket_id.in_(part))
        ):
            found[r.ticket_id] = (r.phone_key, r.id_key)
    return found


def comparable_rows(
    prefix: str, since_ms: int, kinds: Sequence[TicketKind]
) -> list[ColumnElement[bool]]:
    """What every row detection compares must be: received since ``since_ms``, held under
    ``prefix`` (the detecting node's jurisdiction), of ``kinds``, and not a duplicate."""
    s = ticket_signals.c
    return [
        s.received_ms >= since_ms,
        s.holder_unit.startswith(prefix, autoescape=True),
        s.kind.in_([k.value for k in kinds]),
        s.status != TicketStatus.DUPLICATE.value,
    ]
