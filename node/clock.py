"""Clocks a node can run on: the real one, or one that runs fast or from a fixed offset.

Nothing in ``core`` reads the clock (DESIGN.md rule 6); the node holds one of these and passes
the time in. A drill or a test runs a node with ``speed`` above 1 (a month of deadlines in
seconds) or with an ``offset`` (start the node "on" 2026-09-30).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from node.settings import NodeSettings


@dataclass
class Clock:
    """Time as this node sees it: ``start + offset + (real elapsed) * speed``."""

    speed: float = 1.0
    offset_seconds: float = 0.0
    _real: Callable[[], float] = field(default=time.time, repr=False)
    _anchor: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("clock speed must be positive")
        self._anchor = self._real()

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> Clock:
        """The clock a node's settings ask for (real, fast or offset)."""
        return cls(settings.clock_speed, settings.clock_offset)

    def timestamp(self) -> float:
        """Seconds since the epoch on this node's clock."""
        real = self._real()
        return self._anchor + self.offset_seconds + (real - self._anchor) * self.speed

    def now(self) -> datetime:
        """The current time on this node's clock, in UTC."""
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def wall_ms(self) -> int:
        """Milliseconds since the epoch on this node's clock (for the hybrid clock)."""
        return int(self.timestamp() * 1000)
