"""The deadline sweep: turning due obligation rows into signed reminders and escalations.

Each run reads the rows whose next action is due by the node's clock (which drills accelerate)
for the units this node answers for, and records, in one writer job per batch of tickets, the
events ``core.deadlines.sweep.steps_due`` asks for, decided against the ticket's state at that
moment. The rows are a view of the ticket states and the events are durable, so a sweep
repeated after a crash or a restart asks for nothing twice. The scheduler
(``node.jobs.scheduler``) runs it every ``sweep_interval`` seconds.

A province, city or county node also watches the units below it (supervision from above,
上级监督): the rows of their duties whose next escalation is overdue by more than the rule
book's grace, found through ``obligations.escalate_at_ms``, get the escalations
``core.deadlines.sweep.supervision_steps_due`` asks for, signed by this node. A dark county is
thus escalated on time by its city; when it returns, its own sweep leaves those late levels to
its parent (``parent_supervises``) instead of recording them a second time.

An ODR dispute whose enterprise has not settled by the ODR limit is not escalated: the sweep of
the county that owes its answer converts it into a formal complaint, routed by jurisdiction
(``core.odr.dispute_decisions.conversion_if_overdue``; DOMAIN.md §8), and records nothing else
on that ticket in the same run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from core.errors import DomainError
from core.odr.dispute_decisions import conversion_if_overdue
from core.officers import system_officer
from core.ticket.events import DomainEvent
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty
from core.units import Unit, UnitDirectory, UnitLevel, level_of
from node.app.blocking import BlockingPool
from node.storage.tables import obligations
from node.views.obligations import DeadlineRules
from sync.writer import LogBatch, LogWriter

if TYPE_CHECKING:
    from node.app.runtime import Node

log = logging.getLogger(__name__)

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
BATCH = 200
"""Tickets per writer job."""


class EscalationSweep:
    """Finds due obligations of this node's unit and records the reminders and escalations
    owed (催办, 督办); watches the units below it for escalations that did not arrive.

    ``parent_supervises``: the node above watches this one (city, county, station), so what
    this node lets slip past its window is left to it. ``watches_below``: this node supervises
    the units under it (province, city, county).
    """

    def __init__(
        self,
        unit: Unit,
        read: ReadSnapshot,
        writer: LogWriter,
        rules: DeadlineRules,
        wall_ms: Callable[[], int],
        blocking: BlockingPool,
        *,
        parent_supervises: bool = False,
        watches_below: bool = False,
        units: Callable[[], UnitDirectory] | None = None,
    ) -> None:
        self._unit = unit
        self._units = units
        """The unit directory an overdue ODR dispute is routed by (None: none converted)."""
        self._read = read
        self._writer = writer
        self._rules = rules
        self._wall_ms = wall_ms
        self._blocking = blocking
        self._officer = system_officer(unit)
        self._parent_supervises = parent_supervises
        self._watches_below = watches_below
        self.recorded = 0
        """Events recorded by this sweep since the node started (for drills and tests)."""

    def due_tickets(self, now_ms: int, limit: int = 10_000) -> list[str]:
        """Tickets with an action due by ``now_ms`` on a duty of this node's own unit, or an
        escalation overdue by more than the grace on a duty of a unit below it."""
        own = (
            select(obligations.c.ticket_id)
            .where(
                obligations.c.next_at_ms <= now_ms,
                obligations.c.unit_code == self._unit.code,
            )
            .distinct()
            .limit(limit)
        )
        below = (
            select(obligations.c.ticket_id)
            .where(
                obligations.c.escalate_at_ms <= now_ms - self._rules.grace_ms,
                obligations.c.unit_code.startswith(self._unit.prefix, autoescape=True),
                obligations.c.unit_code != self._unit.code,
            )
            .distinct()
            .limit(limit)
        )
        with self._read() as conn:
            found = list(conn.execute(own).scalars())
            if self._watches_below:
                found += conn.execute(below).scalars()
        return list(dict.fromkeys(found))

    def _steps(self, state: TicketState, now_ms: int) -> list[DomainEvent]:
        """What this node records on one ticket now: its own unit's reminders and escalations,
        and the escalations the units below it let slip."""
        events: list[DomainEvent] = []
        duties = self._rules.duties(state)
        for duty in duties:
            ob = duty.obligation
            if ob.duty is Duty.ODR_ANSWER and ob.unit_code == self._unit.code and self._units:
                try:
                    converted = conversion_if_overdue(
                        state, self._officer, self._units(), ob.due_ms, now_ms
                    )
                except DomainError as exc:  # not expected: the registration was routable
                    log.warning("ODR dispute %s not converted: %s", state.ticket_id, exc)
                    converted = []
                if converted:
                    return converted
        for duty in duties:
            unit = duty.obligation.unit_code
            if unit == self._unit.code:
                # ``next_at_ms`` is the earliest reminder or escalation not recorded: before
                # it (or with none left) the rules would find nothing to record.
                if not duty.next_at_ms or duty.next_at_ms > now_ms:
                    continue
                events += self._rules.steps(
                    state, duty, now_ms, parent_supervises=self._parent_supervises
                )
            elif self._watches_below and self._unit.covers(unit):
                depth = level_of(unit).rank - self._unit.level.rank
                if (
                    not duty.escalate_at_ms
                    or duty.escalate_at_ms + depth * self._rules.grace_ms > now_ms
                ):
                    continue  # no escalation of it is late enough for this node yet
                events += self._rules.supervision_steps(
                    state, duty, now_ms, depth, parent_supervises=self._parent_supervises
                )
        return events

    async def run_once(self) -> int:
        """One sweep; returns how many events it recorded."""
        now = self._wall_ms()
        due = await self._blocking.run(self.due_tickets, now)
        recorded = 0
        for start in range(0, len(due), BATCH):
            recorded += await self._writer.run(self._job(due[start : start + BATCH], now))
        self.recorded += recorded
        return recorded

    def _job(self, ticket_ids: Sequence[str], now_ms: int) -> Callable[[LogBatch], int]:
        def job(batch: LogBatch) -> int:
            count = 0
            batch.prefetch(ticket_ids)
            for ticket_id in ticket_ids:
                state = batch.state_of(ticket_id)
                events = self._steps(state, now_ms)
                if events:
                    batch.record(ticket_id, events, self._officer, state=state)
                    count += len(events)
            return count

        return job


_WATCHING_LEVELS = frozenset({UnitLevel.PROVINCE, UnitLevel.CITY, UnitLevel.COUNTY})
"""The levels that supervise the units below them; the national node leaves a province's
units to the province (escalations climb no higher)."""
_WATCHED_LEVELS = frozenset({UnitLevel.CITY, UnitLevel.COUNTY, UnitLevel.STATION})
"""The levels whose parent watches them: what they let slip past their window, it records."""


def deadline_sweep(node: Node) -> EscalationSweep:
    """The deadline sweep of a node that owes or supervises duties (a profile's job)."""
    level = node.own_unit.level
    return EscalationSweep(
        node.own_unit,
        node.db.read,
        node.writer,
        node.deadlines,
        node.clock.wall_ms,
        node.blocking,
        parent_supervises=level in _WATCHED_LEVELS and bool(node.settings.parent),
        watches_below=level in _WATCHING_LEVELS,
        units=lambda: node.roster.units,
    )
