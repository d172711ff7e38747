"""The sliding window both counting rules share: enough items, of enough kinds, within a span.

A group complaint is at least N consumers against one business within a window of days; a
professional claimant at least N tickets against M businesses within one. Both ask the same
question of a sorted run of times with labels (``in_qualifying_windows``); windows are calendar
days of ``DAY_MS``, not working days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

DAY_MS = 86_400_000


def in_qualifying_windows(
    times: Sequence[int], labels: Sequence[str], window_ms: int, min_count: int, min_distinct: int
) -> set[int]:
    """Indices of items lying in some window ``[t, t + window_ms)`` that starts at an item and
    holds at least ``min_count`` items with at least ``min_distinct`` different labels.

    ``times`` must be sorted. Two pointers and a counter: linear in the number of items.
    """
    found: set[int] = set()
    seen: Counter[str] = Counter()
    end = 0
    marked_to = 0
    for start, begins in enumerate(times):
        while end < len(times) and times[end] < begins + window_ms:
            seen[labels[end]] += 1
            end += 1
        if end - start >= min_count and len(seen) >= min_distinct:
            found.update(range(max(start, marked_to), end))
            marked_to = max(marked_to, end)
        seen[labels[start]] -= 1
        if not seen[labels[start]]:
            del seen[labels[start]]
    return found
