"""Supervision of ODR units at a node (ODR企业监督): standings read, periods judged and signed.

The figures come from the disputes (``core.odr.standing.DisputeRecord``), read by a function
the node is given (``DisputeReader``: the dispute projection, glued in by the wiring; none
until then); the thresholds from the province's rule book. Reading standings changes nothing.
Judging a closed period (``review``) is the county's: for each of its units on the roster it
signs what the verdict finds (a warning sets WARNED, a removal proposal awaits a unit head's
``DecideRemoval``, a good period clears the poor ones), once per unit and period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.deadlines.rulebook import RuleBook
from core.errors import InvalidInput, NotPermitted
from core.odr.roster_changes import Signer, judged_before, judged_period
from core.odr.roster_record import RosterRecord
from core.odr.standing import DisputeRecord, Judgement, figures_of, judge
from core.units import UnitLevel, jurisdiction_prefix
from node.app.blocking import BlockingPool
from node.desks.roster import Roster
from node.enrolment.roster import RosterBook, current_records
from node.storage.database import Database

DisputeReader = Callable[[int, int], Sequence[DisputeRecord]]
"""The disputes opened in ``[start_ms, end_ms)`` as this node holds them (blocking)."""

DEFAULT_PERIOD_MS = 90 * 86_400_000
"""The period read when none is given: the last 90 days."""


def no_disputes(start_ms: int, end_ms: int) -> Sequence[DisputeRecord]:
    """The reader of a node that holds no disputes (until the dispute projection is glued)."""
    return ()


class RuleBookHolder(Protocol):
    """Where the rule book in force is read (``node.desks.province_rules.ProvinceRules``)."""

    book: RuleBook


@dataclass(frozen=True)
class UnitStanding:
    """A unit's judgement for a period, with its name."""

    name: str
    judgement: Judgement


class StandingsDesk:
    """Standings read and periods judged at one node (every method on the blocking pool)."""

    def __init__(
        self,
        db: Database,
        roster: Roster,
        book: RosterBook,
        rules: RuleBookHolder,
        blocking: BlockingPool,
        wall_ms: Callable[[], int],
        reader: DisputeReader = no_disputes,
    ) -> None:
        self._db = db
        self._roster = roster
        self._book = book
        self._rules = rules
        self._blocking = blocking
        self._wall_ms = wall_ms
        self.reader = reader
        """How disputes are read; the wiring sets the dispute projection's."""

    def period(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """The period asked for, defaulted (the last 90 days) and checked."""
        end = end_ms or self._wall_ms()
        start = start_ms or end - DEFAULT_PERIOD_MS
        if start >= end:
            raise InvalidInput("period_start", "must be before period_end")
        return start, end

    async def standings(
        self, start_ms: int, end_ms: int, credit_code: str = ""
    ) -> list[UnitStanding]:
        """Each unit on the roster under this node's unit, judged for the period (read only)."""
        start, end = self.period(start_ms, end_ms)
        return await self._blocking.run(self._standings, start, end, credit_code)

    def _standings(self, start: int, end: int, credit_code: str) -> list[UnitStanding]:
        unit = self._roster.own_unit()
        with self._db.read() as conn:
            records = current_records(conn, jurisdiction_prefix(unit.code, unit.level))
        disputes = list(self.reader(start, end))
        thresholds = self._rules.book.odr_thresholds
        found = []
        for record in records:
            if not _supervised(record) or (credit_code and record.credit_code != credit_code):
                continue
            figures = figures_of(record.credit_code, disputes, start, end)
            found.append(UnitStanding(record.name, judge(figures, thresholds, record.poor_periods)))
        return found

    async def review(self, officer_id: str, start_ms: int, end_ms: int) -> list[UnitStanding]:
        """Judge a closed period of this county's units and sign what it finds."""
        start, end = self.period(start_ms, end_ms)
        if end > self._wall_ms():
            raise InvalidInput("period_end", "the period must be over before it is judged")
        unit = self._roster.own_unit()
        if unit.level is not UnitLevel.COUNTY:
            raise NotPermitted("the county that enrolled its units judges their periods")
        return await self._blocking.run(self._review, officer_id, start, end)

    def _review(self, officer_id: str, start: int, end: int) -> list[UnitStanding]:
        county = self._roster.own_unit().code
        disputes = list(self.reader(start, end))
        thresholds = self._rules.book.odr_thresholds
        signer = Signer(self._book.unit_code, self._book.node_id, officer_id, self._wall_ms())
        judged = []
        with self._db.write() as conn:
            for record in current_records(conn, county):
                if judged_before(record, end):
                    continue
                figures = figures_of(record.credit_code, disputes, start, end)
                found = judge(figures, thresholds, record.poor_periods)
                self._book.issue(conn, judged_period(record, signer, found, end))
                judged.append(UnitStanding(record.name, found))
        return judged


def _supervised(record: RosterRecord) -> bool:
    """Enrolled and still receiving disputes."""
    return record.enrolled and record.standing.routable
