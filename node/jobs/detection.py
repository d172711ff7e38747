"""Detection as a job: what a detector finds in the views becomes signed events.

The rules of group complaints and professional claimants are in ``core.incidents``; the
detectors that read the signals view for them sit with the level that runs them
(``city_node.group_complaints``, ``province_hub.claimants``: docs/incidents.md gives the
reasons). This runner is what they share: each run asks the detector for its findings on a
snapshot (on the node's blocking pool), then records, in writer jobs, as the node's system
officer (``core.officers.system_officer``), the events still missing, decided again against
each ticket's state inside the job. The views and the events are durable, so a run repeated
after a crash or a restart records nothing twice.

A detector may search incrementally: its plan says how far it looked (``SearchMark``) and the
job hands that back to the next round only once every finding of the plan is recorded; a
round whose recording failed is searched again from the same mark.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class SearchMark:
    """How far a detector's search has looked: the rule it judged by and the last write to
    the signals view it had seen (``change_seq``). A round after a recorded one need look only
    at what was written since, under the same rule."""

    rule: Hashable
    change_seq: int
    at_ms: int
    """The time the round searched at (what has left the lookback since is known)."""


def resumable(
    after: SearchMark | None, rule: Hashable, seen: int, now_ms: int
) -> SearchMark | None:
    """``after`` when a round under ``rule`` at ``now_ms``, the view's last write being
    ``seen``, may look only at what was written since it; None when the round must be a full
    pass: no mark yet, the rule changed, the view was numbered anew below the mark (restored),
    or the clock went back (rows older than the last lookback would count again)."""
    if after is None or after.rule != rule or after.change_seq > seen or after.at_ms > now_ms:
        return None
    return after


@dataclass(frozen=True)
class Plan(Generic[Finding]):
    """A round's findings, per ticket, and how far the round looked."""

    findings: Mapping[str, Sequence[Finding]]
    searched: SearchMark | None = None
    """Where the next round may start once these findings are recorded (None: afresh)."""


class Detector(Protocol[Finding]):
    """What one kind of detection finds, and the events its findings make of a ticket."""

    def plan(self, conn: Connection, now_ms: int, after: SearchMark | None) -> Plan[Finding]:
        """The findings at ``now_ms`` read from the views; ``after``: how far the last
        recorded round looked (None: the first round, search everything)."""
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
        self.searched: SearchMark | None = None
        """How far the last fully recorded round looked (None: no round yet)."""

    def plan(self, now_ms: int) -> Plan[Finding]:
        """What the detector finds at ``now_ms`` after the last recorded round (a blocking read)."""
        with self._read() as conn:
            return self.detector.plan(conn, now_ms, self.searched)

    async def run_once(self) -> int:
        """One run; returns how many events it recorded."""
        plan = await self._blocking.run(self.plan, self._wall_ms())
        planned = plan.findings
        ids = sorted(planned)
        recorded = 0
        for start in range(0, len(ids), BATCH):
            chunk = {t: planned[t] for t in ids[start : start + BATCH]}
            recorded += await self._writer.run(self._job(chunk))
        self.recorded += recorded
        self.searched = plan.searched
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
