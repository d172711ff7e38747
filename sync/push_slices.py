"""A pushed batch cut into slices, each taken in by one writer job of bounded length.

Why this exists: a child pushes its backlog in batches of up to 500 events (``--sync-batch``),
and a batch taken in as one writer job held the parent's one writer for as long as its
events took to check against the chains, fold and project: 50 to 180 ms for 200 events on a
busy two-core machine (docs/storm.md). A registration at the parent's own desk offered
meanwhile waited for all of it. Cut into slices of ``SLICE_EVENTS``, each slice is its own
writer job, all or nothing, queued on the writer's replication lane (``sync.writer.lanes``),
so the desk waits for one slice at most.

Chains stay whole: the slices of a batch are queued in order and the lane keeps that order,
so each slice continues the chains where the one before left them. Should a slice fail, the
events after it in its origins' chains are refused as gaps (not stored), and the child sends
them again from the parent's heads, as after any failed push.

The seals of the batch's registrations (``sync.personal.shelf``) go with the slice that holds
the registration they were checked against; a seal of a registration held before, or of none,
goes with the last slice, after every event of the batch, as when the batch was one job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sync.ingest import CheckedEvent
from sync.personal.shelf import PreparedSeal

SLICE_EVENTS = 50
"""Events of a pushed batch taken in by one writer job: about 10 to 30 ms of the writer."""


@dataclass(frozen=True)
class Slice:
    """Consecutive events of a pushed batch, and the seals that go with them."""

    checked: list[CheckedEvent]
    seals: list[PreparedSeal]


def cut(
    checked: Sequence[CheckedEvent],
    seals: Sequence[PreparedSeal],
    size: int = SLICE_EVENTS,
) -> list[Slice]:
    """``checked`` in order, in slices of at most ``size`` events, each with its seals.

    A batch of no events still makes one (empty) slice when it brought seals, so that they
    are taken as before.
    """
    if size < 1:
        raise ValueError(f"a slice holds at least one event, not {size}")
    runs = [list(checked[i : i + size]) for i in range(0, len(checked), size)] or [[]]
    slice_of = {c.event.event_id: n for n, run in enumerate(runs) for c in run}
    by_slice: list[list[PreparedSeal]] = [[] for _ in runs]
    for seal in seals:
        by_slice[slice_of.get(seal.registration_event, len(runs) - 1)].append(seal)
    return [Slice(run, kept) for run, kept in zip(runs, by_slice, strict=True)]
