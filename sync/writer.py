"""The one writer of a node's log: a thread that commits jobs in groups.

Every change to a node's log goes through here: commands of the node's own officers and
batches received from peers. One thread means one place that allocates the origin sequence,
advances the hybrid clock and chains hashes, with no lock dance between request handlers.
Jobs waiting in the queue are committed together in one transaction (group commit): one fsync
for many tickets, which is what makes durable SQLite fast enough for a call-centre surge.

Each job runs inside a savepoint, so a job that fails (bad input, a bug) leaves nothing
behind and does not sink the rest of its group. A job's future is resolved only after the
transaction commits: a caller told "done" can rely on it surviving a crash.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from core import hlc as hybrid_clock
from core.errors import DomainError
from core.officers import OfficerRef
from core.ticket.events import DomainEvent, RecordedEvent
from core.ticket.fold import evolve, fold
from core.ticket.state import TicketState
from sync.envelope import GENESIS_HASH, SealedEvent, seal
from sync.errors import StorageError
from sync.identity import NodeIdentity
from sync.log_store import HLC_STATE, EventLog, Head

log = logging.getLogger(__name__)

T = TypeVar("T")


class ProjectionHook(Protocol):
    """Called once per transaction with the tickets it changed (the node keeps its views)."""

    def __call__(
        self, conn: Connection, states: dict[str, TicketState], new_positions: dict[str, list[int]]
    ) -> None:
        """Update the views for ``states``; ``new_positions`` are the events just stored."""


@dataclass
class _Snapshot:
    head: Head
    hlc: int
    states: dict[str, TicketState]
    positions: dict[str, list[int]]


class LogBatch:
    """One writer transaction, as the jobs see it: record own events, store received ones."""

    def __init__(
        self, conn: Connection, identity: NodeIdentity, wall_ms: Callable[[], int]
    ) -> None:
        self.conn = conn
        self.log = EventLog(conn)
        self.identity = identity
        self._wall_ms = wall_ms
        head = self.log.head(identity.node_id, for_update=True)
        self._head = head or Head(identity.node_id, identity.unit_code, 0, GENESIS_HASH)
        self._head_at_start = self._head
        self._hlc = self.log.state_value(HLC_STATE)
        self._hlc_at_start = self._hlc
        self._states: dict[str, TicketState] = {}
        self._positions: dict[str, list[int]] = defaultdict(list)

    def next_seq(self) -> int:
        """The sequence number the next event this node records will get."""
        return self._head.seq + 1

    def now_ms(self) -> int:
        """Wall-clock milliseconds from the node's clock."""
        return self._wall_ms()

    def state_of(self, ticket_id: str) -> TicketState:
        """The ticket's state including everything written earlier in this transaction."""
        state = self._states.get(ticket_id)
        if state is None:
            state = fold(ticket_id, (e.recorded() for e in self.log.ticket_events(ticket_id)))
            self._states[ticket_id] = state
        return state

    def record(
        self,
        ticket_id: str,
        events: Sequence[DomainEvent],
        officer: OfficerRef,
        *,
        state: TicketState | None = None,
    ) -> list[SealedEvent]:
        """Seal this node's new events for one ticket and append them to its chain."""
        current = state if state is not None else self.state_of(ticket_id)
        sealed: list[SealedEvent] = []
        for event in events:
            self._hlc = hybrid_clock.tick(self._hlc, self._wall_ms())
            one = seal(
                self.identity,
                event_id=uuid.uuid4().hex,
                seq=self._head.seq + 1,
                prev_hash=self._head.hash,
                ticket_id=ticket_id,
                event=event,
                hlc=self._hlc,
                officer=officer,
                ticket_version=current.version,
            )
            self._head = replace(self._head, seq=one.origin_seq, hash=one.hash)
            # Own events carry the highest clock seen, so they sort last: evolve, don't refold.
            current = evolve(current, RecordedEvent(one.meta(), event))
            sealed.append(one)
        self._positions[ticket_id].extend(self.log.append(sealed))
        self._states[ticket_id] = current
        return sealed

    def store_received(self, events: Sequence[SealedEvent], peer: str) -> None:
        """Append events received from ``peer`` (already verified) and observe their clocks."""
        if not events:
            return
        positions = self.log.append(events, received_from=peer)
        self._hlc = hybrid_clock.observe(self._hlc, max(e.hlc for e in events), self._wall_ms())
        for event, pos in zip(events, positions, strict=True):
            self._positions[event.ticket_id].append(pos)
            self._states.pop(event.ticket_id, None)

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(
            self._head,
            self._hlc,
            dict(self._states),
            {k: list(v) for k, v in self._positions.items()},
        )

    def _restore(self, snap: _Snapshot) -> None:
        self._head, self._hlc = snap.head, snap.hlc
        self._states = snap.states
        self._positions = defaultdict(list, snap.positions)

    def _flush(self, project: ProjectionHook) -> None:
        if self._head != self._head_at_start:
            self.log.set_head(self._head)
        if self._hlc != self._hlc_at_start:
            self.log.set_state_value(HLC_STATE, self._hlc)
        changed = {t: self.state_of(t) for t in self._positions}
        if changed:
            project(self.conn, changed, dict(self._positions))


Job = Callable[[LogBatch], T]
_STOP = object()


@dataclass
class _Pending:
    job: Job[Any]
    future: Future[Any]


def _settle(future: Future[Any], ok: bool, value: Any) -> None:
    """Resolve a job's future; a caller that gave up (cancelled) simply is not told."""
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class LogWriter:
    """The writer thread of one node; submit jobs, get futures resolved after commit."""

    def __init__(
        self,
        engine: Engine,
        identity: NodeIdentity,
        wall_ms: Callable[[], int],
        project: ProjectionHook,
        *,
        max_batch: int = 256,
    ) -> None:
        self._engine = engine
        self._identity = identity
        self._wall_ms = wall_ms
        self._project = project
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="log-writer", daemon=True)
        self._started = False
        self.on_commit: Callable[[], None] | None = None
        """Called (on the writer thread) after every commit; e.g. to wake replication."""

    def start(self) -> None:
        """Start the writer thread."""
        if not self._started:
            self._started = True
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs and stop the thread."""
        if self._started:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._started = False

    def submit(self, job: Job[T]) -> Future[T]:
        """Queue a job; the future holds its result once its transaction has committed."""
        if not self._started:
            raise RuntimeError("the log writer is not running")
        future: Future[T] = Future()
        self._queue.put(_Pending(job, future))
        return future

    async def run(self, job: Job[T]) -> T:
        """Queue a job and await its committed result (for asyncio callers)."""
        return await asyncio.wrap_future(self.submit(job))

    def call(self, job: Job[T], timeout: float = 60.0) -> T:
        """Queue a job and wait for its committed result (for threads and tools)."""
        return self.submit(job).result(timeout)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            stop_after = False
            while len(group) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                group.append(item)
            try:
                self._run_group([p for p in group if isinstance(p, _Pending)])
            except Exception:  # never let the one writer thread die
                log.exception("log writer: unexpected failure; continuing")
            if stop_after:
                return

    def _run_group(self, group: list[_Pending]) -> None:
        try:
            outcomes = self._attempt(group)
        except Exception as exc:  # the transaction failed as a whole
            if len(group) > 1:
                # Run each job alone so that one culprit fails by itself.
                for pending in group:
                    self._run_group([pending])
                return
            error = (
                StorageError(f"database error: {exc}") if isinstance(exc, SQLAlchemyError) else exc
            )
            if error is not exc:
                error.__cause__ = exc
            log.warning("log writer: job failed: %s", exc)
            _settle(group[0].future, False, error)
            return
        for pending, (ok, value) in zip(group, outcomes, strict=True):
            _settle(pending.future, ok, value)
        if self.on_commit is not None and any(ok for ok, _ in outcomes):
            self.on_commit()

    def _attempt(self, group: list[_Pending]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        with self._engine.begin() as conn:
            batch = LogBatch(conn, self._identity, self._wall_ms)
            for pending in group:
                snap = batch._snapshot()
                savepoint = conn.begin_nested()
                try:
                    value = pending.job(batch)
                except DomainError as err:
                    savepoint.rollback()
                    batch._restore(snap)
                    outcomes.append((False, err))
                    continue
                except Exception:
                    savepoint.rollback()
                    raise
                savepoint.commit()
                outcomes.append((True, value))
            batch._flush(self._project)
        return outcomes
