"""Filling a hub's store with many genuine tickets before a benchmark, fast.

Why this exists: the question "is the node as fast at a million tickets as at ten thousand"
needs a database that holds a million tickets, with every row and index a registration
writes (the signed event, its seal and look-ups, the request id, the fingerprint, the ticket
view, its obligations and signals). Sending them through the RPC stack at a few hundred a
second takes most of an hour. So the filler runs before the hub starts, on the hub's own data
folder and database, as an offline node of the same wiring (``loadtest.harness.offline_node``),
and registers each ticket through the node's own intake desk and log writer: only the RPC
stack and the sign-in are skipped. Thousands of registrations are kept in flight, so the
writer commits them in its largest groups and the commit's fixed cost (the fsync) is shared.

Each ticket is realistic (``random_ticket``) and distinct (its serial in the facts), so the
duplicate check never links two, as in the benchmark's own phases.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from core.officers import Officer
from loadtest.harness import offline_node
from node.app.runtime import Node
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import random_ticket

IN_FLIGHT = 512
"""Registrations waiting on the writer at once: two of its full groups, so it never idles,
and few enough that none waits past the writer's wait limit (30 s) on a slow machine
(2,048 did: at 50 tickets/s on PostgreSQL with the machine saturated)."""

PROGRESS_EVERY = 15.0
"""Seconds between progress lines."""


@dataclass(frozen=True)
class Preloaded:
    """What the filler did."""

    tickets: int
    seconds: float
    cpu_seconds: float = 0.0
    """CPU this process used for them (its loop and the node's writer thread together)."""

    @property
    def rate(self) -> float:
        """Tickets registered per second."""
        return self.tickets / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_ticket(self) -> float:
        """CPU milliseconds per ticket: the figure a busy machine does not distort."""
        return self.cpu_seconds * 1000.0 / self.tickets if self.tickets else 0.0


async def fill(
    node: Node,
    count: int,
    officer: Officer,
    *,
    seed: int,
    progress: Callable[[str], None] = lambda _line: None,
) -> Preloaded:
    """Register ``count`` distinct realistic tickets at ``node`` as ``officer``."""
    rng = random.Random(seed)
    run = f"pre{seed:x}{time.time_ns() & 0xFFFFFF:x}"
    slots = asyncio.Semaphore(IN_FLIGHT)
    failures: list[BaseException] = []
    done = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    next_note = started + PROGRESS_EVERY

    async def register(serial: int) -> None:
        nonlocal done
        try:
            ticket = random_ticket(rng)
            ticket = replace(ticket, facts=f"{ticket.facts}（预载序号{serial}）")
            await node.intake.register_as(f"{run}-{serial:09d}", ticket, officer)
            done += 1
        except BaseException as exc:  # kept and raised once the group in flight has ended
            failures.append(exc)
        finally:
            slots.release()

    tasks: set[asyncio.Task[None]] = set()
    for serial in range(1, count + 1):
        await slots.acquire()
        if failures:
            break
        task = asyncio.create_task(register(serial))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        now = time.perf_counter()
        if now >= next_note:
            next_note = now + PROGRESS_EVERY
            progress(
                f"preload: {done} tickets in {now - started:.0f}s ({done / (now - started):.0f}/s)"
            )
    if tasks:
        await asyncio.gather(*tasks)
    if failures:
        raise failures[0]
    return Preloaded(done, time.perf_counter() - started, time.process_time() - cpu_started)


def preload(
    folder: Path,
    hierarchy: Hierarchy,
    unit: str,
    count: int,
    officer: Officer,
    *,
    db: str = "",
    seed: int,
    progress: Callable[[str], None] = lambda _line: None,
) -> Preloaded:
    """Fill the store of the node of ``unit`` in ``folder`` (``db``: its database URL, empty
    for SQLite in the folder) with ``count`` tickets; the node is not running."""
    with offline_node(folder, hierarchy, unit, db=db) as node:
        return asyncio.run(fill(node, count, officer, seed=seed, progress=progress))
