"""The node's one scheduler: its jobs run in turn, every ``sweep_interval`` seconds.

APScheduler runs one short periodic job (``coalesce`` and one instance at a time, so a slow
round or a sleeping laptop never stacks runs) that runs each of the level's jobs in turn: the
deadline sweep first, then detection, then the erasure of personal data whose retention ended.
Jobs act on rows of the node's views and record durable events, so a round repeated after a
crash or a restart asks for nothing twice: no job store needs to survive the process
(docs/deadlines.md says why).

Every round of a job, whether the timer ran it or a test or drill did (``run_job``), is timed
and told to ``on_job`` (the node's metrics: how long the sweep took, what it recorded).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class ScheduledJob(Protocol):
    """A job the scheduler runs: one round of it, returning how many events it recorded."""

    async def run_once(self) -> int:
        """One round."""
        ...


class JobScheduler:
    """Runs a node's jobs, by name, in turn on the node's event loop."""

    def __init__(self, jobs: Mapping[str, ScheduledJob]) -> None:
        self.jobs = dict(jobs)
        """The jobs, in the order a round runs them (tests run them by name)."""
        self._scheduler: AsyncIOScheduler | None = None
        self._round: asyncio.Task[None] | None = None
        self._stopping = False
        self.on_job: Callable[[str, float, int | None], None] | None = None
        """Told of each round of a job: its name, its seconds, the events it recorded (None:
        it failed)."""

    async def run_job(self, name: str) -> int:
        """One round of the job ``name``, timed; returns how many events it recorded."""
        started = time.perf_counter()
        recorded: int | None = None
        try:
            recorded = await self.jobs[name].run_once()
            return recorded
        finally:
            if self.on_job is not None:
                self.on_job(name, time.perf_counter() - started, recorded)

    def start(self, interval: float) -> None:
        """Run a round every ``interval`` seconds on the running event loop."""
        if not self.jobs:
            return
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self._run_round,
            "interval",
            seconds=interval,
            id="node-jobs",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def _run_round(self) -> None:
        if self._stopping:
            # APScheduler may have launched this round just before ``stop``; it would start
            # only after ``stop`` returned and be cancelled as the node exits.
            return
        self._round = asyncio.current_task()
        try:
            for name in list(self.jobs):
                if self._stopping:
                    return  # the node is stopping: the jobs left run at its next start
                try:
                    await self.run_job(name)
                except Exception:  # a job that fails is tried again at the next round
                    log.exception("job %s failed; it runs again at the next interval", name)
        except asyncio.CancelledError:
            # Cut short as the process ends (its pool closing under a read): each job's writer
            # transaction commits whole or not at all, so the round just runs again at the next
            # start. Ending quietly keeps a clean stop free of tracebacks.
            log.info("a round of the node's jobs was cut short at stop; it runs again at start")
        finally:
            self._round = None

    async def stop(self) -> None:
        """Stop scheduling and let a round under way finish (its writer jobs commit); a round
        not yet begun does not begin."""
        self._stopping = True
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        running = self._round
        if running is not None and not running.done():
            await asyncio.wait({running})
