"""One bounded wait for the whole suite: ask a condition until it holds or a deadline passes.

A test that sleeps a fixed time and then asserts that something happened fails on a machine
busy enough to make that something late (other tests running in parallel, a loaded CI runner),
and wastes the rest of the sleep on an idle one. Asking again and again until the condition
holds is as fast as the machine allows; the deadline is generous, for a busy machine, and when
it passes the failure says what was awaited and the last error seen.

Checks that *nothing* happens within some time stay plain sleeps in the tests, each saying
why its margin suffices.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from node.edge.client import CallError

EVERY = 0.1
"""Seconds between two checks: short next to any deadline used, cheap next to a call."""


def wait_until(
    what: str,
    check: Callable[[], bool],
    *,
    timeout: float | None = None,
    until: float | None = None,
    every: float = EVERY,
    retry_on: tuple[type[Exception], ...] = (CallError,),
) -> float:
    """Ask ``check`` every ``every`` seconds until it returns True; returns the seconds waited.

    Fails with an ``AssertionError`` naming ``what`` after ``timeout`` seconds, or at the wall
    clock instant ``until`` (epoch seconds, for waits tied to a drill clock's real instants);
    one of the two must be given. A ``check`` that raises one of ``retry_on`` (by default a
    call to a node that is busy, starting or between connections) is asked again.
    """
    if (timeout is None) == (until is None):
        raise ValueError("give exactly one of timeout= and until=")
    started = time.monotonic()
    last_error: Exception | None = None
    while True:
        try:
            if check():
                return time.monotonic() - started
            last_error = None
        except retry_on as exc:
            last_error = exc
        if _past(started, timeout, until):
            waited = time.monotonic() - started
            detail = f" (last error: {last_error})" if last_error is not None else ""
            raise AssertionError(f"waited {waited:.1f}s in vain until {what}{detail}")
        time.sleep(every)


def _past(started: float, timeout: float | None, until: float | None) -> bool:
    """True once ``timeout`` seconds have gone by since ``started`` (monotonic), or the wall
    clock is past ``until``."""
    if timeout is not None:
        return time.monotonic() - started > timeout
    return until is not None and time.time() > until
