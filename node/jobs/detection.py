"""Detection as a job: what a detector finds in the views becomes signed events.

The rules of group complaints and professional claimants are in ``core.incidents``; the
detectors that read the signals view for them sit with the level that runs them
(``city_node.group_complaints``, ``province_hub.claimants``: docs/incidents.md gives the
reasons). This runner is what they share: each run asks the detector for its findings on a
snapshot (on the node's blocking pool), then records, in writer jobs, as the node's system
officer (``core.officers.system_officer``), the events still missing, decided again against
each ticket's state inside the job. The views and the events are durable, so a run repeated
after a crash or a restart records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Connection

from core.officers import system_officer
from core.ticket.events import DomainEvent
from core.ticket.state import TicketState, TicketStatus
from core.units import Unit
from node.app.blocking import BlockingPool
from sync.writer import LogBatch, LogWriter

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
Finding = TypeVar("Finding")
BATCH = 200
"""Tickets per writer job."""
DEFAULT_LOOKBACK_DAYS = 30
"""How far back (by receipt) detection looks: covers the rules' windows and tickets that
arrive late from a county that was offline."""


class Detector(Protocol[Finding]):
    """What one kind of detection finds, and the events its findings make of a ticket."""

    def plan(self, conn: Connection, now_ms: int) -> Mapping[str, Sequence[Finding]]:
        """The findings at ``now_ms``, per ticket, read from a snapshot of the views."""
        ...

    def events_for(self, state: TicketState, findings: Sequence[Finding]) -> list[DomainEvent]:
        """The events still missing from ``state`` for its findings (none: nothing to do)."""
        ...


class DetectionJob(Generic[Finding]):
    """Runs a detector on a node and records what it finds."""

    def __init__(
        self,
        detector: Detector[Finding],
        unit: Unit,
        read: ReadSnapshot,
        writer: LogWriter,
        wall_ms: Callable[[], int],
        blocking: BlockingPool,
    ) -> None:
        self.detector = detector
        self._read = read
        self._writer = writer
        self._wall_ms = wall_ms
        self._blocking = blocking
        self._officer = system_officer(unit)
        self.recorded = 0
        """Events recorded by this job since the node started (for drills and tests)."""

    def plan(self, now_ms: int) -> dict[str, Sequence[Finding]]:
        """What the detector finds at ``now_ms`` (a blocking read)."""
        with self._read() as conn:
            return dict(self.detector.plan(conn, now_ms))

    async def run_once(self) -> int:
        """One run; returns how many events it recorded."""
        planned = await self._blocking.run(self.plan, self._wall_ms())
        ids = sorted(planned)
        recorded = 0
        for start in range(0, len(ids), BATCH):
            chunk = {t: planned[t] for t in ids[start : start + BATCH]}
            recorded += await self._writer.run(self._job(chunk))
        self.recorded += recorded
        return recorded

    def _job(self, planned: dict[str, Sequence[Finding]]) -> Callable[[LogBatch], int]:
        def job(batch: LogBatch) -> int:
            count = 0
            batch.prefetch(planned)
            for ticket_id, findings in planned.items():
                state = batch.state_of(ticket_id)
                if state.registration is None or state.status is TicketStatus.DUPLICATE:
                    continue
                events = self.detector.events_for(state, findings)
                if events:
                    batch.record(ticket_id, events, self._officer, state=state)
                    count += len(events)
            return count

        return job
