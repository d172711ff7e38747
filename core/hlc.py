"""Hybrid logical clock: one integer per event that orders causes before their effects.

Nodes work offline with clocks that drift, so wall time alone cannot order one ticket's events.
A hybrid logical clock value is wall-clock milliseconds shifted left by 16 bits plus a counter;
every event a node records gets a value above everything that node has recorded or received.
So an event recorded after another was seen sorts after it, and values stay close to real time.
The functions are pure: the node keeps the last value and passes the wall time in.
"""

from __future__ import annotations

from datetime import UTC, datetime

LOGICAL_BITS = 16


def from_millis(wall_ms: int) -> int:
    """The smallest clock value at wall time ``wall_ms``."""
    return wall_ms << LOGICAL_BITS


def to_millis(hlc: int) -> int:
    """The wall-clock milliseconds part of a clock value."""
    return hlc >> LOGICAL_BITS


def to_datetime(hlc: int) -> datetime:
    """The wall-clock time of a clock value, in UTC."""
    return datetime.fromtimestamp(to_millis(hlc) / 1000, tz=UTC)


def tick(last: int, wall_ms: int) -> int:
    """The value for a new local event: above ``last`` and no earlier than the wall clock."""
    return max(last + 1, from_millis(wall_ms))


def observe(last: int, received: int, wall_ms: int) -> int:
    """The node's clock after receiving an event stamped ``received``."""
    return max(last, received + 1, from_millis(wall_ms))
