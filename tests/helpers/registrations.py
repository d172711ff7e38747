"""Writer jobs for the storage tests: a county officer registering the demo's gym complaint.

The log writer's tests and its bulk statements' tests drive a ``LogWriter`` directly, without
a node; these are the jobs they give it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.officers import Officer, Role
from core.regions import standard_units
from core.ticket.decisions import DecisionContext, register_ticket
from core.ticket.events import TicketRegistered
from core.ticket.state import TicketState
from core.units import UnitLevel
from node.devnet.samples import demo_tickets
from sync.writer import LogBatch

COUNTY = Officer(
    "620102-07", "李强", "620102", UnitLevel.COUNTY, frozenset({Role.HANDLER, Role.OPERATOR})
)
"""李强, handler and operator at Chengguan (620102)."""


def registration(ticket_id: str) -> TicketRegistered:
    """The gym complaint registered at Chengguan under ``ticket_id``."""
    ctx = DecisionContext(standard_units(), datetime(2026, 11, 23, tzinfo=UTC))
    return register_ticket(dict(demo_tickets())["gym"], COUNTY, ctx, ticket_id=ticket_id)


def register_job(ticket_id: str) -> Callable[[LogBatch], int]:
    """A writer job recording :func:`registration` of ``ticket_id``; it answers the event's
    sequence number in the node's own chain."""

    def job(batch: LogBatch) -> int:
        sealed = batch.record(
            ticket_id, [registration(ticket_id)], COUNTY.ref(), state=TicketState(ticket_id)
        )
        return sealed[0].origin_seq

    return job
