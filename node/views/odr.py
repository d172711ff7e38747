"""The ``hotline.v1.Dispute`` of a ticket: what the enterprise and the consumer see of a dispute.

Built from the ticket's folded state (``TicketState.dispute``), its ODR deadline under the
node's rules, and the consumer's contact as the caller may see it: in full for the enterprise
while the dispute is open (the look recorded by ``node.desks.odr``), masked otherwise
(``core.personal.masking``). One function, so the enterprise's OdrService and the consumer's
page (ConsumerService.FollowTicket) show the same dispute.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.deadlines.china_time import china_date
from core.deadlines.duties import policy_for
from core.deadlines.obligations import open_obligation
from core.hlc import to_millis
from core.odr.dispute import OdrDispute, OdrStepRecord
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, TicketKind
from node.views.obligations import DeadlineRules
from proto.hotline.v1 import odr_pb2
from sync.codec import enum_number


@dataclass(frozen=True)
class ContactShown:
    """The consumer's name and phone as this caller sees them, and whether they are masked."""

    name: str = ""
    phone: str = ""
    masked: bool = True


def _step(step: OdrStepRecord) -> odr_pb2.OdrStep:
    shown = odr_pb2.OdrStep(
        kind=enum_number(step.kind),
        method=enum_number(step.method),
        text=step.text,
        amount_fen=step.amount_fen,
        accepted=step.accepted,
        conversion=enum_number(step.conversion),
        to_unit=step.to_unit,
        by=step.by,
    )
    shown.at.FromMilliseconds(to_millis(step.recorded_hlc))
    if step.contacted_at is not None:
        shown.contacted_at.FromDatetime(step.contacted_at)
    return shown


def _deadline(
    state: TicketState, dispute: OdrDispute, rules: DeadlineRules | None, now_ms: int
) -> tuple[int, bool, int]:
    """(due ms, overdue, working days left) of the open dispute; zeros once it has ended."""
    if rules is None or not dispute.open:
        return 0, False, 0
    due = next((d for d in rules.deadlines(state) if d.duty == Duty.ODR_ANSWER.value), None)
    if due is None:
        return 0, False, 0
    overdue = now_ms >= due.due_ms
    if overdue:
        return due.due_ms, True, 0
    left = rules.calendar.working_days_between(china_date(now_ms), china_date(due.due_ms - 1))
    return due.due_ms, False, left


def odr_due_ms(state: TicketState, rules: DeadlineRules) -> int:
    """When the dispute's ODR answer fell (or falls) due under ``rules``, epoch milliseconds;
    its opening when the table times no ODR answer. Also for a dispute that has ended, whose
    obligation is gone (supervision's "answered in time")."""
    dispute = state.dispute
    if dispute is None:
        raise ValueError(f"ticket {state.ticket_id} is no ODR dispute")
    started = to_millis(dispute.opened_hlc)
    table = policy_for(rules.policy, state, started)
    if not table.has_limit(Duty.ODR_ANSWER, TicketKind.COMPLAINT):
        return started
    return open_obligation(
        ticket_id=state.ticket_id,
        duty=Duty.ODR_ANSWER,
        kind=TicketKind.COMPLAINT,
        unit_code=dispute.enterprise_unit,
        started_ms=started,
        policy=table,
        calendar=rules.calendar,
    ).due_ms


def dispute_message(
    state: TicketState,
    *,
    now_ms: int,
    rules: DeadlineRules | None = None,
    contact: ContactShown | None = None,
    with_history: bool = True,
) -> odr_pb2.Dispute:
    """The dispute of ``state`` as shown at ``now_ms``; ``ValueError`` if it has none."""
    dispute, registration = state.dispute, state.registration
    if dispute is None or registration is None:
        raise ValueError(f"ticket {state.ticket_id} is no ODR dispute")
    shown = contact or ContactShown()
    message = odr_pb2.Dispute(
        ticket_id=state.ticket_id,
        status=enum_number(dispute.status),
        credit_code=dispute.credit_code,
        enterprise_name=dispute.enterprise_name,
        enterprise_unit=dispute.enterprise_unit,
        category=registration.category,
        facts=registration.facts,
        request=registration.request,
        amount_fen=registration.amount_fen,
        consumer_name=shown.name,
        consumer_phone=shown.phone,
        contact_masked=shown.masked,
        proposal_terms=dispute.proposal_terms,
        proposal_amount_fen=dispute.proposal_amount_fen,
        converted_to_unit=dispute.converted_to_unit,
    )
    message.opened_at.FromMilliseconds(to_millis(dispute.opened_hlc))
    due_ms, overdue, left = _deadline(state, dispute, rules, now_ms)
    if due_ms:
        message.due_at.FromMilliseconds(due_ms)
    message.overdue, message.working_days_left = overdue, left
    if with_history:
        message.history.extend(_step(s) for s in dispute.steps)
    return message
