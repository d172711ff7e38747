"""After a surge: is every acknowledged ticket at the province and at its holder, once?

Why this exists: a hub that answers fast but loses or doubles a ticket under load has failed
the surge, whatever its latencies. A call-taker's acknowledgement (the ticket id the node
answered) is a promise to the caller, so after the run each acknowledged ticket must be held
by the province (where it was registered) and, once replication has caught up, by the unit
that holds it; no ticket may be listed twice on a node, nor one ticket id be answered for two
calls. This module is the pure comparison; ``loadtest.surge`` gathers the listings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Listing:
    """The tickets one node lists: each ticket id with the unit holding it, in listing order
    (a ticket listed twice appears twice)."""

    unit: str
    tickets: tuple[tuple[str, str], ...]


@dataclass
class Audit:
    """What the comparison found: lost, duplicated and not yet caught-up tickets."""

    acknowledged: int = 0
    lost_at_province: list[str] = field(default_factory=list)
    missing_at_holder: list[str] = field(default_factory=list)
    """At the province but not (yet) at the unit holding it: replication has not caught up."""
    duplicated: list[str] = field(default_factory=list)
    """Answered for two calls, or listed twice on one node (``unit:ticket``)."""
    holders_outside: int = 0
    """Held by a unit whose node is not part of the run (only the province is checked)."""

    @property
    def intact(self) -> bool:
        """Nothing lost, nothing duplicated (catch-up aside)."""
        return not self.lost_at_province and not self.duplicated

    @property
    def caught_up(self) -> bool:
        """Every holder has its tickets."""
        return not self.missing_at_holder


def audit(acknowledged: Iterable[str], province: Listing, others: Mapping[str, Listing]) -> Audit:
    """Compare the acknowledged ticket ids with the province's listing and those of the other
    nodes (by unit)."""
    acks = list(acknowledged)
    result = Audit(acknowledged=len(set(acks)))
    result.duplicated += sorted(t for t, n in Counter(acks).items() if n > 1)
    for listing in (province, *others.values()):
        counts = Counter(t for t, _ in listing.tickets)
        result.duplicated += sorted(f"{listing.unit}:{t}" for t, n in counts.items() if n > 1)
    holder_of = dict(province.tickets)
    held = {unit: {t for t, _ in listing.tickets} for unit, listing in others.items()}
    for ticket_id in sorted(set(acks)):
        holder = holder_of.get(ticket_id)
        if holder is None:
            result.lost_at_province.append(ticket_id)
        elif holder == province.unit:
            continue
        elif holder not in held:
            result.holders_outside += 1
        elif ticket_id not in held[holder]:
            result.missing_at_holder.append(ticket_id)
    return result
