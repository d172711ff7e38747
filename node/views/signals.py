"""The signals view: what incident detection and the queues need of each ticket, indexed.

Group complaints, professional claimants and emergencies (DOMAIN.md §6, docs/incidents.md) are
found by comparing tickets with each other: complaints against one business in a window, the
tickets of one filer. Reading every ticket's state blob for that would cost a node its whole
table at each sweep; so, like the obligations view, the ``ticket_signals`` table keeps one row
per registered ticket with the few comparable facts (the business's key, the filer's keys as
digests, when it was received, who holds it) and the marks it carries (incident, emergency,
claimant flag). It is a view of the ticket states, written by the projection in the same
transaction as the tickets table and rebuilt with it (DESIGN.md rule 1).

Personal data (DOMAIN.md §9): the filer's phone and ID number are kept only as digests
(``core.incidents.phone_key``/``id_key``), enough to compare, never to read back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
)

from core.incidents import id_key, name_key, phone_key, respondent_key
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
    )


def signal_row(state: TicketState) -> dict[str, object] | None:
    """The signals row of one ticket; None while its registration is not held here."""
    ticket_id, reg, status, holder_unit, incident, emergency, claimant = signal_inputs(state)
    if reg is None:
        return None
    return {
        "ticket_id": ticket_id,
        "kind": reg.kind.value,
        "status": status.value,
        "holder_unit": holder_unit,
        "received_ms": int(reg.received_at.timestamp() * 1000),
        "respondent_key": respondent_key(reg.respondent, reg.incident_region)[:300],
        "name_key": name_key(reg.respondent, reg.incident_region)[:300],
        "respondent_name": reg.respondent.name[:200],
        "phone_key": phone_key(reg.consumer),
        "id_key": id_key(reg.consumer),
        "incident_id": incident.incident_id if incident else "",
        "incident_key": incident.respondent_key[:300] if incident else "",
        "incident_to": incident.to_unit if incident else "",
        "emergency_to": emergency.to_unit if emergency else "",
        "emergency_reasons": REASONS_SEPARATOR.join(emergency.reasons)[:500] if emergency else "",
        "claimant": claimant is not None,
    }


def refresh_signals(
    conn: Connection,
    states: Iterable[TicketState],
    before: Mapping[str, TicketState] | None = None,
) -> None:
    """Write the signals rows of ``states`` (called in the projection's transaction).

    ``before`` maps tickets to the state their row was last written from (the projection
    writes it from every state it commits, and a rebuild from the fold). A ticket whose
    ``signal_inputs`` are still those keeps its row: it would be written again unchanged.
    A sweep's reminders and escalations are such steps (they touch none of the inputs), so
    a sweep rewrites no signals row.
    """
    rows = [
        row
        for state in states
        if before is None
        or (old := before.get(state.ticket_id)) is None
        or signal_inputs(old) != signal_inputs(state)
        if (row := signal_row(state)) is not None
    ]
    if rows:
        _UPSERT_SIGNALS.run(conn, rows)


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
