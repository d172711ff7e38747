"""An enterprise's figures in the green channel for a period (ODR企业考核), from its disputes.

What the county's supervision of its ODR enterprises rests on (issue 13, item 5), and what an
enterprise sees of itself (OdrService.GetPerformance): per period, the disputes it received,
answered in time, settled, had accepted, and saw converted into complaints. Pure: the disputes
and each one's ODR due time are given; the thresholds that turn figures into a verdict are the
rule book's (not here).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.hlc import to_millis
from core.odr.dispute import DisputeStatus, OdrDispute, OdrStepKind


@dataclass(frozen=True)
class DisputeFigures:
    """One enterprise's figures for one period (disputes opened in it)."""

    received: int = 0
    answered_in_time: int = 0
    """With a proposal, a settlement or a withdrawal recorded by the ODR due time."""
    settled: int = 0
    accepted: int = 0
    """Proposals the consumer accepted."""
    converted: int = 0


def _answered_by(dispute: OdrDispute, due_ms: int) -> bool:
    answering = (OdrStepKind.PROPOSAL, OdrStepKind.CLOSED)
    return any(
        s.kind in answering and to_millis(s.recorded_hlc) <= due_ms for s in dispute.steps
    ) or (dispute.status is DisputeStatus.SETTLED and to_millis(dispute.ended_hlc) <= due_ms)


def figures(
    disputes: Iterable[tuple[OdrDispute, int]], start_ms: int, end_ms: int
) -> DisputeFigures:
    """The figures of the disputes opened in [start_ms, end_ms); each given with its due time."""
    received = answered = settled = accepted = converted = 0
    for dispute, due_ms in disputes:
        if not start_ms <= to_millis(dispute.opened_hlc) < end_ms:
            continue
        received += 1
        answered += _answered_by(dispute, due_ms)
        settled += dispute.status is DisputeStatus.SETTLED
        accepted += sum(1 for s in dispute.steps if s.kind is OdrStepKind.ANSWER and s.accepted)
        converted += dispute.status is DisputeStatus.CONVERTED
    return DisputeFigures(received, answered, settled, accepted, converted)
