"""Waiting on a thread or process pool with a limit: no call waits forever on a node.

A node's calls hand their blocking work (reads, folds, signature checks) to a bounded pool. A
pool that is wedged (a database that stopped answering, a flood of slow reads) would otherwise
hold every caller's call open for as long as it lasts, and the callers' memory with it. Every
such wait has a limit: work still waiting its turn when the limit passes is dropped before it
begins (``Busy``: nothing was done, retry later); work already under way is left to finish
while the caller is told so (``WaitExpired``). The log writer keeps the same promise for its
queue (``sync.writer.thread``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from typing import Any, TypeVar

from sync.errors import Busy, WaitExpired

T = TypeVar("T")

WAIT_LIMIT = 30.0
"""Seconds a call waits for blocking work, queue time included, unless its node says else."""


async def in_executor(
    executor: Executor, limit: float, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """``fn(*args, **kwargs)`` on ``executor``, awaited for at most ``limit`` seconds."""
    future = executor.submit(partial(fn, *args, **kwargs))
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), limit)
    except TimeoutError:
        # wait_for cancelled the wrapper, which cancels the work if it had not begun.
        if future.cancelled() or future.cancel():
            raise Busy(f"the node's pool did not take the work within {limit:g} s") from None
        raise WaitExpired(
            f"the work did not finish within the node's wait limit of {limit:g} s"
        ) from None
