"""Whether a step fits the ticket's state: ``why_not`` gives the reason it does not, or None.

One table serves both sides of DESIGN.md rule 2. A command is refused when ``why_not`` finds a
reason (the officer is told it); an event that arrives by replication is a signed fact, so the
fold calls the same ``why_not`` and, if the event no longer fits, keeps it as a conflict for a
supervisor instead of dropping it. Only an event that fits is applied
(``core.ticket.lifecycle.apply``).

Reminders and escalations (recorded by sweeps, DOMAIN.md §6) are history more than steps: one
about a duty that is no longer owed, or one already counted, fits and is kept in the log (what
it changes is ``core.ticket.step_effects``'s business); it is not a conflict. Only a malformed
escalation (level below 1, a queue not above the owing unit) is. Likewise a decision on an
extension request that lapsed (its duty ended first) fits.

Group incidents, emergencies and professional-claimant flags (DOMAIN.md §6, docs/incidents.md)
are marks on the ticket, not steps: they fit in any state of a registered ticket that is not a
duplicate.

A forward (转办, ``TicketForwarded``) hands on a walk-in from where it was registered, before
anyone has acted on it there: it fits only a ticket still ``registered``.

The ODR dispute's events (DOMAIN.md §8) are judged by ``core.odr.dispute_steps``; while a
dispute is with the enterprise, the bureau's casework steps do not fit (``CASEWORK_WAITS``).
"""

from __future__ import annotations

from core.odr.dispute_steps import ODR_EVENTS, why_casework_waits, why_odr_step_not
from core.officers import OfficerRef
from core.ticket.duties import owes
from core.ticket.events import (
    CallbackRecorded,
    CaseOpened,
    ComplaintAccepted,
    ComplaintRefused,
    DomainEvent,
    EmergencyEscalated,
    ExtensionDecided,
    ExtensionRequested,
    GroupIncidentLinked,
    InquiryAnswered,
    MediationEnded,
    MediationPaused,
    MediationResumed,
    PersonalDataErased,
    PersonalDataRevealed,
    ProfessionalClaimantFlagged,
    ReminderSent,
    ReportVerified,
    ResultApproved,
    ResultRejected,
    ResultSubmitted,
    SupervisionOrdered,
    SupervisionReported,
    TicketAssigned,
    TicketEscalated,
    TicketForwarded,
    TicketRegistered,
    TicketReopened,
    TicketReturned,
    TicketRouted,
    event_name,
)
from core.ticket.state import Stage, TicketState, TicketStatus
from core.ticket.vocabulary import Finding, Satisfaction, Track
from core.units import HANDLING_LEVELS, UnitLevel, jurisdiction_prefix, level_of

_OPEN = (TicketStatus.REGISTERED, TicketStatus.ROUTED, TicketStatus.IN_HANDLING)


def _at_handling_unit(state: TicketState) -> bool:
    """True when a handling unit (city or county) holds the ticket and may work on it.

    A ticket held by a hub (registered there, relayed to it, returned to it) waits for
    dispatch; only routing applies to it there.
    """
    if level_of(state.holder_unit) not in HANDLING_LEVELS:
        return False
    return state.status in (TicketStatus.REGISTERED, TicketStatus.ROUTED, TicketStatus.IN_HANDLING)


def _stage_reason(state: TicketState, track: Track, *allowed: Stage) -> str | None:
    ts = state.track(track)
    if ts is None:
        return f"this ticket has no {track.value} part"
    if not _at_handling_unit(state) and state.status is not TicketStatus.CLOSED:
        return f"the ticket is {state.status.value}, not at a handling unit"
    if ts.stage not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        return f"the {track.value} part is {ts.stage.value}, not {wanted}"
    return None


def why_not(state: TicketState, officer: OfficerRef, event: DomainEvent) -> str | None:
    """The reason ``event`` cannot follow ``state``, or None when it fits."""
    if isinstance(event, TicketRegistered):
        return "the ticket is already registered" if state.registration is not None else None
    if state.registration is None:
        return "the ticket's registration is not held here"
    if state.status is TicketStatus.DUPLICATE:
        return f"the ticket is a duplicate of {state.registration.duplicate_of}"
    if isinstance(event, ODR_EVENTS):
        return why_odr_step_not(state, event)
    waits = why_casework_waits(state, event)
    if waits is not None:
        return waits
    match event:
        case TicketRouted():
            if state.status is TicketStatus.CLOSED:
                return "a closed ticket cannot be routed"
            if state.status is TicketStatus.IN_HANDLING and not officer.unit_level.is_above(
                level_of(state.holder_unit)
            ):
                return "only a unit above the handling unit can re-route a ticket in handling"
            return None
        case TicketReturned():
            if state.status is not TicketStatus.ROUTED:
                return f"only a ticket awaiting decision is returned; it is {state.status.value}"
            return None
        case ComplaintAccepted() | ComplaintRefused():
            return _stage_reason(state, Track.COMPLAINT, Stage.AWAITING_DECISION)
        case TicketAssigned():
            if not _at_handling_unit(state):
                return f"the ticket is {state.status.value}, not at a handling unit"
            return None
        case MediationPaused():
            return _stage_reason(state, Track.COMPLAINT, Stage.MEDIATING)
        case MediationResumed():
            return _stage_reason(state, Track.COMPLAINT, Stage.MEDIATION_PAUSED)
        case MediationEnded():
            return _stage_reason(state, Track.COMPLAINT, Stage.MEDIATING, Stage.MEDIATION_PAUSED)
        case ReportVerified():
            return _stage_reason(state, Track.REPORT, Stage.AWAITING_DECISION)
        case CaseOpened():
            reason = _stage_reason(state, Track.REPORT, Stage.VERIFIED)
            report = state.track(Track.REPORT)
            if reason is None and report is not None:
                if report.finding is not Finding.SUBSTANTIATED:
                    return "only a substantiated report can open a case"
                if report.case_number:
                    return f"case {report.case_number} is already open"
            return reason
        case ResultSubmitted(track=track):
            if track is Track.INQUIRY:
                return "an inquiry is answered, not closed by a result"
            ready = Stage.MEDIATION_ENDED if track is Track.COMPLAINT else Stage.VERIFIED
            return _stage_reason(state, track, ready)
        case ResultApproved(track=track):
            reason = _stage_reason(state, track, Stage.RESULT_SUBMITTED)
            ts = state.track(track)
            if reason is None and ts is not None and ts.result is not None:
                if not (ts.result.handler_id and ts.result.handling_unit):
                    return "the result does not name its handler and handling unit"
                if ts.result.handler_id == officer.officer_id:
                    return "the handler cannot approve their own result"
            return reason
        case ResultRejected(track=track):
            return _stage_reason(state, track, Stage.RESULT_SUBMITTED)
        case InquiryAnswered():
            if state.status not in _OPEN:
                return f"the ticket is {state.status.value}"
            ts = state.track(Track.INQUIRY)
            if ts is None:
                return "this ticket has no inquiry part"
            if ts.stage is not Stage.AWAITING_DECISION:
                return f"the inquiry is {ts.stage.value}"
            return None
        case CallbackRecorded():
            if state.status is not TicketStatus.CLOSED:
                return f"callback follows closure; the ticket is {state.status.value}"
            if not state.awaiting_callback:
                return "this closure has had its callback"
            return None
        case TicketReopened():
            if state.status is not TicketStatus.CLOSED:
                return f"only a closed ticket can be reopened; it is {state.status.value}"
            last = state.callbacks[-1] if state.callbacks else None
            if last is None or last.satisfaction is not Satisfaction.DISSATISFIED:
                return "a ticket is reopened after a dissatisfied callback"
            return None
        case ReminderSent():
            return None  # history: see the module docstring
        case TicketEscalated(from_unit=from_unit, to_unit=to_unit, level=level):
            if level < 1:
                return f"an escalation climbs at least one level, not {level}"
            above = jurisdiction_prefix(to_unit, level_of(to_unit))
            if to_unit == from_unit or not from_unit.startswith(above):
                return f"{to_unit} is not above {from_unit}"
            return None
        case ExtensionRequested(duty=duty):
            if not owes(state, duty, state.holder_unit):
                return f"{state.holder_unit} owes no {duty.value} on this ticket"
            if state.pending_extension(duty) is not None:
                return f"an extension of {duty.value} already awaits a decision"
            return None
        case ExtensionDecided(duty=duty):
            latest = state.latest_extension(duty)
            if latest is None:
                return f"no extension of {duty.value} was requested"
            if latest.decided_hlc:
                return f"the extension of {duty.value} was already decided"
            return None  # pending, or lapsed (then history: see the module docstring)
        case SupervisionOrdered(order_id=order_id):
            if state.status is TicketStatus.CLOSED:
                return "a closed ticket is not put under supervision; it is reopened first"
            if state.supervision_order(order_id) is not None:
                return f"supervision order {order_id} was already issued"
            return None
        case SupervisionReported(order_id=order_id):
            order = state.supervision_order(order_id)
            if order is None:
                return f"no supervision order {order_id} on this ticket"
            if order.reported:
                return f"supervision order {order_id} was already reported on"
            return None
        case GroupIncidentLinked(incident_id=incident_id, to_unit=to_unit):
            if not incident_id:
                return "a group incident needs an id"
            if level_of(to_unit) is not UnitLevel.CITY:
                return f"a group incident goes to a city, not {to_unit}"
            return None
        case EmergencyEscalated(to_unit=to_unit):
            if level_of(to_unit) not in (UnitLevel.PROVINCE, UnitLevel.NATIONAL):
                return f"an emergency goes to a province, not {to_unit}"
            return None
        case ProfessionalClaimantFlagged():
            return None
        case PersonalDataRevealed() | PersonalDataErased():
            # Facts about a look or an erasure that happened: history, in any order.
            return None
        case TicketForwarded():
            if state.status is not TicketStatus.REGISTERED:
                return (
                    "only a ticket still where it was registered is forwarded; "
                    f"it is {state.status.value}"
                )
            return None
    return f"unknown event {event_name(event)}"
