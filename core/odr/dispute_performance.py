"""An enterprise's figures in the green channel for a period (ODR企业考核), from its disputes.

What the county's supervision of its ODR enterprises rests on (issue 13, item 5), and what an
enterprise sees of itself (OdrService.GetPerformance): per period, the disputes it received,
answered in time, settled, had accepted, and saw converted into complaints. Pure: a folded
dispute and its ODR due time become the ``DisputeRecord`` that ``core.odr.standing`` counts and
judges against the rule book's thresholds.
"""

from __future__ import annotations

from core.hlc import to_millis
from core.odr.dispute import DisputeStatus, OdrDispute, OdrStepKind
from core.odr.standing import DisputeOutcome, DisputeRecord

_ANSWERING = (OdrStepKind.PROPOSAL, OdrStepKind.CLOSED)
"""The enterprise's steps that answer a dispute: a proposal, or recording a withdrawal."""


def answered_ms(dispute: OdrDispute) -> int:
    """When the enterprise first answered (proposed, or recorded a withdrawal), or the dispute
    was settled, in epoch milliseconds; 0 when it never did."""
    times = [to_millis(s.recorded_hlc) for s in dispute.steps if s.kind in _ANSWERING]
    if dispute.status is DisputeStatus.SETTLED:
        times.append(to_millis(dispute.ended_hlc))
    return min(times, default=0)


def was_accepted(dispute: OdrDispute) -> bool:
    """True when the consumer accepted a proposal of the dispute."""
    return any(s.kind is OdrStepKind.ANSWER and s.accepted for s in dispute.steps)


_OUTCOME = {
    DisputeStatus.NEGOTIATING: DisputeOutcome.OPEN,
    DisputeStatus.PROPOSED: DisputeOutcome.OPEN,
    DisputeStatus.SETTLED: DisputeOutcome.SETTLED,
    DisputeStatus.CONVERTED: DisputeOutcome.CONVERTED,
    DisputeStatus.WITHDRAWN: DisputeOutcome.WITHDRAWN,
}


def record_of(ticket_id: str, dispute: OdrDispute, due_ms: int) -> DisputeRecord:
    """The dispute as supervision counts it (``core.odr.standing``), given its ODR due time."""
    return DisputeRecord(
        ticket_id,
        dispute.credit_code,
        to_millis(dispute.opened_hlc),
        due_ms,
        answered_ms(dispute),
        _OUTCOME[dispute.status],
        was_accepted(dispute),
    )
