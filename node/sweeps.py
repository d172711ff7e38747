"""The escalation sweep: turning due obligation rows into signed reminders and escalations.

APScheduler runs one short job every ``sweep_interval`` seconds (``coalesce`` and one instance
at a time, so a slow sweep or a sleeping laptop never stacks runs). Each run reads the rows
whose next action is due by the node's clock (which drills accelerate) for the units this node
answers for, and records, in one writer job per batch of tickets, the events
``core.deadlines.duties.steps_due`` asks for, decided against the ticket's state at that moment.
The rows are a view of the ticket states and the events are durable, so a sweep repeated after a
crash or a restart asks for nothing twice: no job store needs to survive the process.

The same job then runs incident detection (``node.incidents``: group complaints, professional
claimants), kept apart from ``run_once`` so that a deadline sweep costs what it cost before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Connection, select

from core.officers import OfficerRef
from core.units import Unit, jurisdiction_prefix
from node.incidents import IncidentSweep
from node.obligations import DeadlineRules, obligations
from sync.writer import LogBatch, LogWriter

log = logging.getLogger(__name__)

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
BATCH = 200


def sweep_officer(unit: Unit) -> OfficerRef:
    """Who signs a node's reminders and escalations: its deadline sweep, in its unit's name."""
    return OfficerRef(f"{unit.code}-sweep", "催办督办系统", unit.code, unit.level)


class EscalationSweep:
    """Finds due obligations of this node's units and records what is owed; then has incident
    detection run (``incidents``)."""

    def __init__(
        self,
        unit: Unit,
        read: ReadSnapshot,
        writer: LogWriter,
        rules: DeadlineRules,
        wall_ms: Callable[[], int],
        incidents: IncidentSweep | None = None,
    ) -> None:
        self._unit = unit
        self._prefix = jurisdiction_prefix(unit.code, unit.level)
        self._read = read
        self._writer = writer
        self._rules = rules
        self._wall_ms = wall_ms
        self._officer = sweep_officer(unit)
        self._scheduler: AsyncIOScheduler | None = None
        self.recorded = 0
        """Events recorded by this sweep since the node started (for drills and tests)."""
        self.incidents = (
            incidents
            if incidents is not None
            else IncidentSweep(unit, read, writer, wall_ms, self._officer)
        )
        """Group-complaint and professional-claimant detection, run after each sweep."""

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
        due = self.due_tickets(now)
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

    def start(self, interval: float) -> None:
        """Run ``run_once`` every ``interval`` seconds on the running event loop."""
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self._safe_run,
            "interval",
            seconds=interval,
            id="escalation-sweep",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def _safe_run(self) -> None:
        try:
            await self.run_once()
        except Exception:  # a sweep that fails is tried again at the next interval
            log.exception("escalation sweep failed; it runs again at the next interval")
        await self.incidents.safe_run()

    def stop(self) -> None:
        """Stop the scheduler (a sweep in progress finishes its writer job)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
