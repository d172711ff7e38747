"""The node's job scheduler stops cleanly (node.jobs.scheduler.JobScheduler).

A round that APScheduler launched just before ``stop`` would otherwise begin after ``stop``
returned, and be cancelled as the process exits, a traceback in the node's log.
"""

from __future__ import annotations

import asyncio

from node.jobs.scheduler import JobScheduler


class CountingJob:
    """A job that counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    async def run_once(self) -> int:
        self.runs += 1
        return 0


def test_a_round_launched_after_stop_does_not_run_its_jobs() -> None:
    job = CountingJob()
    scheduler = JobScheduler({"count": job})

    async def scenario() -> None:
        scheduler.start(3600)
        await scheduler._run_round()  # a round before stop runs
        await scheduler.stop()
        await scheduler._run_round()  # one APScheduler had launched just before stop

    asyncio.run(scenario())
    assert job.runs == 1
