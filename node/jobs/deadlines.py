"""The deadline sweep: turning due obligation rows into signed reminders and escalations.

Each run reads the rows whose next action is due by the node's clock (which drills accelerate)
for the units this node answers for, and records, in one writer job per batch of tickets, the
events ``core.deadlines.sweep.steps_due`` asks for, decided against the ticket's state at that
moment. The rows are a view of the ticket states and the events are durable, so a sweep
repeated after a crash or a restart asks for nothing twice. The scheduler
(``node.jobs.scheduler``) runs it every ``sweep_interval`` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from core.officers import system_officer
from core.units import Unit
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
    owed (催办, 督办)."""

    def __init__(
        self,
        unit: Unit,
        read: ReadSnapshot,
        writer: LogWriter,
        rules: DeadlineRules,
        wall_ms: Callable[[], int],
        blocking: BlockingPool,
    ) -> None:
        self._unit = unit
        self._read = read
        self._writer = writer
        self._rules = rules
        self._wall_ms = wall_ms
        self._blocking = blocking
        self._officer = system_officer(unit)
        self.recorded = 0
        """Events recorded by this sweep since the node started (for drills and tests)."""

    def due_tickets(self, now_ms: int, limit: int = 10_000) -> list[str]:
        """Tickets with an action due by ``now_ms`` on a duty of this node's own unit."""
        with self._read() as conn:
            return list(
                conn.execute(
                    select(obligations.c.ticket_id)
                    .where(
                        obligations.c.next_at_ms <= now_ms,
                        obligations.c.unit_code == self._unit.code,
                    )
                    .distinct()
                    .limit(limit)
                ).scalars()
            )

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
                events = [
                    event
                    for duty in self._rules.duties(state)
                    if duty.obligation.unit_code == self._unit.code
                    for event in self._rules.steps(state, duty, now_ms)
                ]
                if events:
                    batch.record(ticket_id, events, self._officer, state=state)
                    count += len(events)
            return count

        return job


def deadline_sweep(node: Node) -> EscalationSweep:
    """The deadline sweep of a node that owes or supervises duties (a profile's job)."""
    return EscalationSweep(
        node.own_unit, node.db.read, node.writer, node.deadlines, node.clock.wall_ms, node.blocking
    )
