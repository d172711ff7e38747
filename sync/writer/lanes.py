"""The writer's two queues: the desk's jobs before a backlog's, and neither one starved.

Why this exists: a node's one log writer takes two kinds of work. Its own officers' commands
(a registration at the hotline desk, casework, a child's hello) each have a caller waiting on
the line; a replication storm's backlogs (``sync.children``, docs/storm.md) are thousands of
events for which only the total time counts, and so are the batches of catch-up jobs such as
re-keying the look-ups of the seals those backlogs brought (``node.jobs.lookup_rekey``). In
one first-come queue a registration offered just after a backlog waited for the whole of it.
So each job is queued on a ``Lane``, and the writer serves them in turns:

* when both lanes have work, a group of desk jobs and a group of backlog jobs alternate, so
  the desk waits for at most one backlog group, and a backlog moves at least every other turn
  however busy the desk (3·15 morning) is;
* a backlog group grows only while no desk job waits (``LogWriter`` asks ``waiting`` between
  its jobs), so a registration arriving meanwhile waits for the job under way and the commit,
  not for every slice of backlog already queued.

Each lane keeps its own order: the slices of one pushed batch are taken in the order they were
offered, which chains taken link by link rely on.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from typing import Generic, TypeVar

P = TypeVar("P")


class Lane(enum.Enum):
    """Which queue of the writer a job waits in."""

    DESK = "desk"
    """A caller is waiting for this job: an officer's command, a sweep's chunk, a child's hello."""
    BACKLOG = "backlog"
    """Work nobody waits for on the line, in slices: a peer's backlog (replication), a
    catch-up job's batch (re-keying look-ups). Taken in turn with the desk, never ahead."""


class Lanes(Generic[P]):
    """The two queues, shared by the callers' threads and the writer thread."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._queues: dict[Lane, deque[P]] = {lane: deque() for lane in Lane}
        self._served_last = Lane.BACKLOG
        self._closed = False

    def put(self, item: P, lane: Lane) -> None:
        """Queue ``item`` at the end of ``lane``."""
        with self._ready:
            self._queues[lane].append(item)
            self._ready.notify()

    def close(self) -> None:
        """No more items will come: ``next_lane`` answers None once both lanes are empty."""
        with self._ready:
            self._closed = True
            self._ready.notify()

    def depth(self) -> int:
        """Items queued in both lanes (approximate, as the queues move)."""
        return sum(len(q) for q in self._queues.values())

    def waiting(self, lane: Lane) -> bool:
        """True when ``lane`` has an item queued (a hint: it may be taken the next moment)."""
        return bool(self._queues[lane])

    def next_lane(self) -> Lane | None:
        """The lane to serve next, waiting until one has work; None when closed and empty.

        With work in both, the one not served last: the lanes take turns.
        """
        with self._ready:
            while True:
                busy = [lane for lane in Lane if self._queues[lane]]
                if busy:
                    lane = busy[0] if len(busy) == 1 else _other(self._served_last)
                    self._served_last = lane
                    return lane
                if self._closed:
                    return None
                self._ready.wait()

    def take(self, lane: Lane, timeout: float = 0.0) -> P | None:
        """The first item of ``lane``, waiting up to ``timeout`` seconds for one; None if none."""
        deadline = time.monotonic() + timeout
        with self._ready:
            queue = self._queues[lane]
            while not queue:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                self._ready.wait(remaining)
            return queue.popleft()

    def drain(self) -> list[P]:
        """Everything still queued, both lanes, emptied."""
        with self._ready:
            left = [item for lane in Lane for item in self._queues[lane]]
            for queue in self._queues.values():
                queue.clear()
            return left


def _other(lane: Lane) -> Lane:
    return Lane.DESK if lane is Lane.BACKLOG else Lane.BACKLOG
