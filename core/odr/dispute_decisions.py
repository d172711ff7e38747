"""Deciding a step of an ODR dispute: check the input and the state, then name the events.

The ODR's counterpart of ``core.ticket.decisions``, for the people outside the bureau who take
the dispute's steps (DOMAIN.md §8): the registering unit opens it from the consumer's choice and
the roster, the enterprise records contacts, proposes a settlement or closes the dispute, the
consumer answers the proposal, and a sweep converts a dispute not settled in time. Pure: each
function reads the state and what it is given and returns the events, or raises
``InvalidInput`` naming the field (checked first), ``StepNotAllowed`` when the dispute's state
forbids the step, ``NotPermitted`` when the recording unit may not. The caller writes nothing
on error.

An enterprise user or a consumer signs no event as an officer of the bureau: their steps are
recorded by the node they signed in to, in its unit's name, under an ``OfficerRef`` naming
them (``enterprise_actor``, ``consumer_actor``), so the history says who did what.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.errors import InvalidInput, StepNotAllowed
from core.limits import check_amount, check_text
from core.odr.dispute import CloseReason, ContactMethod, ConversionReason
from core.odr.dispute_conversion import CONVERSION_NOTES, conversion
from core.odr.roster import OdrRoster
from core.officers import OfficerRef
from core.ticket.commands import RegisterTicket
from core.ticket.decisions import check_event
from core.ticket.events import (
    DomainEvent,
    EventMeta,
    OdrContactRecorded,
    OdrDisputeClosed,
    OdrDisputeOpened,
    OdrProposalAnswered,
    OdrSettlementProposed,
    TicketRegistered,
)
from core.ticket.lifecycle import apply
from core.ticket.state import TicketState
from core.ticket.vocabulary import TicketKind
from core.units import Unit, UnitDirectory

GREEN_CHANNEL_FIELD = "odr_green_channel"
"""The registration's field that asks for the green channel (NewTicket.odr_green_channel)."""

CONSUMER_NAME = "消费者"


def enterprise_actor(credit_code: str, user_id: str, name: str, unit: Unit) -> OfficerRef:
    """Who an enterprise user's step is recorded as: named by their principal label, in the
    name of the county node they signed in to."""
    label = f"enterprise:{credit_code}:{user_id}"
    return OfficerRef(label, name or user_id, unit.code, unit.level)


def consumer_actor(unit: Unit) -> OfficerRef:
    """Who a consumer's answer is recorded as, in the name of the node they signed in to."""
    return OfficerRef("consumer", CONSUMER_NAME, unit.code, unit.level)


def open_dispute(registration: TicketRegistered, roster: OdrRoster) -> OdrDisputeOpened:
    """The opening of the dispute a registration asks for, or the reason it cannot go to the
    green channel (``InvalidInput`` naming ``odr_green_channel``)."""
    if registration.kind is not TicketKind.COMPLAINT:
        raise InvalidInput(
            GREEN_CHANNEL_FIELD,
            f"only a complaint goes to the ODR green channel, not a {registration.kind.value}",
        )
    code = registration.respondent.credit_code
    if not code:
        raise InvalidInput(
            GREEN_CHANNEL_FIELD,
            "the green channel needs the respondent's credit code (respondent.credit_code)",
        )
    entry = roster.entry(code)
    if entry is None:
        raise InvalidInput(GREEN_CHANNEL_FIELD, f"{code} is not on the ODR roster")
    if not entry.standing.routable:
        raise InvalidInput(
            GREEN_CHANNEL_FIELD,
            f"{code} is not in good standing on the ODR roster ({entry.standing.value})",
        )
    return OdrDisputeOpened(entry.credit_code, entry.name, entry.unit_code)


def located_by_roster(command: RegisterTicket, roster: OdrRoster) -> RegisterTicket:
    """A green-channel filing that names no region for its respondent, located at the county
    that enrolled the enterprise: its application named the premises there (DOMAIN.md §8), and
    a consumer filing online knows the enterprise, not its county's code. Any other filing is
    returned as it is (its region is checked as at every channel)."""
    respondent = command.respondent
    if not command.odr_green_channel or respondent.operating_region or respondent.registered_region:
        return command
    entry = roster.routable(respondent.credit_code)
    if entry is None:
        return command
    return replace(command, respondent=replace(respondent, operating_region=entry.unit_code))


def _checked(state: TicketState, actor: OfficerRef, events: list[DomainEvent]) -> list[DomainEvent]:
    """``events`` if each fits the state after those before it and the actor's unit."""
    scratch = state
    meta = EventMeta("", state.ticket_id, "", 0, state.last_hlc + 1, actor)
    for event in events:
        check_event(scratch, actor, event)
        scratch = apply(scratch, meta, event)
    return events


def _require_dispute(state: TicketState, step: str) -> None:
    if state.dispute is None:
        raise StepNotAllowed(step, state.status.value, "the ticket is no ODR dispute")


def record_contact(
    state: TicketState,
    actor: OfficerRef,
    method: ContactMethod | None,
    contacted_at: datetime | None,
    result: str,
    now: datetime,
) -> list[DomainEvent]:
    """A contact with the consumer, as the enterprise records it (协商记录)."""
    if method is None:
        raise InvalidInput("method", "must be set")
    if contacted_at is None:
        raise InvalidInput("contacted_at", "must be set")
    if contacted_at > now:
        raise InvalidInput("contacted_at", "a contact cannot be recorded before it happens")
    text = check_text(result, "result")
    _require_dispute(state, "OdrContactRecorded")
    return _checked(state, actor, [OdrContactRecorded(method, contacted_at, text)])


def propose_settlement(
    state: TicketState, actor: OfficerRef, terms: str, amount_fen: int
) -> list[DomainEvent]:
    """A settlement the enterprise offers the consumer (和解方案)."""
    text = check_text(terms, "terms")
    amount = check_amount(amount_fen, "amount_fen")
    _require_dispute(state, "OdrSettlementProposed")
    return _checked(state, actor, [OdrSettlementProposed(text, amount)])


def close_dispute(
    state: TicketState,
    actor: OfficerRef,
    reason: CloseReason | None,
    note: str,
    units: UnitDirectory,
) -> list[DomainEvent]:
    """The enterprise closes the dispute: it declines (converted into a complaint at once) or
    records that the consumer withdrew."""
    if reason is None:
        raise InvalidInput("reason", "must be set")
    text = check_text(note, "note")
    _require_dispute(state, "OdrDisputeClosed")
    if reason is CloseReason.CONSUMER_WITHDREW:
        return _checked(state, actor, [OdrDisputeClosed(text)])
    return _checked(state, actor, [_conversion(state, ConversionReason.DECLINED, units, text)])


def answer_proposal(
    state: TicketState, actor: OfficerRef, accept: bool, reason: str, units: UnitDirectory
) -> list[DomainEvent]:
    """The consumer's answer: accepted, the dispute is settled; rejected, it becomes a formal
    complaint at once, routed by jurisdiction."""
    text = check_text(reason, "reason", required=not accept)
    _require_dispute(state, "OdrProposalAnswered")
    answered = OdrProposalAnswered(accept, text)
    if accept:
        return _checked(state, actor, [answered])
    _checked(state, actor, [answered])  # the answer's own refusal comes first
    after = apply(state, EventMeta("", state.ticket_id, "", 0, state.last_hlc + 1, actor), answered)
    return _checked(
        state, actor, [answered, _conversion(after, ConversionReason.REJECTED, units, text)]
    )


def convert_overdue(
    state: TicketState, actor: OfficerRef, units: UnitDirectory
) -> list[DomainEvent]:
    """The conversion of a dispute not settled within the ODR limit (the sweep's step)."""
    _require_dispute(state, "OdrDisputeConverted")
    return _checked(state, actor, [_conversion(state, ConversionReason.NO_ANSWER_IN_TIME, units)])


def conversion_if_overdue(
    state: TicketState, actor: OfficerRef, units: UnitDirectory, due_ms: int, now_ms: int
) -> list[DomainEvent]:
    """What a sweep records on a dispute whose ODR answer fell due at ``due_ms``: its
    conversion into a complaint once the limit has passed without a settlement (nothing
    before, nor on a dispute that has ended)."""
    if now_ms < due_ms or state.dispute is None or not state.dispute.open:
        return []
    return convert_overdue(state, actor, units)


def _conversion(
    state: TicketState, reason: ConversionReason, units: UnitDirectory, words: str = ""
) -> DomainEvent:
    dispute = state.dispute
    if dispute is None or not dispute.open:
        shown = dispute.status.value if dispute else "absent"
        raise StepNotAllowed("OdrDisputeConverted", state.status.value, f"the dispute is {shown}")
    note = CONVERSION_NOTES[reason] + (f"：{words}" if words else "")
    return conversion(state, reason, units, note[:2000])
