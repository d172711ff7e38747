"""The ticket's state machine: which event may follow which state, and what it changes.

One table serves both sides of DESIGN.md rule 2. A command is refused when ``why_not`` finds a
reason (the officer is told it); an event that arrives by replication is a signed fact, so the
fold calls the same ``why_not`` and, if the event no longer fits, keeps it as a conflict for a
supervisor instead of dropping it. ``apply`` is only ever called on an event that fits.

Reminders and escalations (recorded by sweeps, DOMAIN.md §6) are history more than steps: one
about a duty that is no longer owed (done meanwhile, or the ticket went to another unit), or
one already counted (two levels escalating the same overdue duty while cut off from each
other), fits and is kept in the log but changes nothing in the state; it is not a conflict.
Only a malformed escalation (level below 1, a queue not above the owing unit) is. Likewise a
decision on an extension request that lapsed (its duty ended first) changes nothing. Which
step ends which duty is ``core.ticket.duties.duties_done_by``.

Group incidents, emergencies and professional-claimant flags (DOMAIN.md §6, docs/incidents.md)
are marks on the ticket, not steps: they fit in any state of a registered ticket that is not a
duplicate, and change no status. A ticket keeps the *smallest* incident id it was linked to, so
links recorded by nodes that saw different parts of a group converge on one id; of the
emergency and claimant flags the first in fold order counts and the others are history.
"""

from __future__ import annotations

from dataclasses import replace

from core.hlc import to_millis
from core.officers import OfficerRef
from core.ticket.duties import HOLDER_DUTIES, duties_done_by, is_escalated, owes, was_reminded
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
    TicketRegistered,
    TicketReopened,
    TicketReturned,
    TicketRouted,
)
from core.ticket.state import (
    HIGHEST_TICKET_VERSION,
    Callback,
    Emergency,
    Escalation,
    Extension,
    GroupIncident,
    Pause,
    ProfessionalClaimant,
    ReminderRecord,
    Result,
    Stage,
    SupervisionOrder,
    TicketState,
    TicketStatus,
    TrackState,
)
from core.ticket.vocabulary import (
    TRACKS_OF_KIND,
    Duty,
    Finding,
    JurisdictionBasis,
    Satisfaction,
    Track,
)
from core.units import (
    HANDLING_LEVELS,
    STATION_CODE_LENGTH,
    UnitLevel,
    county_of,
    jurisdiction_prefix,
    level_of,
)

_OPEN = (TicketStatus.REGISTERED, TicketStatus.ROUTED, TicketStatus.IN_HANDLING)


def event_name(event: DomainEvent) -> str:
    """The event's type name, as used in messages and in the proto package."""
    return type(event).__name__


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
            latest = _latest_request(state, duty)
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
    return f"unknown event {event_name(event)}"


def _latest_request(state: TicketState, duty: Duty) -> Extension | None:
    """The latest extension request for ``duty``, whatever became of it."""
    for ext in reversed(state.extensions):
        if ext.duty is duty:
            return ext
    return None


def _track_changed(state: TicketState, track: Track, **changes: object) -> dict[str, object]:
    """The ``tracks`` change that updates one track of the ticket."""
    tracks = tuple(replace(t, **changes) if t.track is track else t for t in state.tracks)  # type: ignore[arg-type]
    return {"tracks": tracks}


def copy_with(state: TicketState, changes: dict[str, object]) -> TicketState:
    """A copy of ``state`` with ``changes``: ``dataclasses.replace`` without re-running
    ``__init__``, which the fold does for every event of every ticket (TicketState checks
    nothing on construction, so nothing is skipped)."""
    new = object.__new__(TicketState)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


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


def _changes(state: TicketState, meta: EventMeta, event: DomainEvent) -> dict[str, object]:
    """What ``event`` changes in the ticket, before the status is worked out again."""
    hlc = meta.hlc
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
            reminder = ReminderRecord(duty, level, unit, due_ms, hlc)
            return {"reminders_sent": (*state.reminders_sent, reminder)}
        case TicketEscalated(duty=duty, from_unit=from_unit, level=level):
            if not _about_duty_owed(state, meta, duty, from_unit) or is_escalated(
                state, duty, from_unit, level
            ):
                return {}
            escalation = Escalation(
                duty, level, from_unit, event.to_unit, event.due_ms, hlc, meta.origin_node
            )
            return {"escalations": (*state.escalations, escalation)}
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
    latest = _latest_request(state, event.duty)
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
        changes["escalations"] = tuple(
            e
            for e in state.escalations
            if not (e.duty is event.duty and e.from_unit == latest.requested_unit)
        )
    return changes


def _settled(after: TicketState, meta: EventMeta, event: DomainEvent) -> TicketState:
    """``after`` with the escalations and pending extension requests of ended duties gone.

    An escalation stands, and an extension request waits, only while its unit still owes
    the duty; a step of ``duties_done_by`` ends the duty even where the same unit owes it
    again at once (routed back to the holder it had: its deadline starts afresh). A report
    on one supervision order ends only its unit's report duty, which ``owes`` tells.
    """
    if not after.escalations and not after.extensions:
        return after
    ended = duties_done_by(event) - {Duty.SUPERVISION_REPORT}

    def still_owed(duty: Duty, unit: str) -> bool:
        return duty not in ended and owes(after, duty, unit)

    escalations = tuple(e for e in after.escalations if still_owed(e.duty, e.from_unit))
    extensions = tuple(
        replace(x, lapsed_hlc=meta.hlc)
        if x.pending and not still_owed(x.duty, x.requested_unit)
        else x
        for x in after.extensions
    )
    if escalations == after.escalations and extensions == after.extensions:
        return after
    return copy_with(after, {"escalations": escalations, "extensions": extensions})


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
    changes = _changes(state, meta, event)
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
