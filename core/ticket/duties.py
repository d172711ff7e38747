"""Which duties a ticket owes now, and which step ends which (DOMAIN.md §5-§6).

The fold needs these facts to keep reminders, escalations and extension requests in step with
the ticket: an escalation stands in a supervision queue only while the duty it is about is
still owed, and a pending extension request lapses when its duty ends first. When each duty
falls due, and what a sweep records about it, is ``core.deadlines``' business; this module
only says *whether* a duty is owed, and by whom, from the folded state.

Which step ends which duty (``duties_done_by``)
-----------------------------------------------

===========================================  ==============================================
step                                         ends
===========================================  ==============================================
``ComplaintAccepted``, ``ComplaintRefused``  ``DECIDE_ACCEPTANCE``
``MediationEnded``                           ``END_MEDIATION``
``ReportVerified``                           ``VERIFY_REPORT``
``CallbackRecorded``, ``TicketReopened``     ``CALLBACK``
``SupervisionReported``                      ``SUPERVISION_REPORT`` of the reporting unit
``TicketRouted``, ``TicketReturned``,        ``DECIDE_ACCEPTANCE``, ``END_MEDIATION``,
``TicketForwarded``                          ``VERIFY_REPORT``: the unit that held the ticket
                                             no longer owes them; the next holder's duties
                                             start afresh at ``TicketState.held_since_hlc``
===========================================  ==============================================

An approved extension does not end its duty, but it moves the deadline: the duty is no longer
overdue, so the escalations of the requesting unit's duty end too (if the new deadline passes,
the duty escalates again from level 1). ``ODR_ANSWER`` (DOMAIN.md §8) is owed by the county
that enrolled the enterprise while the dispute is open, and ended by the consumer's answer, a
withdrawal or the conversion into a complaint (``OdrProposalAnswered``, ``OdrDisputeClosed``,
``OdrDisputeConverted``); nobody can ask for more time on it (the limit is the rule book's).
While the dispute is open the holder owes no acceptance decision: the bureau's casework waits.

Who owes a duty (``duty_owners``): the holding unit, for the decision (a city or county: a hub
holding a ticket only dispatches it), mediation, verification and callback duties while the
ticket's state says the step is still to come (the callback: from each closure until its
callback, whatever the ticket's kind; the policy table says which kinds are timed); for
``SUPERVISION_REPORT``, each unit with an unreported supervision order.
"""

from __future__ import annotations

from core.ticket.events import (
    CallbackRecorded,
    ComplaintAccepted,
    ComplaintRefused,
    DomainEvent,
    MediationEnded,
    OdrDisputeClosed,
    OdrDisputeConverted,
    OdrProposalAnswered,
    ReportVerified,
    SupervisionReported,
    TicketForwarded,
    TicketReopened,
    TicketReturned,
    TicketRouted,
)
from core.ticket.state import Stage, TicketState, TicketStatus
from core.ticket.vocabulary import Duty, ReminderLevel, Track
from core.units import HANDLING_LEVELS, level_of

HOLDER_DUTIES = frozenset({Duty.DECIDE_ACCEPTANCE, Duty.END_MEDIATION, Duty.VERIFY_REPORT})
"""The duties a unit owes because it holds the ticket: they end when the ticket leaves it."""

_DONE_BY: dict[type, frozenset[Duty]] = {
    ComplaintAccepted: frozenset({Duty.DECIDE_ACCEPTANCE}),
    ComplaintRefused: frozenset({Duty.DECIDE_ACCEPTANCE}),
    MediationEnded: frozenset({Duty.END_MEDIATION}),
    ReportVerified: frozenset({Duty.VERIFY_REPORT}),
    CallbackRecorded: frozenset({Duty.CALLBACK}),
    TicketReopened: frozenset({Duty.CALLBACK}),
    SupervisionReported: frozenset({Duty.SUPERVISION_REPORT}),
    TicketRouted: HOLDER_DUTIES,
    TicketReturned: HOLDER_DUTIES,
    TicketForwarded: HOLDER_DUTIES,
    OdrProposalAnswered: frozenset({Duty.ODR_ANSWER}),
    OdrDisputeClosed: frozenset({Duty.ODR_ANSWER}),
    OdrDisputeConverted: frozenset({Duty.ODR_ANSWER, *HOLDER_DUTIES}),
}

_OPEN = (TicketStatus.REGISTERED, TicketStatus.ROUTED, TicketStatus.IN_HANDLING)


def duties_done_by(event: DomainEvent) -> frozenset[Duty]:
    """The duties ``event`` ends (see the table in the module docstring)."""
    return _DONE_BY.get(type(event), frozenset())


def _stage_in(state: TicketState, track: Track, *stages: Stage) -> bool:
    ts = state.track(track)
    return ts is not None and ts.stage in stages


def _deciding(state: TicketState) -> bool:
    """True when the holder is a handling unit with the ticket open before it.

    A hub holding a ticket (registered there, relayed or returned to it) dispatches it; the
    first decision is owed by the city or county it goes to, from when it gets there.
    """
    holder = state.holder_unit
    if state.dispute is not None and state.dispute.open:
        return False  # with the enterprise: the bureau's casework waits (core.odr.dispute_steps)
    return state.status in _OPEN and bool(holder) and level_of(holder) in HANDLING_LEVELS


def duty_owners(state: TicketState, duty: Duty) -> frozenset[str]:
    """The units that owe ``duty`` on the ticket now; empty when nobody does."""
    if state.registration is None or state.status is TicketStatus.DUPLICATE:
        return frozenset()
    if duty is Duty.SUPERVISION_REPORT:
        return frozenset(o.to_unit for o in state.supervision_orders if not o.reported)
    if duty is Duty.ODR_ANSWER:
        dispute = state.dispute
        owed_odr = dispute is not None and dispute.open
        return frozenset({dispute.enterprise_unit}) if dispute and owed_odr else frozenset()
    match duty:
        case Duty.DECIDE_ACCEPTANCE:
            owed = _deciding(state) and _stage_in(state, Track.COMPLAINT, Stage.AWAITING_DECISION)
        case Duty.END_MEDIATION:
            owed = _stage_in(state, Track.COMPLAINT, Stage.MEDIATING, Stage.MEDIATION_PAUSED)
        case Duty.VERIFY_REPORT:
            owed = _deciding(state) and _stage_in(state, Track.REPORT, Stage.AWAITING_DECISION)
        case Duty.CALLBACK:
            owed = state.status is TicketStatus.CLOSED and state.awaiting_callback
        case _:
            owed = False
    return frozenset({state.holder_unit}) if owed and state.holder_unit else frozenset()


def owes(state: TicketState, duty: Duty, unit_code: str) -> bool:
    """True when ``unit_code`` owes ``duty`` on the ticket now."""
    return unit_code in duty_owners(state, duty)


def duty_open(state: TicketState, duty: Duty) -> bool:
    """True when some unit owes ``duty`` on the ticket now."""
    return bool(duty_owners(state, duty))


def is_escalated(state: TicketState, duty: Duty, from_unit: str, level: int) -> bool:
    """True when ``from_unit``'s overdue ``duty`` already stands at escalation ``level``."""
    return any(
        e.duty is duty and e.from_unit == from_unit and e.level == level for e in state.escalations
    )


def was_reminded(
    state: TicketState, duty: Duty, level: ReminderLevel, unit_code: str, due_ms: int
) -> bool:
    """True when this reminder (duty, level, owing unit, deadline) was already sent."""
    return any(
        r.duty is duty and r.level is level and r.unit_code == unit_code and r.due_ms == due_ms
        for r in state.reminders_sent
    )
