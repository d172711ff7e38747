"""The drill clock of the end-to-end deadline drills, as the nodes are given it and the test
sees it (docs/drills.md).

Every node process of a drill gets the same clock flags: the drill's start, its speed and a
real anchor instant. Until the anchor the clock stands at the start, so the nodes come up and
the test sets the scene at the start's instant however long that takes; from the anchor on it
runs ``speed`` times faster than real time. The test waits for drill instants with a margin
of real seconds (``late``) for a slow sweep or replication round on a busy machine.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.helpers.waiting import wait_until

DRILL_DAY_PER_SECOND = 86_400.0
"""The drills' speed: a drill day each real second."""


@dataclass(frozen=True)
class Drill:
    """The drill clock every node of the test is started with, and the test's view of it."""

    start: dt.datetime
    """The drill instant the clock stands at until the anchor, and runs from after it."""
    anchor: float
    """Real epoch seconds at which the drill clock starts running."""
    sweep_interval: float
    """Real seconds between a node's deadline sweeps."""
    late: float
    """Real seconds a wait may run past the drill instant it waits for."""
    speed: float = DRILL_DAY_PER_SECOND

    def node_args(self) -> tuple[str, ...]:
        """The flags each node gets: the same clock for all, and fast sweeps."""
        return (
            "--clock-speed", str(self.speed),
            "--clock-start", self.start.isoformat(),
            "--clock-anchor", repr(self.anchor),
            "--sweep-interval", str(self.sweep_interval),
        )  # fmt: skip

    def real_at(self, when: dt.datetime) -> float:
        """The real instant at which the drill clock shows ``when``."""
        return self.anchor + (when - self.start).total_seconds() / self.speed

    def wait_for(self, what: str, check: Callable[[], bool], by: dt.datetime) -> None:
        """Poll ``check`` until it holds; fail if it does not by drill time ``by`` (+ late)."""
        wait_until(
            f"{what} (by {by:%Y-%m-%d %H:%M} drill time)",
            check,
            until=self.real_at(by) + self.late,
        )

    def sleep_until(self, when: dt.datetime) -> None:
        """Let the drill clock reach ``when``."""
        time.sleep(max(0.0, self.real_at(when) - time.time()))
