"""The ticket's state after a step: ``apply``, and what folding any event changes.

A step is checked first (``core.ticket.step_checks.why_not``); only one that fits is applied.
Applying it takes the step's own changes (``core.ticket.step_effects.changes_of``) and works
out what follows from them for the whole ticket: its status again from its parts, the units
newly involved, a closure that now awaits its callback, and the escalations and extension
requests of the duties the step ended (which step ends which duty is
``core.ticket.duties.duties_done_by``). ``folded_one_more`` is the fold's bookkeeping, which an
event kept as a conflict gets too.
"""

from __future__ import annotations

from dataclasses import replace

from core.ticket.duties import duties_done_by, owes
from core.ticket.escalation_history import with_ended
from core.ticket.events import DomainEvent, EventMeta, TicketRegistered
from core.ticket.state import (
    HIGHEST_TICKET_VERSION,
    Stage,
    TicketState,
    TicketStatus,
    TrackState,
)
from core.ticket.step_effects import changes_of
from core.ticket.vocabulary import Duty


def copy_with(state: TicketState, changes: dict[str, object]) -> TicketState:
    """A copy of ``state`` with ``changes``: ``dataclasses.replace`` without re-running
    ``__init__``, which the fold does for every event of every ticket (TicketState checks
    nothing on construction, so nothing is skipped)."""
    new = object.__new__(TicketState)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


def _status_of(
    registration: TicketRegistered | None,
    tracks: tuple[TrackState, ...],
    returned: bool,
    routed: bool,
) -> TicketStatus:
    """The ticket's status as a whole, from its parts."""
    if registration is None:
        return TicketStatus.UNKNOWN
    if registration.duplicate_of:
        return TicketStatus.DUPLICATE
    if tracks and all(t.stage.is_done for t in tracks):
        return TicketStatus.CLOSED
    if returned:
        return TicketStatus.RETURNED
    if all(t.stage is Stage.AWAITING_DECISION for t in tracks):
        return TicketStatus.ROUTED if routed else TicketStatus.REGISTERED
    return TicketStatus.IN_HANDLING


def _settled(after: TicketState, meta: EventMeta, event: DomainEvent) -> TicketState:
    """``after`` with the escalations and pending extension requests of ended duties gone.

    An escalation stands, and an extension request waits, only while its unit still owes
    the duty (its record in the history ends: superseded when this step came by the due
    time, ``core.ticket.escalation_history``); a step of ``duties_done_by`` ends the duty even
    where the same unit owes it again at once (routed back to the holder it had: its deadline
    starts afresh). A report on one supervision order ends only its unit's report duty, which
    ``owes`` tells.
    """
    if not after.escalations and not after.extensions:
        return after
    ended = duties_done_by(event) - {Duty.SUPERVISION_REPORT}

    def still_owed(duty: Duty, unit: str) -> bool:
        return duty not in ended and owes(after, duty, unit)

    escalations = tuple(e for e in after.escalations if still_owed(e.duty, e.from_unit))
    history = with_ended(
        after.escalation_history,
        [e for e in after.escalations if e not in escalations],
        ended_hlc=meta.hlc,
        done_hlc=meta.hlc,
    )
    extensions = tuple(
        replace(x, lapsed_hlc=meta.hlc)
        if x.pending and not still_owed(x.duty, x.requested_unit)
        else x
        for x in after.extensions
    )
    if escalations == after.escalations and extensions == after.extensions:
        return after
    return copy_with(
        after,
        {"escalations": escalations, "escalation_history": history, "extensions": extensions},
    )


def _newly_involved(state: TicketState, changes: dict[str, object]) -> list[str]:
    """Units that hold or work on the ticket after ``changes`` and never did before."""
    units = [changes.get("holder_unit"), changes.get("assigned_station")]
    return [
        u
        for u in dict.fromkeys(units)
        if isinstance(u, str) and u and u not in state.units_involved
    ]


def apply(state: TicketState, meta: EventMeta, event: DomainEvent) -> TicketState:
    """The state after ``event``; the caller has checked that ``why_not`` found no reason."""
    changes = changes_of(state, meta, event)
    involved = _newly_involved(state, changes)
    if involved:
        changes["units_involved"] = (*state.units_involved, *involved)
    merged = state.__dict__ | changes
    status = _status_of(
        merged["registration"],
        merged["tracks"],
        merged["returned"],
        merged["dispatch_count"] > 0 or bool(merged["last_router_unit"]),
    )
    changes["status"] = status
    if status is TicketStatus.CLOSED and state.status is not TicketStatus.CLOSED:
        changes["closed_hlc"] = meta.hlc
        changes["awaiting_callback"] = True
    changes.update(folded_one_more(state, meta))
    return _settled(copy_with(state, changes), meta, event)


def folded_one_more(state: TicketState, meta: EventMeta) -> dict[str, object]:
    """What folding one more event changes, whether it is applied or kept as a conflict.

    The clock, the version (exactly one per distinct event folded) and the fold's bookkeeping
    of the highest ``ticket_version`` seen (``TicketState.highest_ticket_version``; left
    unknown if it was unknown before).
    """
    changes: dict[str, object] = {
        "last_hlc": max(state.last_hlc, meta.hlc),
        "version": state.version + 1,
    }
    highest = state.highest_ticket_version
    if highest is not None:
        changes[HIGHEST_TICKET_VERSION] = max(highest, meta.ticket_version)
    return changes
