"""What each step changes in the ticket: ``changes_of``, the fields an event that fits sets.

``core.ticket.lifecycle.apply`` takes these changes and works out what follows from them for
the whole ticket (its status, the units involved, the duties the step ended). Here is one
branch per event and the helpers they share, so what a step does is read in one place.

Reminders and escalations (recorded by sweeps, DOMAIN.md §6) are history more than steps: one
about a duty that is no longer owed (done meanwhile, or the ticket went to another unit), or
one already counted (two levels escalating the same overdue duty while cut off from each
other), is kept in the log and changes nothing but the escalation history, which says it does
not count (``core.ticket.escalation_history``). Likewise a decision on an
extension request that lapsed (its duty ended first) changes nothing.

Group incidents, emergencies and professional-claimant flags (DOMAIN.md §6, docs/incidents.md)
change no status. A ticket keeps the *smallest* incident id it was linked to, so links recorded
by nodes that saw different parts of a group converge on one id; of the emergency and claimant
flags the first in fold order counts and the others are history.

An ODR dispute's events change what ``core.odr.dispute_steps.odr_changes`` says: the dispute,
and the holder (the enterprise's county while open; the competent unit once converted).
"""

from __future__ import annotations

from dataclasses import replace

from core.hlc import to_millis
from core.odr.dispute_steps import ODR_EVENTS, odr_changes
from core.ticket.duties import HOLDER_DUTIES, is_escalated, owes, was_reminded
from core.ticket.escalation_history import with_ended, with_escalation
from core.ticket.events import (
    CallbackRecorded,
    CaseOpened,
    ComplaintAccepted,
    ComplaintRefused,
    DomainEvent,
    EmergencyEscalated,
    EventMeta,
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
)
from core.ticket.state import (
    Callback,
    Emergency,
    Escalation,
    Extension,
    GroupIncident,
    Pause,
    PersonalReveal,
    ProfessionalClaimant,
    ReminderRecord,
    Result,
    Stage,
    SupervisionOrder,
    TicketState,
    TicketStatus,
    TrackState,
)
from core.ticket.vocabulary import TRACKS_OF_KIND, Duty, JurisdictionBasis, Track
from core.ticket.vocabulary import EscalationOutcome as Outcome
from core.units import STATION_CODE_LENGTH, county_of


def _track_changed(state: TicketState, track: Track, **changes: object) -> dict[str, object]:
    """The ``tracks`` change that updates one track of the ticket."""
    tracks = tuple(replace(t, **changes) if t.track is track else t for t in state.tracks)  # type: ignore[arg-type]
    return {"tracks": tracks}


def _paused_until(state: TicketState, hlc: int) -> int:
    """Total time the mediation clock has been stopped, counting a pause still open at ``hlc``."""
    ts = state.track(Track.COMPLAINT)
    assert ts is not None
    if not ts.paused_since_hlc:
        return ts.paused_ms
    return ts.paused_ms + max(0, to_millis(hlc) - to_millis(ts.paused_since_hlc))


def _pauses_until(state: TicketState, hlc: int) -> tuple[Pause, ...]:
    """The finished pauses, with a pause still open at ``hlc`` closed there."""
    ts = state.track(Track.COMPLAINT)
    assert ts is not None
    if not ts.paused_since_hlc:
        return ts.pauses
    return (*ts.pauses, Pause(ts.paused_since_hlc, hlc))


def _registered(meta: EventMeta, event: TicketRegistered) -> dict[str, object]:
    unit = event.registering_unit
    at_station = len(unit) == STATION_CODE_LENGTH
    return {
        "registration": event,
        "holder_unit": county_of(unit) if at_station else unit,
        "assigned_station": unit if at_station else "",
        "tracks": tuple(TrackState(t) for t in TRACKS_OF_KIND[event.kind]),
        "registered_hlc": meta.hlc,
        "held_since_hlc": meta.hlc,
    }


def _reopened_track(ts: TrackState, hlc: int) -> TrackState:
    if ts.stage is Stage.REFUSED:
        return TrackState(ts.track)
    if ts.track is Track.COMPLAINT:
        return replace(
            ts,
            stage=Stage.MEDIATING,
            reopened_hlc=hlc,
            result=None,
            closed_hlc=0,
            mediation_outcome=None,
            termination_reason=None,
            amount_recovered_fen=0,
        )
    return replace(
        ts,
        stage=Stage.AWAITING_DECISION,
        reopened_hlc=hlc,
        result=None,
        closed_hlc=0,
        finding=None,
        evidence="",
        answer="",
    )


def changes_of(state: TicketState, meta: EventMeta, event: DomainEvent) -> dict[str, object]:
    """What ``event`` changes in the ticket, before the status is worked out again."""
    hlc = meta.hlc
    if isinstance(event, ODR_EVENTS):
        return odr_changes(state, hlc, meta.officer, event)
    match event:
        case TicketRegistered():
            return _registered(meta, event)
        case TicketRouted(to_unit=to_unit, basis=basis):
            reset = tuple(TrackState(t.track) if not t.stage.is_done else t for t in state.tracks)
            return {
                "holder_unit": to_unit,
                "held_since_hlc": hlc,
                "last_router_unit": meta.officer.unit_code,
                "assigned_station": "",
                "returned": False,
                "tracks": reset if state.status is TicketStatus.IN_HANDLING else state.tracks,
                "dispatch_count": state.dispatch_count
                + (0 if basis is JurisdictionBasis.RELAY else 1),
            }
        case TicketForwarded(to_unit=to_unit, basis=basis, supervising_unit=supervising):
            # The walk-in leaves the county that registered it as if the supervising unit had
            # dispatched it: that unit is where a return goes, and a forward to the competent
            # unit counts as the ticket's first dispatch (repeat-dispatch rate, 重复派单率).
            return {
                "holder_unit": to_unit,
                "held_since_hlc": hlc,
                "last_router_unit": supervising,
                "assigned_station": "",
                "dispatch_count": state.dispatch_count
                + (0 if basis is JurisdictionBasis.RELAY else 1),
            }
        case TicketReturned(to_unit=to_unit):
            return {
                "holder_unit": to_unit,
                "held_since_hlc": hlc,
                "assigned_station": "",
                "returned": True,
                "return_count": state.return_count + 1,
            }
        case ComplaintAccepted():
            return _track_changed(state, Track.COMPLAINT, stage=Stage.MEDIATING, accepted_hlc=hlc)
        case ComplaintRefused(ground=ground, notice=notice):
            return _track_changed(
                state,
                Track.COMPLAINT,
                stage=Stage.REFUSED,
                refusal_ground=ground,
                refusal_notice=notice,
                closed_hlc=hlc,
            )
        case TicketAssigned(station_code=station):
            return {"assigned_station": station}
        case MediationPaused():
            return _track_changed(
                state, Track.COMPLAINT, stage=Stage.MEDIATION_PAUSED, paused_since_hlc=hlc
            )
        case MediationResumed():
            return _track_changed(
                state,
                Track.COMPLAINT,
                stage=Stage.MEDIATING,
                paused_ms=_paused_until(state, hlc),
                paused_since_hlc=0,
                pauses=_pauses_until(state, hlc),
            )
        case MediationEnded():
            return _track_changed(
                state,
                Track.COMPLAINT,
                stage=Stage.MEDIATION_ENDED,
                mediation_outcome=event.outcome,
                termination_reason=event.termination_reason,
                amount_recovered_fen=event.amount_recovered_fen,
                paused_ms=_paused_until(state, hlc),
                paused_since_hlc=0,
                pauses=_pauses_until(state, hlc),
            )
        case ReportVerified(finding=finding, evidence=evidence):
            return _track_changed(
                state, Track.REPORT, stage=Stage.VERIFIED, finding=finding, evidence=evidence
            )
        case CaseOpened(case_number=case_number):
            return _track_changed(state, Track.REPORT, case_number=case_number)
        case ResultSubmitted(track=track):
            result = Result(
                event.handling_unit, event.handler_id, event.handler_name, event.summary, hlc
            )
            return _track_changed(state, track, stage=Stage.RESULT_SUBMITTED, result=result)
        case ResultApproved(track=track):
            ts = state.track(track)
            assert ts is not None and ts.result is not None
            approved = replace(
                ts.result, approver_id=meta.officer.officer_id, approver_name=meta.officer.name
            )
            return _track_changed(state, track, stage=Stage.CLOSED, result=approved, closed_hlc=hlc)
        case ResultRejected(track=track):
            back = Stage.MEDIATION_ENDED if track is Track.COMPLAINT else Stage.VERIFIED
            return _track_changed(state, track, stage=back, result=None)
        case InquiryAnswered(answer=answer):
            return _track_changed(
                state, Track.INQUIRY, stage=Stage.CLOSED, answer=answer, closed_hlc=hlc
            )
        case CallbackRecorded(satisfaction=satisfaction, note=note):
            callback = Callback(satisfaction, note, meta.officer.officer_id, hlc)
            return {"callbacks": (*state.callbacks, callback), "awaiting_callback": False}
        case TicketReopened():
            return {
                "tracks": tuple(_reopened_track(t, hlc) for t in state.tracks),
                "reopen_count": state.reopen_count + 1,
                "closed_hlc": 0,
            }
        case ReminderSent(duty=duty, level=level, unit_code=unit, due_ms=due_ms):
            if not _about_duty_owed(state, meta, duty, unit) or was_reminded(
                state, duty, level, unit, due_ms
            ):
                return {}
            reminder = ReminderRecord(duty, level, unit, due_ms, hlc, event.missed)
            return {"reminders_sent": (*state.reminders_sent, reminder)}
        case TicketEscalated(duty=duty, from_unit=from_unit, level=level):
            if not _about_duty_owed(state, meta, duty, from_unit):
                return {"escalation_history": with_escalation(state, meta, event, Outcome.MOOT)}
            if is_escalated(state, duty, from_unit, level):
                return {"escalation_history": with_escalation(state, meta, event, Outcome.REPEATED)}
            escalation = Escalation(
                duty, level, from_unit, event.to_unit, event.due_ms, hlc, meta.origin_node
            )
            return {
                "escalations": (*state.escalations, escalation),
                "escalation_history": with_escalation(state, meta, event, Outcome.STANDING),
            }
        case ExtensionRequested(duty=duty, days=days, reason=reason):
            request = Extension(duty, days, reason, meta.officer.unit_code, hlc)
            return {"extensions": (*state.extensions, request)}
        case ExtensionDecided():
            return _extension_decided(state, meta, event)
        case SupervisionOrdered(order_id=order_id, to_unit=to_unit):
            order = SupervisionOrder(
                order_id, meta.officer.unit_code, to_unit, event.days, event.instructions, hlc
            )
            return {"supervision_orders": (*state.supervision_orders, order)}
        case SupervisionReported(order_id=order_id, report=report):
            orders = tuple(
                replace(o, report=report, reported_hlc=hlc) if o.order_id == order_id else o
                for o in state.supervision_orders
            )
            return {"supervision_orders": orders}
        case GroupIncidentLinked(incident_id=incident_id):
            held = state.incident
            if held is not None and held.incident_id <= incident_id:
                return {}  # the smallest id wins; the same id counts once
            incident = GroupIncident(
                incident_id, event.respondent_key, event.to_unit, hlc, meta.origin_node
            )
            return {"incident": incident}
        case EmergencyEscalated(reasons=reasons, to_unit=to_unit):
            if state.emergency is not None:
                return {}
            return {"emergency": Emergency(reasons, to_unit, hlc, meta.origin_node)}
        case ProfessionalClaimantFlagged():
            if state.claimant is not None:
                return {}
            flag = ProfessionalClaimant(
                event.filer,
                event.tickets,
                event.businesses,
                event.window_days,
                event.related_ticket_ids,
                hlc,
                meta.origin_node,
            )
            return {"claimant": flag}
        case PersonalDataRevealed(field=field, purpose=purpose):
            officer = meta.officer
            look = PersonalReveal(
                field,
                purpose,
                officer.officer_id,
                officer.name,
                officer.unit_code,
                hlc,
                meta.event_id,
            )
            return {"reveals": (*state.reveals, look)}
        case PersonalDataErased():
            return {} if state.personal_erased_hlc else {"personal_erased_hlc": hlc}
    return {}


def _about_duty_owed(state: TicketState, meta: EventMeta, duty: Duty, unit: str) -> bool:
    """True when a reminder or escalation of ``unit``'s ``duty`` concerns a duty owed now.

    The unit must owe the duty, and for a duty it owes as holder the event must be recorded
    after the ticket came to it: one recorded before is about an earlier holding (a sweep
    that had not yet heard the ticket was routed away and back).
    """
    if not owes(state, duty, unit):
        return False
    return duty not in HOLDER_DUTIES or meta.hlc > state.held_since_hlc


def _extension_decided(
    state: TicketState, meta: EventMeta, event: ExtensionDecided
) -> dict[str, object]:
    """Decide the pending request; an approval also ends the escalations of its duty."""
    latest = state.latest_extension(event.duty)
    if latest is None or not latest.pending:
        return {}  # lapsed: the duty ended before the decision
    decided = replace(
        latest,
        approved=event.approved,
        days=event.days if event.approved else 0,
        note=event.note,
        decided_unit=meta.officer.unit_code,
        decided_hlc=meta.hlc,
    )
    changes: dict[str, object] = {
        "extensions": tuple(decided if e is latest else e for e in state.extensions)
    }
    if event.approved:
        ended = [
            e
            for e in state.escalations
            if e.duty is event.duty and e.from_unit == latest.requested_unit
        ]
        changes["escalations"] = tuple(e for e in state.escalations if e not in ended)
        # Asked for in time, the extension means the duty was never overdue.
        changes["escalation_history"] = with_ended(
            state.escalation_history, ended, ended_hlc=meta.hlc, done_hlc=latest.requested_hlc
        )
    return changes
