"""Where a node's blocking work runs, so that its asyncio loop never waits on it.

Database reads, folds of a ticket's events, signature checks and the sweeps' planning all take
milliseconds to seconds of a thread. Run on the event loop they would hold up every other call,
health checks included; run on Python's default executor they would compete, unbounded, with
the log writer and the signature verifier for the GIL and the database's connections. One
bounded pool per node, shut down with it, is the place for them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sync.waits import WAIT_LIMIT, in_executor

T = TypeVar("T")

DEFAULT_WORKERS = 4
"""Threads of the pool: enough for a few slow reads at once without starving the writer."""


class BlockingPool:
    """A bounded thread pool that async code hands its blocking calls to."""

    def __init__(self, workers: int = DEFAULT_WORKERS, wait_limit: float = WAIT_LIMIT) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blocking")
        """The pool itself, for components that take a ``concurrent.futures.Executor``."""
        self.wait_limit = wait_limit
        """Seconds a caller waits, queue time included (``sync.waits``): then ``Busy`` if the
        work had not begun, ``WaitExpired`` if it had."""

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the pool; the caller's loop stays free meanwhile."""
        return await in_executor(self.executor, self.wait_limit, fn, *args, **kwargs)

    def close(self) -> None:
        """Finish the calls under way and stop the threads (calls not started are dropped)."""
        self.executor.shutdown(wait=True, cancel_futures=True)
