"""Folding a ticket's events into its state, the same on every node.

Events reach a node in any order (a county offline for a week, a batch replayed). The fold
therefore never depends on arrival: it drops exact duplicates (same event id), puts the events
held into one order that every node computes alike from the events' own content
(``fold_order``), and applies them one by one. An event that does not fit the state at its
place is a signed fact all the same: it is recorded as a conflict on the ticket, visible to
supervisors, and the rest of the fold goes on. Fitting means both that the state allows it
(``step_checks.why_not``) and that the recording unit had the authority for it at that point
(``authority.why_unit_may_not``). Every distinct event, applied or kept as a conflict, adds
exactly one to ``TicketState.version``; nothing signed is dropped.

The order: causes first, then the higher authority (DESIGN.md rule 2)
-------------------------------------------------------------------------
1. **An event goes after every event it may have seen.** ``ticket_version`` is how many of
   the ticket's events its recorder held, and a node's hybrid logical clock moves past every
   event it receives; so event ``b`` may have been recorded after seeing ``a`` only if
   ``a.ticket_version < b.ticket_version`` *and* ``a.hlc < b.hlc``. Then ``a`` goes first.
2. **Events neither of which can have seen the other are concurrent**: two offline nodes
   acting on the same version of the ticket, or any pair where version and clock disagree.
   Among them the fold puts first the event recorded by the **higher level** (national,
   province, city, county, station; the level is read off the recording officer's unit code,
   which the receiver checks against the signer's unit), then the **earlier clock**, then
   the **smaller origin node id** (then origin sequence and event id, so no two events tie:
   ``precedence``).

Concretely the fold repeatedly applies, of the events whose possible causes (1) are all
applied, the first by (2): a topological order of (1) with (2) as the priority. A concurrent
step applied later that no longer fits (the county's offline acceptance of a ticket the
province re-routed meanwhile) becomes the conflict that puts the ticket *in conflict*.

Why both clocks, and not simply "version, then level, then clock": the version alone misses
concurrency (a province re-route stamped at version 5 while a county, offline since version
4, refuses the complaint: the refusal has the smaller version, but its later clock proves the
province never saw it, so the province's step must win); and a node holding only part of a
ticket's history (downward replication is filtered) counts fewer events than the events it
has seen, so its step can carry a smaller version than its cause. The clock orders that pair,
and the causes a child receives come from above it, so they also win on level.

Incremental folding: ``sorts_last`` says when ``evolve(state, e)`` equals refolding with
``e`` (a fresh step of the node itself, stamped with ``next_ticket_version`` and a new clock).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from itertools import pairwise

from core.ticket.authority import why_unit_may_not
from core.ticket.events import RecordedEvent, event_name
from core.ticket.lifecycle import apply, copy_with, folded_one_more
from core.ticket.state import Conflict, TicketState
from core.ticket.step_checks import why_not
from core.units import level_of


def precedence(recorded: RecordedEvent) -> tuple[int, int, str, int, str]:
    """Which of two concurrent events the fold applies first (the smaller key).

    The higher level of the recording unit (national first), then the earlier hybrid logical
    clock, then the smaller origin node id; origin sequence and event id make it total.
    """
    meta = recorded.meta
    rank = level_of(meta.officer.unit_code).rank
    return (rank, meta.hlc, meta.origin_node, meta.origin_seq, meta.event_id)


def may_have_seen(later: RecordedEvent, earlier: RecordedEvent) -> bool:
    """True when ``later`` may have been recorded by a node that held ``earlier``.

    Both its ticket version and its clock are above those of ``earlier``; otherwise the two
    are concurrent and ``precedence`` decides.
    """
    return (
        earlier.meta.ticket_version < later.meta.ticket_version
        and earlier.meta.hlc < later.meta.hlc
    )


def fold_order(events: Iterable[RecordedEvent]) -> list[RecordedEvent]:
    """The distinct events in the order the fold applies them (see the module docstring).

    Computed only from the events' content, so every node holding the same events gets the
    same order, whatever order they arrived in and however often.
    """
    unique = list({e.meta.event_id: e for e in events}.values())
    # The usual case: one node after another, each having seen all before it. Version and
    # clock then both increase along one chain and that chain is the only order there is.
    chain = sorted(unique, key=lambda e: (e.meta.ticket_version, e.meta.hlc))
    if all(may_have_seen(b, a) for a, b in pairwise(chain)):
        return chain
    return _by_cause_then_precedence(unique)


def _by_cause_then_precedence(events: list[RecordedEvent]) -> list[RecordedEvent]:
    """Kahn's topological sort of "may have seen", taking the best ``precedence`` first."""
    ranked = sorted(events, key=precedence)
    clocks = [(e.meta.ticket_version, e.meta.hlc) for e in ranked]
    waiting = [0] * len(ranked)
    followers: list[list[int]] = [[] for _ in ranked]
    for i, (version_i, hlc_i) in enumerate(clocks):
        for j, (version_j, hlc_j) in enumerate(clocks):
            if version_i < version_j and hlc_i < hlc_j:
                followers[i].append(j)
                waiting[j] += 1
    ready = [i for i, n in enumerate(waiting) if n == 0]  # ascending: already a heap
    order: list[RecordedEvent] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(ranked[i])
        for j in followers[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    return order


def evolve(state: TicketState, recorded: RecordedEvent) -> TicketState:
    """The state after one more event in fold order; a misfit becomes a conflict."""
    officer, event = recorded.meta.officer, recorded.event
    reason = why_not(state, officer, event) or why_unit_may_not(state, officer, event)
    if reason is None:
        return apply(state, recorded.meta, recorded.event)
    conflict = Conflict(
        event_id=recorded.meta.event_id,
        event_type=event_name(recorded.event),
        origin_node=recorded.meta.origin_node,
        reason=reason,
    )
    changes = folded_one_more(state, recorded.meta)
    changes["conflicts"] = (*state.conflicts, conflict)
    return copy_with(state, changes)


def fold(ticket_id: str, events: Iterable[RecordedEvent]) -> TicketState:
    """The state of ``ticket_id`` given all its events held here, in whatever order."""
    state = TicketState(ticket_id=ticket_id)
    for recorded in fold_order(events):
        state = evolve(state, recorded)
    return state


def sorts_last(state: TicketState, recorded: RecordedEvent) -> bool:
    """True when ``recorded`` goes after every event folded into ``state``.

    Then ``evolve(state, recorded)`` is exactly the fold of those events plus ``recorded``,
    and a writer may evolve instead of refolding. It is so when ``recorded`` may have seen
    every one of them (ticket version above the highest folded, clock above ``last_hlc``):
    it follows each of them by rule (1) and moves none of them. A fresh step of the node
    itself, stamped with ``next_ticket_version(state)`` and a newly ticked clock, always
    passes. False means "refold": also when ``state`` did not come from ``fold``/``evolve``
    (``highest_ticket_version`` unknown). ``recorded`` must not already be folded into
    ``state``.
    """
    highest = state.highest_ticket_version
    if highest is None:
        return False
    return recorded.meta.ticket_version > highest and recorded.meta.hlc > state.last_hlc


def next_ticket_version(state: TicketState) -> int:
    """The ``ticket_version`` to stamp on a step recorded on top of ``state``.

    The number of events folded (what ``EventMeta.ticket_version`` means), raised above the
    highest version among them when the node holds only part of the ticket's history: a
    child can hold an event stamped at version 9 among only 5 events. Stamped so, a step
    always sorts after everything its node held, by version as well as by clock.
    """
    highest = state.highest_ticket_version
    return state.version if highest is None else max(state.version, highest + 1)
