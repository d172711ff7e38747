"""Deciding a command: check the input, the officer and the ticket's state, then name the events.

This is the only way new events come into being on a node (replicated events are facts and
bypass it, DESIGN.md rule 2). A decision is pure: it reads the state and the context it is
given and returns events or raises a ``DomainError``; the caller writes nothing on error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.errors import InvalidInput, NotPermitted, StepNotAllowed
from core.limits import check_amount, check_text
from core.officers import Officer, OfficerRef
from core.regions import check_region_known
from core.routing import competent_region, next_hop, walk_in_handover
from core.ticket import commands as c
from core.ticket import events as e
from core.ticket.authority import ROLES_FOR, why_unit_may_not
from core.ticket.events import DomainEvent, EventMeta, TicketRegistered, event_name
from core.ticket.lifecycle import apply
from core.ticket.registration_checks import (
    check_attachments,
    check_consumer,
    check_respondent,
    check_tags,
)
from core.ticket.state import TicketState
from core.ticket.step_checks import why_not
from core.ticket.vocabulary import Duty, Finding, MediationOutcome, Satisfaction, TicketKind
from core.units import UnitDirectory, county_of

MAX_DAYS = 365
"""Most working days an extension or a supervision order may give."""

ExtensionRoom = Callable[[TicketState, Duty], int | None]
"""How many more working days the time-limit table lets a ticket's duty be extended by (None:
no cap in the table). The node derives it from the rules it judges deadlines by."""


@dataclass(frozen=True)
class DecisionContext:
    """What a decision may consult besides the ticket: the unit directory and the time, and
    the room the time-limit table leaves for extensions (None: not checked here)."""

    units: UnitDirectory
    now: datetime
    extension_room: ExtensionRoom | None = None


def _text(value: str, field: str, *, required: bool = True) -> str:
    """``value`` trimmed, present if required, within its limit (``core.limits``)."""
    return check_text(value, field, required=required)


def _note(value: str) -> str:
    """An optional note, trimmed and within its limit."""
    return check_text(value, "note", required=False)


def _require_role(officer: Officer, command: object) -> None:
    allowed = ROLES_FOR[type(command)]
    if not officer.has(*allowed):
        names = ", ".join(sorted(r.value for r in allowed))
        raise NotPermitted(
            f"officer {officer.officer_id} needs one of [{names}] to {type(command).__name__}"
        )


def register_ticket(
    command: c.RegisterTicket,
    officer: Officer,
    ctx: DecisionContext,
    *,
    ticket_id: str,
    duplicate_of: str = "",
) -> TicketRegistered:
    """The registration event for a new ticket, or the first thing wrong with the input."""
    _require_role(officer, command)
    kind = command.kind
    consumer = check_consumer(command.consumer, kind)
    respondent = check_respondent(command.respondent, kind, ctx.units)
    if command.incident_region:
        check_region_known(command.incident_region, "incident_region", ctx.units)
    event = TicketRegistered(
        ticket_id=ticket_id,
        kind=kind,
        channel=command.channel,
        source_line=command.source_line,
        consumer=consumer,
        respondent=respondent,
        category=_text(command.category, "category"),
        facts=_text(command.facts, "facts"),
        request=_text(command.request, "request", required=False),
        amount_fen=check_amount(command.amount_fen, "amount_fen"),
        incident_region=command.incident_region,
        received_at=ctx.now,
        registering_unit=officer.unit_code,
        tags=check_tags(command.tags),
        attachments=check_attachments(command.attachments),
        duplicate_of=duplicate_of,
    )
    if kind is not TicketKind.CONSULTATION and kind is not TicketKind.SUGGESTION:
        # Routing must be possible: refuse now rather than strand the ticket at the hub.
        competent_region(event)
    return event


def _route(
    state: TicketState, cmd: c.RouteTicket, officer: Officer, ctx: DecisionContext
) -> DomainEvent:
    assert state.registration is not None
    note = _note(cmd.note)
    dispatcher = ctx.units.require(officer.unit_code, "officer.unit_code")
    decision = next_hop(dispatcher, state.registration, ctx.units, cmd.to_unit.strip())
    return e.TicketRouted(decision.to_unit, decision.basis, note)


def forward_walk_in(
    state: TicketState, officer: OfficerRef, ctx: DecisionContext
) -> list[DomainEvent]:
    """The forward (转办) of a ticket just registered at a county or station, if it needs one.

    Not a command an officer gives: the registering node records it with the registration, as
    its system officer (``node.desks.walk_ins``). Empty when the registering county is
    competent itself, when the ticket is a consultation or suggestion (answered where it was
    registered) or a duplicate, or when the ticket is no longer where it was registered.
    """
    registration = state.registration
    if registration is None or registration.duplicate_of:
        return []
    if state.holder_unit != county_of(registration.registering_unit):
        return []
    handover = walk_in_handover(registration.registering_unit, registration, ctx.units)
    if handover is None:
        return []
    target = ctx.units.find(handover.to_unit)
    name = f" {target.name}" if target is not None and target.name else ""
    step = "分流" if handover.to_unit == handover.supervising_unit else "办理"
    note = f"不属本辖区，转 {handover.to_unit}{name} {step}"
    event = e.TicketForwarded(handover.to_unit, handover.basis, handover.supervising_unit, note)
    check_event(state, officer, event)
    return [event]


def _assign(state: TicketState, cmd: c.AssignToStation, ctx: DecisionContext) -> DomainEvent:
    note = _note(cmd.note)
    station = ctx.units.require(cmd.station_code.strip(), "station_code")
    if station.parent_code != state.holder_unit:
        raise InvalidInput(
            "station_code", f"{station.code} is not a station of {state.holder_unit}"
        )
    return e.TicketAssigned(station.code, note)


def _end_mediation(cmd: c.EndMediation) -> DomainEvent:
    terminated = cmd.outcome is MediationOutcome.TERMINATED
    if terminated and cmd.termination_reason is None:
        raise InvalidInput("termination_reason", "a terminated mediation states its reason")
    if not terminated and cmd.termination_reason is not None:
        raise InvalidInput(
            "termination_reason", f"only for outcome terminated, not {cmd.outcome.value}"
        )
    agreement = _text(
        cmd.agreement, "agreement", required=cmd.outcome is MediationOutcome.AGREEMENT
    )
    recovered = check_amount(cmd.amount_recovered_fen, "amount_recovered_fen")
    return e.MediationEnded(cmd.outcome, cmd.termination_reason, agreement, recovered)


def _days(days: int, field: str, most: int = MAX_DAYS) -> int:
    if not 1 <= days <= most:
        raise InvalidInput(field, f"must be between 1 and {most} working days, not {days}")
    return days


def _decide_extension(
    state: TicketState, cmd: c.DecideExtension, ctx: DecisionContext
) -> DomainEvent:
    note = _text(cmd.note, "note", required=not cmd.approved)
    if not cmd.approved and cmd.days:
        raise InvalidInput("days", "a denied extension grants no days")
    pending = state.pending_extension(cmd.duty)
    if pending is None:
        raise StepNotAllowed(
            "ExtensionDecided",
            state.status.value,
            f"no extension of {cmd.duty.value} awaits a decision",
        )
    if not cmd.approved:
        return e.ExtensionDecided(cmd.duty, False, 0, note)
    days = _days(cmd.days or pending.requested_days, "days", pending.requested_days)
    room = ctx.extension_room(state, cmd.duty) if ctx.extension_room else None
    if room is not None and days > room:
        raise InvalidInput(
            "days",
            f"the time-limit table leaves {room} working day(s) of extension for "
            f"{cmd.duty.value}; {days} asked",
        )
    return e.ExtensionDecided(cmd.duty, True, days, note)


def _order_supervision(
    state: TicketState, cmd: c.OrderSupervision, ctx: DecisionContext
) -> DomainEvent:
    order_id = _text(cmd.order_id, "order_id")
    instructions = _text(cmd.instructions, "instructions")
    days = _days(cmd.days, "days")
    target = ctx.units.require(cmd.to_unit.strip(), "to_unit")
    if not target.covers(state.holder_unit):
        raise InvalidInput(
            "to_unit", f"{target.code} neither holds the ticket nor is above {state.holder_unit}"
        )
    return e.SupervisionOrdered(order_id, target.code, days, instructions)


def _events_for(
    state: TicketState, command: c.TicketCommand, officer: Officer, ctx: DecisionContext
) -> list[DomainEvent]:
    match command:
        case c.RouteTicket():
            return [_route(state, command, officer, ctx)]
        case c.ReturnTicket(reason=reason, note=note):
            return [e.TicketReturned(reason, _text(note, "note"), state.last_router_unit)]
        case c.AcceptComplaint(note=note):
            return [e.ComplaintAccepted(_note(note))]
        case c.RefuseComplaint(ground=ground, notice=notice):
            return [e.ComplaintRefused(ground, _text(notice, "notice"))]
        case c.AssignToStation():
            return [_assign(state, command, ctx)]
        case c.PauseMediation(reason=reason):
            return [e.MediationPaused(_text(reason, "reason"))]
        case c.ResumeMediation(note=note):
            return [e.MediationResumed(_note(note))]
        case c.EndMediation():
            return [_end_mediation(command)]
        case c.VerifyReport(finding=finding, evidence=evidence):
            needs_evidence = finding is Finding.NOT_SUBSTANTIATED
            return [e.ReportVerified(finding, _text(evidence, "evidence", required=needs_evidence))]
        case c.OpenCase(case_number=case_number, note=note):
            return [e.CaseOpened(_text(case_number, "case_number"), _note(note))]
        case c.SubmitResult(track=track, summary=summary):
            return [
                e.ResultSubmitted(
                    track,
                    state.holder_unit,
                    officer.officer_id,
                    officer.name,
                    _text(summary, "summary"),
                )
            ]
        case c.ApproveResult(track=track, note=note):
            return [e.ResultApproved(track, _note(note))]
        case c.RejectResult(track=track, reason=reason):
            return [e.ResultRejected(track, _text(reason, "reason"))]
        case c.AnswerInquiry(answer=answer):
            return [e.InquiryAnswered(_text(answer, "answer"))]
        case c.RecordCallback(satisfaction=satisfaction, note=note):
            recorded: list[DomainEvent] = [e.CallbackRecorded(satisfaction, _note(note))]
            if satisfaction is Satisfaction.DISSATISFIED:
                recorded.append(e.TicketReopened("consumer dissatisfied on callback (回炉重办)"))
            return recorded
        case c.RequestExtension(duty=duty, days=days, reason=reason):
            return [e.ExtensionRequested(duty, _days(days, "days"), _text(reason, "reason"))]
        case c.DecideExtension():
            return [_decide_extension(state, command, ctx)]
        case c.OrderSupervision():
            return [_order_supervision(state, command, ctx)]
        case c.ReportSupervision(order_id=order_id, report=report):
            return [e.SupervisionReported(_text(order_id, "order_id"), _text(report, "report"))]


def check_event(state: TicketState, officer: OfficerRef, event: DomainEvent) -> None:
    """Raise if ``event`` does not fit the ticket's state or the officer's unit."""
    reason = why_not(state, officer, event)
    if reason is not None:
        raise StepNotAllowed(event_name(event), state.status.value, reason)
    reason = why_unit_may_not(state, officer, event)
    if reason is not None:
        raise NotPermitted(reason)


def decide(
    state: TicketState, command: c.TicketCommand, officer: Officer, ctx: DecisionContext
) -> list[DomainEvent]:
    """The events that carry out ``command`` on the ticket, or the reason it is refused.

    Input is checked first (``InvalidInput`` names the field), then the officer's role
    (``NotPermitted``), then the state and the unit's authority for each event in turn.
    """
    if state.registration is None:
        raise StepNotAllowed(
            type(command).__name__,
            state.status.value,
            "the ticket's registration is not held on this node",
        )
    _require_role(officer, command)
    decided = _events_for(state, command, officer, ctx)
    ref = officer.ref()
    scratch = state
    for event in decided:
        check_event(scratch, ref, event)
        scratch = apply(scratch, _scratch_meta(state, ref), event)
    return decided


def _scratch_meta(state: TicketState, officer: OfficerRef) -> EventMeta:
    """Envelope facts good enough to preview a multi-event decision (never stored)."""
    return EventMeta("", state.ticket_id, "", 0, state.last_hlc + 1, officer)
