"""An enterprise's figures in the green channel for a period (ODR企业考核), from its disputes.

What the county's supervision of its ODR enterprises rests on (issue 13, item 5), and what an
enterprise sees of itself (OdrService.GetPerformance): per period, the disputes it received,
answered in time, settled, had accepted, and saw converted into complaints. Pure: the disputes
and each one's ODR due time are given; the thresholds that turn figures into a verdict are the
rule book's (not here). ``answered_ms`` and ``was_accepted`` read off a folded dispute what
supervision's record of it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.hlc import to_millis
from core.odr.dispute import DisputeStatus, OdrDispute, OdrStepKind

_ANSWERING = (OdrStepKind.PROPOSAL, OdrStepKind.CLOSED)
"""The enterprise's steps that answer a dispute: a proposal, or recording a withdrawal."""


@dataclass(frozen=True)
class DisputeFigures:
    """One enterprise's figures for one period (disputes opened in it)."""

    received: int = 0
    answered_in_time: int = 0
    """With a proposal, a settlement or a withdrawal recorded by the ODR due time."""
    settled: int = 0
    accepted: int = 0
    """Disputes whose consumer accepted a proposal."""
    converted: int = 0


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


def figures(
    disputes: Iterable[tuple[OdrDispute, int]], start_ms: int, end_ms: int
) -> DisputeFigures:
    """The figures of the disputes opened in [start_ms, end_ms); each given with its due time."""
    received = answered = settled = accepted = converted = 0
    for dispute, due_ms in disputes:
        if not start_ms <= to_millis(dispute.opened_hlc) < end_ms:
            continue
        received += 1
        first = answered_ms(dispute)
        answered += bool(first) and first <= due_ms
        settled += dispute.status is DisputeStatus.SETTLED
        accepted += was_accepted(dispute)
        converted += dispute.status is DisputeStatus.CONVERTED
    return DisputeFigures(received, answered, settled, accepted, converted)
