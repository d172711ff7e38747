"""Time that the test moves by hand, and China wall-clock times to move it to (DESIGN.md rule 6).

A node built with ``Clock(_real=HandMovedTime(...))`` reads the time the test last set, so a
month of deadlines takes a moment and each sweep sees exactly the instant the test chose.
"""

from __future__ import annotations

import datetime as dt

from core.deadlines.china_time import CHINA_TZ


class HandMovedTime:
    """Seconds since the epoch, as the test sets them."""

    def __init__(self, when: dt.datetime) -> None:
        self.now = when.timestamp()

    def set(self, when: dt.datetime) -> None:
        """Move the time to ``when`` (forwards or back)."""
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


def china(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A wall-clock time in China on ``day`` (ISO date); 09:00 unless told."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=CHINA_TZ)


def end_of(day: str) -> int:
    """The due instant of a duty due on ``day``: 24:00 China time, epoch milliseconds."""
    return int((china(day, 0) + dt.timedelta(days=1)).timestamp() * 1000)
