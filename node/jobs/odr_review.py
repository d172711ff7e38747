"""A county's monthly judgement of its ODR units (ODR企业月度考核) as a job.

Supervision judges each enrolled ODR unit per closed period (``core.odr.standing``): a poor
period becomes a signed warning, a second in a row a proposal to remove that the unit head
decides. Without this job a period is judged only when an officer asks (`hotline odr standings
--review`). Each round judges the last calendar month that has ended (China time), once per
unit: the desk skips a unit already judged for that period, so rounds after a restart, or many
a month, sign nothing twice; the interval only bounds how soon after the 1st it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.odr.standing import closed_month_before
from core.officers import system_officer
from node.enrolment.supervision import StandingsDesk

if TYPE_CHECKING:
    from node.app.runtime import Node


class OdrPeriodReview:
    """Judges the last closed month of a county's ODR units, in the node's own name."""

    def __init__(self, standings: StandingsDesk, officer_id: str, wall_ms: Callable[[], int]):
        self._standings = standings
        self._officer_id = officer_id
        self._wall_ms = wall_ms

    async def run_once(self) -> int:
        """Judge the units not judged yet for the last closed month; how many were."""
        start, end = closed_month_before(self._wall_ms())
        return len(await self._standings.review(self._officer_id, start, end))


def odr_period_review(node: Node) -> OdrPeriodReview:
    """The monthly ODR review of a county node (a profile's job)."""
    return OdrPeriodReview(
        node.odr_standings, system_officer(node.own_unit).officer_id, node.clock.wall_ms
    )
