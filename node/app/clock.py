"""Clocks a node can run on: the real one, or a drill clock that runs fast from a chosen instant.

Nothing in ``core`` reads the clock (DESIGN.md rule 6); the node holds one of these and passes
the time in. A drill or a test runs a node with ``speed`` above 1 (a month of deadlines in
seconds), from a chosen drill instant (``start``: the drill "begins" on 2026-12-01 10:00 China
time), or with a fixed ``offset``.

Every node of a drill must see the same time, or a county would escalate a ticket its city
still thinks is days from due. A clock that starts counting when its process starts cannot
give that: at 100,000x, nodes started one real second apart disagree by more than a day. So a
drill clock is anchored at a real instant that all nodes are given (``anchor``, epoch
seconds) rather than at each process's start::

    drill time = start + offset + max(0, real - anchor) * speed

Any node started with the same ``start``, ``anchor`` and ``speed`` computes the same drill time
whenever it starts, and a node restarted mid-drill picks the drill up where the others are.
Before the anchor the drill clock stands still at ``start``: ops (or a test) can pick an anchor
a little in the future, bring every node up, and the drill begins for all of them at once.
Without ``start`` and ``anchor`` the clock is the old per-process one: it runs ``speed`` times
as fast from the moment it is made, ``offset`` seconds ahead of real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from node.app.settings import InvalidSetting

if TYPE_CHECKING:
    from node.app.settings import NodeSettings


@dataclass
class Clock:
    """Time as this node sees it: ``start + offset + max(0, real - anchor) * speed``."""

    speed: float = 1.0
    """How many seconds of node time pass per real second."""
    offset_seconds: float = 0.0
    """A fixed shift added to every reading."""
    _real: Callable[[], float] = field(default=time.time, repr=False)
    """The real clock (epoch seconds); tests pass a hand-moved one."""
    start: float | None = None
    """Node time (epoch seconds) at the anchor; None: the anchor's own real instant."""
    anchor: float | None = None
    """Real instant (epoch seconds) the clock runs from; None: when the clock is made."""

    def __post_init__(self) -> None:
        if not self.speed > 0:  # also refuses NaN
            raise InvalidSetting("clock_speed", "must be positive")
        if self.anchor is None:
            self.anchor = self._real()

    @classmethod
    def from_settings(
        cls, settings: NodeSettings, *, real: Callable[[], float] = time.time
    ) -> Clock:
        """The clock a node's settings ask for: real, fast, offset, or a shared drill clock.

        ``clock_start`` and ``clock_anchor`` (0: the node's start) make the drill clock every
        node of a drill shares; ``NodeSettings.check`` has already refused values that cannot
        work, naming the setting. ``real`` is the real clock (tests pin it).
        """
        start = settings.drill_start
        return cls(
            speed=settings.clock_speed,
            offset_seconds=settings.clock_offset,
            _real=real,
            start=start.timestamp() if start is not None else None,
            anchor=settings.clock_anchor or None,
        )

    def timestamp(self) -> float:
        """Seconds since the epoch on this node's clock."""
        anchor = self.anchor if self.anchor is not None else 0.0  # set in __post_init__
        base = self.start if self.start is not None else anchor
        # Before the anchor a drill has not begun: its clock stands at ``start``.
        elapsed = max(0.0, self._real() - anchor)
        return base + self.offset_seconds + elapsed * self.speed

    def now(self) -> datetime:
        """The current time on this node's clock, in UTC."""
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def wall_ms(self) -> int:
        """Milliseconds since the epoch on this node's clock (for the hybrid clock)."""
        return int(self.timestamp() * 1000)
