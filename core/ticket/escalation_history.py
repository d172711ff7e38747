"""The history of a ticket's escalations: which count against the unit, which do not (督办记录).

An overdue duty may be escalated by more than one node: the owing unit's own node on time, and
the nodes above it when it is dark (supervision from above, ``core.deadlines.sweep``). The fold
keeps one escalation standing per (duty, owing unit, level), the first in fold order; this
module records every ``TicketEscalated`` it folds and what became of it, so that the ticket
says, the same on every node, how many escalations count against the unit (DOMAIN.md §6).

When the step that ends a duty arrives, its standing escalations end. Whether they count is
decided by the step's own clock, not by when it reached the node: a county that accepted a
complaint in time while cut off was never overdue, so what its parent escalated meanwhile is
*superseded* (kept, not counted); a step taken after the due time leaves the escalation
counted (*ended*).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from core.hlc import to_millis
from core.ticket.events import EventMeta, TicketEscalated
from core.ticket.state import Escalation, EscalationRecord, TicketState
from core.ticket.vocabulary import EscalationOutcome


def with_escalation(
    state: TicketState, meta: EventMeta, event: TicketEscalated, outcome: EscalationOutcome
) -> tuple[EscalationRecord, ...]:
    """The history with ``event`` added as judged (standing, repeated or moot)."""
    record = EscalationRecord(
        duty=event.duty,
        level=event.level,
        from_unit=event.from_unit,
        to_unit=event.to_unit,
        due_ms=event.due_ms,
        escalated_hlc=meta.hlc,
        origin_node=meta.origin_node,
        event_id=meta.event_id,
        outcome=outcome,
    )
    return (*state.escalation_history, record)


def with_ended(
    history: tuple[EscalationRecord, ...],
    removed: Iterable[Escalation],
    *,
    ended_hlc: int,
    done_hlc: int,
) -> tuple[EscalationRecord, ...]:
    """The history with the standing records of ``removed`` ended at ``ended_hlc``.

    ``done_hlc`` is the clock of the step that settled the duty (for an approved extension, of
    its request): before the due time, the duty was never overdue and the escalation is
    superseded; at or after it, the escalation ended and still counts.
    """
    keys = {(e.duty, e.from_unit, e.level) for e in removed}
    if not keys:
        return history
    done_ms = to_millis(done_hlc)

    def settled(record: EscalationRecord) -> EscalationRecord:
        if record.outcome is not EscalationOutcome.STANDING:
            return record
        if (record.duty, record.from_unit, record.level) not in keys:
            return record
        in_time = done_ms < record.due_ms
        outcome = EscalationOutcome.SUPERSEDED if in_time else EscalationOutcome.ENDED
        return replace(record, outcome=outcome, ended_hlc=ended_hlc)

    return tuple(settled(r) for r in history)


def counted_escalations(state: TicketState) -> tuple[EscalationRecord, ...]:
    """The escalations that count against the units that owed the duties (standing or ended)."""
    return tuple(r for r in state.escalation_history if r.outcome.counted)
