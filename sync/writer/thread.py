"""``LogWriter``: the writer thread of a node, its queue, group commit and the hand-back.

Callers queue jobs from any thread (``submit``, ``call``) or event loop (``run``), each on a
lane (``sync.writer.lanes``): the desk's, where a caller is on the line, or the backlog's (a
peer's backlog in slices, a catch-up job's batches), served in turns so that a registration
never waits behind a whole replication storm. The thread takes what is waiting in one lane,
up to ``max_batch`` jobs, and commits them together (``sync.writer.transaction``): one fsync
for many tickets, which is what makes durable SQLite fast enough for a call-centre surge. A
backlog group stops growing as soon as a desk job waits, or after ``backlog_budget`` seconds
of its jobs. Each caller is answered only after the commit, the asyncio callers of one loop
with one wake-up.

Stopping is part of the contract, for a node that drains on SIGTERM: ``stop`` lets every job
queued before it commit and be answered, then ends the thread. A job offered after ``stop``
is refused at once with ``StorageError`` ("the node is stopping"), which the edge answers as
UNAVAILABLE; should anything still be queued when the thread ends, it is answered the same.

No asyncio caller waits forever (``run``): after ``wait_limit`` seconds a job the thread has
not taken yet is dropped, never to run, and its caller told ``Busy`` (nothing was written);
one already taken is left to commit, and its caller told ``WaitExpired``. A caller that is
cancelled (its client gave up) drops its job the same way if the thread has not taken it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from sync.errors import Busy, StorageError, WaitExpired
from sync.identity import NodeIdentity
from sync.trust import TrustStore
from sync.writer.batch import LogBatch
from sync.writer.committed import CAPACITY as KEPT_STATES
from sync.writer.committed import CommittedStates
from sync.writer.flush import ProjectionHook
from sync.writer.lanes import Lane, Lanes
from sync.writer.transaction import Job, Outcome, commit_group

log = logging.getLogger(__name__)

T = TypeVar("T")
STOPPING = "the node is stopping: its log writer takes no more jobs"
WAIT_LIMIT = 30.0
"""Seconds an asyncio caller waits for its job, queue time included, unless told else."""
BACKLOG_BUDGET = 0.015
"""Seconds of backlog jobs after which their group stops growing and commits. A desk job
arriving just then waits for that, the job under way, and the group's flush and commit, which
take about as long again as its jobs: with 40 ms, groups of four slices held the writer for
90 to 160 ms in the storm (docs/storm.md); with 15 ms, mostly one or two slices."""


@dataclass
class _Pending:
    job: Job[Any]
    future: Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    loop_future: asyncio.Future[Any] | None = None
    taken: bool = False
    """Set by the writer thread when the job joins a group (under ``LogWriter._claims``)."""
    dropped: bool = False
    """Set by a caller that gave up before the thread took the job: it never runs."""


def _settle_thread_future(future: Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():  # the caller gave up; it simply is not told
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _settle_loop_futures(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in outcomes:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class LogWriter:
    """The writer thread of one node; submit jobs, get results after commit."""

    def __init__(
        self,
        engine: Engine,
        identity: NodeIdentity,
        wall_ms: Callable[[], int],
        project: ProjectionHook,
        *,
        max_batch: int = 256,
        group_wait: float = 0.001,
        trust: TrustStore | None = None,
        wait_limit: float = WAIT_LIMIT,
        backlog_budget: float = BACKLOG_BUDGET,
        kept_states: int = KEPT_STATES,
    ) -> None:
        self._engine = engine
        self.trust = trust
        """What this node trusts; jobs see it as ``LogBatch.trust`` and change it only
        through the batch (``LogBatch.stage_trust``)."""
        self._identity = identity
        self._wall_ms = wall_ms
        self._project = project
        self._max_batch = max_batch
        self._group_wait = group_wait
        self._backlog_budget = backlog_budget
        self.wait_limit = wait_limit
        """Seconds ``run`` waits for a job before it gives up (``Busy`` or ``WaitExpired``)."""
        self._claims = threading.Lock()
        """Orders the thread's taking a job against a caller's dropping it."""
        self._conn: Connection | None = None
        self._lanes: Lanes[_Pending] = Lanes()
        self._committed_states = CommittedStates(kept_states) if kept_states else None
        """Ticket states as committed, kept for the next transactions' folds (writer only;
        ``kept_states``, how many at most; 0: none, every fold reads the log)."""
        self._thread = threading.Thread(target=self._loop, name="log-writer", daemon=True)
        self._lock = threading.Lock()
        """Orders queueing against stopping: nothing is queued after the stop marker."""
        self._started = False
        self._stopping = False
        self.on_commit: Callable[[], None] | None = None
        """Called (on the writer thread) after every commit; e.g. to wake replication."""
        self.on_open: Callable[[Connection], object] | None = None
        """Called (on the writer thread) at the start of each transaction, once the node's
        own head row is locked: where a process of a hub catches up with what its other
        processes changed (``node.storage.shared_changes``)."""
        self.on_group: Callable[[int, float], None] | None = None
        """Called (on the writer thread) after every group's transaction committed, with its
        jobs and the seconds it took: the node's metrics (``node.metrics``)."""

    def start(self) -> None:
        """Start the writer thread."""
        with self._lock:
            if self._stopping:
                raise StorageError(STOPPING)
            if not self._started:
                self._started = True
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Commit every job queued so far, answer its caller, and end the thread.

        Jobs offered from now on are refused with ``StorageError``. Safe to call more than
        once and from any thread (a node calls it from a pool while its event loop runs, so
        that asyncio callers are answered meanwhile). Returns False if the thread was still
        busy after ``timeout`` seconds (it goes on with what it was given, and stops).
        """
        with self._lock:
            if not self._stopping:
                self._stopping = True
                self._lanes.close()
        if not self._started or self._thread is threading.current_thread():
            return True
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("log writer: still busy after %.1f s of stopping", timeout)
            return False
        return True

    @property
    def queue_depth(self) -> int:
        """Jobs queued in both lanes and not yet taken into a group (approximate, as the
        queues move)."""
        return self._lanes.depth()

    @property
    def kept_states(self) -> int:
        """How many committed ticket states the writer keeps now (``sync.writer.committed``)."""
        return len(self._committed_states) if self._committed_states is not None else 0

    @property
    def stopping(self) -> bool:
        """True once ``stop`` was called (or the thread ended): no job is taken any more."""
        return self._stopping

    def _enqueue(self, pending: _Pending, lane: Lane) -> None:
        with self._lock:
            if self._stopping:
                raise StorageError(STOPPING)
            if not self._started:
                raise RuntimeError("the log writer is not running")
            self._lanes.put(pending, lane)

    def submit(self, job: Job[T], *, lane: Lane = Lane.DESK) -> Future[T]:
        """Queue a job; the future holds its result once its transaction has committed."""
        future: Future[T] = Future()
        self._enqueue(_Pending(job, future=future), lane)
        return future

    async def run(self, job: Job[T], *, lane: Lane = Lane.DESK) -> T:
        """Queue a job and await its committed result (for asyncio callers), for at most
        ``wait_limit`` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = _Pending(job, loop=loop, loop_future=future)
        self._enqueue(pending, lane)
        try:
            return await asyncio.wait_for(future, self.wait_limit)
        except TimeoutError:
            if self._drop(pending):
                raise Busy(
                    f"the log writer did not take the job within {self.wait_limit:g} s"
                ) from None
            raise WaitExpired(
                f"the log writer did not commit the job within {self.wait_limit:g} s; it may "
                "still be recorded"
            ) from None
        except asyncio.CancelledError:
            self._drop(pending)
            raise

    def _drop(self, pending: _Pending) -> bool:
        """Drop a job its caller gave up on; False when the thread had already taken it."""
        with self._claims:
            if pending.taken:
                return False
            pending.dropped = True
            return True

    def _take(self, items: list[_Pending]) -> list[_Pending]:
        """The jobs of ``items`` their callers still wait for, marked as taken."""
        with self._claims:
            group = [p for p in items if not p.dropped]
            for pending in group:
                pending.taken = True
        return group

    def call(self, job: Job[T], timeout: float = 60.0, *, lane: Lane = Lane.DESK) -> T:
        """Queue a job and wait for its committed result (for threads and tools)."""
        return self.submit(job, lane=lane).result(timeout)

    # -- the thread --------------------------------------------------------------------------

    def _desk_group(self, busy: bool) -> list[_Pending]:
        """The next group of desk jobs.

        When the last group held more than one job, callers are queueing: wait up to
        ``group_wait`` seconds for more, so the fixed cost of a commit (and its fsync) is
        shared by more tickets. An idle node commits a lone job at once.
        """
        items: list[_Pending] = []
        deadline = time.monotonic() + self._group_wait if busy else 0.0
        while len(items) < self._max_batch:
            item = self._lanes.take(Lane.DESK, max(0.0, deadline - time.monotonic()))
            if item is None:
                break
            items.append(item)
        return self._take(items)

    def _backlog_start(self) -> list[_Pending]:
        """The first job of a backlog group (its turn came: the desk waits meanwhile)."""
        while (item := self._lanes.take(Lane.BACKLOG)) is not None:
            live = self._take([item])
            if live:
                return live
        return []

    def _next_backlog(self, started: float, taken: int) -> _Pending | None:
        """One more backlog job for the group under way, or None to close it: as soon as
        a desk job waits, after ``backlog_budget`` seconds of jobs, or at ``max_batch``."""
        if (
            taken >= self._max_batch
            or self._lanes.waiting(Lane.DESK)
            or time.perf_counter() - started >= self._backlog_budget
        ):
            return None
        more = self._backlog_start()
        return more[0] if more else None

    def _loop(self) -> None:
        busy = False
        try:
            while (lane := self._lanes.next_lane()) is not None:
                if lane is Lane.DESK:
                    group = self._desk_group(busy)
                    busy = len(group) > 1
                    growing = False
                else:
                    group = self._backlog_start()
                    growing = True
                if not group:  # every caller of these gave up before they were taken
                    continue
                try:
                    self._run_group(group, growing=growing)
                except Exception:  # never let the one writer thread die
                    log.exception("log writer: unexpected failure; continuing")
        finally:
            with self._lock:
                self._stopping = True  # however the thread ends, nothing more is queued
                self._lanes.close()
            self._close_connection()
            self._answer_leftovers()

    def _answer_leftovers(self) -> None:
        """Answer whatever is still queued with ``StorageError`` (the writer has stopped)."""
        left = self._lanes.drain()
        if left:
            log.warning("log writer: %d job(s) queued after the stop refused", len(left))
            self._hand_back(left, [(False, StorageError(STOPPING)) for _ in left])

    def _run_group(self, group: list[_Pending], *, growing: bool = False) -> None:
        """Commit ``group``; ``growing``: a backlog group, which takes more backlog jobs
        between its jobs while ``_next_backlog`` gives them (``group`` grows)."""
        started = time.perf_counter()
        took: float | None = None

        def jobs() -> Iterator[Job[Any]]:
            yield from (p.job for p in list(group))
            while growing and (more := self._next_backlog(started, len(group))) is not None:
                group.append(more)
                yield more.job

        try:
            outcomes = commit_group(self._connection(), jobs(), self._open_batch, self._project)
        except Exception as exc:  # the transaction failed as a whole
            if isinstance(exc, SQLAlchemyError):
                self._close_connection()  # it may be broken; the next group dials afresh
            if len(group) > 1:
                # Run each job alone so that one culprit fails by itself.
                for pending in group:
                    self._run_group([pending])
                return
            error: Exception = exc
            if isinstance(exc, SQLAlchemyError):
                error = StorageError(f"database error: {exc}")
                error.__cause__ = exc
            log.warning("log writer: job failed: %s", exc)
            outcomes = [(False, error)]
        else:
            took = time.perf_counter() - started
        self._hand_back(group, outcomes)
        if took is not None:  # told after the callers are answered: they wait for nothing
            self._committed(len(group), took)
        if self.on_commit is not None and any(ok for ok, _ in outcomes):
            self.on_commit()

    def _committed(self, size: int, seconds: float) -> None:
        """Tell ``on_group`` of a committed group; its failure never fails the jobs."""
        if self.on_group is not None:
            try:
                self.on_group(size, seconds)
            except Exception:
                log.exception("log writer: on_group failed")

    def _open_batch(self, conn: Connection) -> LogBatch:
        batch = LogBatch(  # locks the head
            conn, self._identity, self._wall_ms, self.trust, committed=self._committed_states
        )
        if self.on_open is not None:
            self.on_open(conn)
        return batch

    def _hand_back(self, group: list[_Pending], outcomes: list[Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for pending, (ok, value) in zip(group, outcomes, strict=True):
            if pending.future is not None:
                _settle_thread_future(pending.future, ok, value)
            elif pending.loop is not None and pending.loop_future is not None:
                by_loop.setdefault(pending.loop, []).append((pending.loop_future, ok, value))
        for loop, results in by_loop.items():  # one wake-up per event loop, not per job
            with contextlib.suppress(RuntimeError):  # a closed loop: its callers are gone
                loop.call_soon_threadsafe(_settle_loop_futures, results)

    def _connection(self) -> Connection:
        """The writer's own connection, kept open: it is the only user of the write engine."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._close_connection()
            self._conn = self._engine.connect()
        return self._conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None
