"""The steps of an ODR dispute in the ticket's fold: what each changes, when it fits, who may.

``core.ticket.step_effects``, ``core.ticket.step_checks`` and ``core.ticket.authority`` hand
the ODR events (``OdrDisputeOpened`` ...) to the three functions here, so the dispute's rules
are read in one place (DOMAIN.md §8, docs/odr.md):

- **opened** with the registration of a complaint, by the registering unit: the ticket is held
  by the enterprise's county (``enterprise_unit``) from then on, without dispatch;
- **contacts, a proposal, a withdrawal** by the enterprise's county (its enterprise users sign
  in there) while the dispute is open; a proposal only while none is pending;
- **the consumer's answer** to a pending proposal, where the consumer signs in (a unit that
  has a part in the ticket): accepted, the dispute is settled and the ticket closes;
- **conversion** into a formal complaint while the dispute is open (rejected, declined or not
  settled in time), by a unit with a part in the ticket: the ticket goes to ``to_unit`` like a
  forwarded walk-in, and the complaint's own duties count from then.

While the dispute is open the bureau's casework waits (``CASEWORK_WAITS``): nobody routes,
accepts or mediates a complaint the enterprise is settling.
"""

from __future__ import annotations

from dataclasses import replace

from core.odr.dispute import (
    DisputeStatus,
    OdrDispute,
    OdrStepKind,
    OdrStepRecord,
)
from core.officers import OfficerRef
from core.ticket import events as e
from core.ticket.state import Stage, TicketState, TicketStatus
from core.ticket.vocabulary import JurisdictionBasis, MediationOutcome, TicketKind, Track

ODR_EVENTS = (
    e.OdrDisputeOpened,
    e.OdrContactRecorded,
    e.OdrSettlementProposed,
    e.OdrProposalAnswered,
    e.OdrDisputeClosed,
    e.OdrDisputeConverted,
)
"""The events of a dispute's life."""

CASEWORK_WAITS = (
    e.TicketRouted,
    e.TicketReturned,
    e.TicketForwarded,
    e.TicketAssigned,
    e.ComplaintAccepted,
    e.ComplaintRefused,
    e.MediationPaused,
    e.MediationResumed,
    e.MediationEnded,
    e.ResultSubmitted,
    e.ResultApproved,
    e.ResultRejected,
    e.ExtensionRequested,
)
"""The bureau's steps that do not fit while the dispute is with the enterprise."""

_ENTERPRISE_STEPS = (e.OdrContactRecorded, e.OdrSettlementProposed, e.OdrDisputeClosed)


def _step(kind: OdrStepKind, hlc: int, officer: OfficerRef, **fields: object) -> OdrStepRecord:
    return OdrStepRecord(kind, hlc, officer.officer_id, officer.name, **fields)  # type: ignore[arg-type]


def _with_step(dispute: OdrDispute, step: OdrStepRecord, **changes: object) -> OdrDispute:
    return replace(dispute, steps=(*dispute.steps, step), **changes)  # type: ignore[arg-type]


def _closed_complaint(
    state: TicketState, hlc: int, outcome: MediationOutcome, amount_fen: int
) -> tuple[object, ...]:
    """The tracks with the complaint closed by the dispute's end (settled or withdrawn)."""
    return tuple(
        replace(
            t,
            stage=Stage.CLOSED,
            mediation_outcome=outcome,
            amount_recovered_fen=amount_fen,
            closed_hlc=hlc,
        )
        if t.track is Track.COMPLAINT
        else t
        for t in state.tracks
    )


def odr_changes(
    state: TicketState, hlc: int, officer: OfficerRef, event: e.DomainEvent
) -> dict[str, object]:
    """What an ODR event that fits changes in the ticket (before its status is worked out)."""
    if isinstance(event, e.OdrDisputeOpened):
        opened = OdrDispute(
            event.credit_code,
            event.enterprise_name,
            event.enterprise_unit,
            DisputeStatus.NEGOTIATING,
            hlc,
            steps=(_step(OdrStepKind.OPENED, hlc, officer),),
        )
        return {
            "dispute": opened,
            "holder_unit": event.enterprise_unit,
            "held_since_hlc": hlc,
            "assigned_station": "",
        }
    dispute = state.dispute
    assert dispute is not None
    match event:
        case e.OdrContactRecorded(method=method, contacted_at=at, result=result):
            step = _step(
                OdrStepKind.CONTACT, hlc, officer, method=method, contacted_at=at, text=result
            )
            return {"dispute": _with_step(dispute, step)}
        case e.OdrSettlementProposed(terms=terms, amount_fen=amount):
            step = _step(OdrStepKind.PROPOSAL, hlc, officer, text=terms, amount_fen=amount)
            proposed = _with_step(
                dispute,
                step,
                status=DisputeStatus.PROPOSED,
                proposal_terms=terms,
                proposal_amount_fen=amount,
            )
            return {"dispute": proposed}
        case e.OdrProposalAnswered(accepted=accepted, reason=reason):
            step = _step(OdrStepKind.ANSWER, hlc, officer, accepted=accepted, text=reason)
            if not accepted:
                back = _with_step(
                    dispute,
                    step,
                    status=DisputeStatus.NEGOTIATING,
                    proposal_terms="",
                    proposal_amount_fen=0,
                )
                return {"dispute": back}
            settled = _with_step(dispute, step, status=DisputeStatus.SETTLED, ended_hlc=hlc)
            amount = dispute.proposal_amount_fen
            return {
                "dispute": settled,
                "tracks": _closed_complaint(state, hlc, MediationOutcome.SETTLED, amount),
            }
        case e.OdrDisputeClosed(note=note):
            step = _step(OdrStepKind.CLOSED, hlc, officer, text=note)
            withdrawn = _with_step(dispute, step, status=DisputeStatus.WITHDRAWN, ended_hlc=hlc)
            return {
                "dispute": withdrawn,
                "tracks": _closed_complaint(state, hlc, MediationOutcome.WITHDRAWN, 0),
            }
        case e.OdrDisputeConverted(reason=reason, to_unit=to_unit, basis=basis):
            step = _step(
                OdrStepKind.CONVERTED,
                hlc,
                officer,
                conversion=reason,
                to_unit=to_unit,
                text=event.note,
            )
            converted = _with_step(
                dispute,
                step,
                status=DisputeStatus.CONVERTED,
                conversion=reason,
                converted_to_unit=to_unit,
                ended_hlc=hlc,
                proposal_terms="",
                proposal_amount_fen=0,
            )
            # A formal complaint now, handed on as a forwarded walk-in is: the supervising unit
            # dispatches it again if it is returned, and the conversion is its first dispatch.
            return {
                "dispute": converted,
                "holder_unit": to_unit,
                "held_since_hlc": hlc,
                "last_router_unit": event.supervising_unit,
                "assigned_station": "",
                "dispatch_count": state.dispatch_count
                + (0 if basis is JurisdictionBasis.RELAY else 1),
            }
    return {}


def why_odr_step_not(state: TicketState, event: e.DomainEvent) -> str | None:
    """The reason an ODR event does not fit the ticket's state, or None (registration held)."""
    assert state.registration is not None
    dispute = state.dispute
    if isinstance(event, e.OdrDisputeOpened):
        kind = state.registration.kind
        if kind is not TicketKind.COMPLAINT:
            return f"only a complaint goes to the ODR green channel, not a {kind.value}"
        if dispute is not None:
            return "the ticket is already an ODR dispute"
        if state.status is not TicketStatus.REGISTERED:
            return (
                "only a ticket not yet dispatched goes to the enterprise; "
                f"it is {state.status.value}"
            )
        return None
    if dispute is None:
        return "the ticket is no ODR dispute"
    if not dispute.open:
        return f"the ODR dispute is {dispute.status.value}"
    if isinstance(event, e.OdrSettlementProposed) and dispute.status is DisputeStatus.PROPOSED:
        return "a settlement already awaits the consumer's answer"
    if isinstance(event, e.OdrProposalAnswered) and dispute.status is not DisputeStatus.PROPOSED:
        return "no settlement awaits the consumer's answer"
    return None


def why_casework_waits(state: TicketState, event: e.DomainEvent) -> str | None:
    """The reason a bureau's step does not fit while the dispute is open, or None."""
    dispute = state.dispute
    if dispute is not None and dispute.open and isinstance(event, CASEWORK_WAITS):
        return (
            f"the dispute is with the enterprise {dispute.credit_code} in the ODR green "
            f"channel ({dispute.status.value}) until it is settled or converted"
        )
    return None


def why_odr_unit_may_not(
    state: TicketState, officer: OfficerRef, event: e.DomainEvent, has_part: str | None
) -> str | None:
    """The reason the officer's unit may not record an ODR event here, or None.

    ``has_part`` is ``core.ticket.authority``'s verdict on whether the unit has a part in the
    ticket at all (None: it has).
    """
    unit = officer.unit_code
    if isinstance(event, e.OdrDisputeOpened):
        registering = state.registration.registering_unit if state.registration else ""
        if unit != registering:
            return f"only the registering unit {registering} opens the dispute"
        return None
    if isinstance(event, _ENTERPRISE_STEPS):
        enterprise_unit = state.dispute.enterprise_unit if state.dispute else ""
        if unit != enterprise_unit:
            return f"only {enterprise_unit}, where the enterprise signs in, records its steps"
        return None
    return has_part
