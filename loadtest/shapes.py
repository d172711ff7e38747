"""Surge shapes: how many callers are on the lines, second by second, in a load test run.

Why this exists: a hub that holds a flat load can still fall over when 3·15 (World Consumer
Rights Day, 三·一五) brings ten times the calls within a minute, or an epidemic (medicines,
masks) keeps about twenty times the calls up for days. A load test must replay those shapes,
not a constant rate, and must fit in a minute or two on one machine: each shape is written
as fractions of the peak over a run of length 1, then scaled to ``minutes`` and ``peak_users``.

``users_at`` is a pure function (no clock, no Locust: importing Locust patches the process for
gevent, which the process starting the nodes must not be). ``loadtest.locust_users.SurgeShape``
is the Locust ``LoadTestShape`` that asks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One stretch of a shape: from ``start`` to ``end`` (fractions of the run) the share of
    the peak goes linearly from ``share_from`` to ``share_to``."""

    start: float
    end: float
    share_from: float
    share_to: float


SHAPES: dict[str, tuple[Stage, ...]] = {
    # A normal day: a morning and an afternoon hump, never more than a fifth of the 3·15 peak
    # (so that the same --users compares a normal day to a surge).
    "normal": (
        Stage(0.00, 0.30, 0.05, 0.10),
        Stage(0.30, 0.50, 0.10, 0.06),
        Stage(0.50, 0.80, 0.06, 0.10),
        Stage(0.80, 1.00, 0.10, 0.05),
    ),
    # 3·15: baseline, ten times within "a minute" (a tenth of the run), plateau, decay.
    "315": (
        Stage(0.00, 0.20, 0.10, 0.10),
        Stage(0.20, 0.30, 0.10, 1.00),
        Stage(0.30, 0.75, 1.00, 1.00),
        Stage(0.75, 1.00, 1.00, 0.20),
    ),
    # An epidemic: about twenty times the baseline, reached quickly and sustained to the end.
    "epidemic": (
        Stage(0.00, 0.15, 0.05, 0.05),
        Stage(0.15, 0.30, 0.05, 1.00),
        Stage(0.30, 1.00, 1.00, 1.00),
    ),
}
"""Every shape by its name, as fractions of the peak over a run of length 1."""


def share_at(shape: str, fraction: float) -> float | None:
    """The share of the peak wanted at ``fraction`` of the run; ``None`` once it is over."""
    stages = SHAPES[shape]
    if fraction < 0 or fraction >= 1:
        return None
    for stage in stages:
        if stage.start <= fraction < stage.end:
            along = (fraction - stage.start) / (stage.end - stage.start)
            return stage.share_from + (stage.share_to - stage.share_from) * along
    return None


def users_at(
    shape: str, elapsed_s: float, *, peak_users: int, minutes: float, always_on: int = 0
) -> tuple[int, float] | None:
    """The users wanted ``elapsed_s`` into a run and the spawn rate to reach them; ``None``
    when the run is over (Locust then stops it). ``always_on`` users (the dispatcher and the
    casework officers, whose number does not follow the calls) come on top of the shape; at
    least one user follows the shape at any time."""
    share = share_at(shape, elapsed_s / (minutes * 60.0))
    if share is None:
        return None
    users = always_on + max(1, math.ceil(share * peak_users))
    return users, float(max(1, users))  # reach the wanted count within about a second
