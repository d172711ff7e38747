"""The events of a writer transaction and the ticket states they fold to, held until the flush.

One writer means one place that allocates the node's origin sequence, advances its hybrid
clock and chains hashes: ``EventBuffer.record`` does all three for the node's own steps, and
``store_received`` takes in events of other origins (already verified by ``sync.ingest``).
Every read here counts what the transaction has buffered so far, so a job sees the effects of
the jobs before it, and every change has its entry in the undo journal (``WriteBuffer``).

States are folded in memory from what was committed (read once per ticket, ``prefetch``) and
what this transaction added. Committed events a revocation stopped counting (``rejudge``)
are left out of every fold from then on; the flush writes their new verdict. A ticket whose
committed state the writer kept from an earlier transaction (``sync.writer.committed``) is
not read and folded again when the ids of its counted events are still exactly those it was
folded from; after the commit, the states this transaction folded are kept in turn
(``keep_committed``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy import Connection, bindparam, select

from core import hlc as hybrid_clock
from core.officers import OfficerRef
from core.ticket.events import DomainEvent, RecordedEvent
from core.ticket.fold import evolve, fold, next_ticket_version, sorts_last
from core.ticket.state import TicketState
from sync import schema
from sync.envelope import GENESIS_HASH, SealedEvent, seal
from sync.identity import NodeIdentity
from sync.log_store import HLC_STATE, EventLog, Head
from sync.read_ahead import ReadAhead
from sync.statements import DriverQuery
from sync.writer.buffer import WriteBuffer
from sync.writer.committed import CommittedStates

_OWN_HEAD = DriverQuery(
    select(schema.origin_heads.c.seq, schema.origin_heads.c.hash)
    .where(schema.origin_heads.c.origin_node == bindparam("origin_node"))
    .with_for_update()
)
_HLC_VALUE = DriverQuery(
    select(schema.node_state.c.value).where(schema.node_state.c.name == bindparam("name"))
)


class EventBuffer(WriteBuffer):
    """The log as one writer transaction sees it: what was committed plus what it added."""

    def __init__(
        self,
        conn: Connection,
        identity: NodeIdentity,
        wall_ms: Callable[[], int],
        committed: CommittedStates | None = None,
    ) -> None:
        super().__init__()
        self.conn = conn
        """The transaction's connection, for reads: every write goes through the batch."""
        self.log = EventLog(conn)
        """Reads of what was committed before this batch (write through the batch instead)."""
        self.identity = identity
        self._wall_ms = wall_ms
        # Locking the node's own head row serialises writers across processes (several hub
        # processes on one PostgreSQL database) for the whole transaction.
        own = _OWN_HEAD.first(conn, origin_node=identity.node_id)
        self._heads: dict[str, Head] = {
            identity.node_id: Head(identity.node_id, identity.unit_code, own[0], own[1])
            if own
            else Head(identity.node_id, identity.unit_code, 0, GENESIS_HASH)
        }
        self._dirty_heads: set[str] = set()
        clock = _HLC_VALUE.first(conn, name=HLC_STATE)
        self._hlc = int(clock[0]) if clock else 0
        self._hlc_at_start = self._hlc
        self._events: dict[str, tuple[SealedEvent, str, str]] = {}
        self._held: dict[str, list[SealedEvent]] = {}
        """Counted events of a ticket committed before this batch (a read cache)."""
        self._committed = committed
        """States the writer kept from its earlier transactions (None: it keeps none)."""
        self._held_ids: dict[str, frozenset[str]] = {}
        """Ids of the counted events of a ticket committed before this batch, read with them
        or checked against a kept state (a read cache, like ``_held``)."""
        self._kept: dict[str, TicketState] = {}
        """Kept states found to fold exactly what is committed now (a read cache)."""
        self._chain_index: dict[tuple[str, int], SealedEvent] = {}
        self._ticket_events: dict[str, list[SealedEvent]] = defaultdict(list)
        self._states: dict[str, TicketState] = {}
        self._before: dict[str, TicketState] = {}
        """Fold of the events committed before this batch (``state_before``)."""
        self._rejudged: dict[str, str] = {}
        """Committed events that no longer count, by event id, with their new verdict."""
        self._held_changed: set[str] = set()
        """Tickets whose committed events this batch re-judged (``rejudge``): what they fold
        to now is not what the views were written from."""
        self._touched: dict[str, None] = {}
        self._read_ahead: dict[str, tuple[SealedEvent, ReadAhead]] = {}
        """Received events as the verifying worker decoded them, by event id, with the event
        they were read from (a cache of facts about those signed bytes: it needs no undo, and
        is used only for that very event, ``_ahead_of``)."""
        self._folded_ahead: dict[str, ReadAhead] = {}
        """Tickets last folded from a read-ahead (``_folded_alone``), with it (a cache)."""
        self.views: dict[str, bytes] = {}
        """Encoded ``hotline.v1.Ticket`` of every ticket this batch changed, filled at the
        flush: a job may return this very dict and its caller read it once the job is done."""

    def _set_state(self, ticket_id: str, state: TicketState | None) -> None:
        old = self._states.get(ticket_id)
        had = ticket_id in self._states
        if state is None:
            self._states.pop(ticket_id, None)
        else:
            self._states[ticket_id] = state
        self._journal.append((EventBuffer._restore_state, self, ticket_id, had, old))

    def _restore_state(self, ticket_id: str, had: bool, old: TicketState | None) -> None:
        if had:
            self._states[ticket_id] = old  # type: ignore[assignment]
        else:
            self._states.pop(ticket_id, None)

    # -- time and the node's own chain -------------------------------------------------------

    def now_ms(self) -> int:
        """Wall-clock milliseconds from the node's clock."""
        return self._wall_ms()

    def next_seq(self) -> int:
        """The sequence number the next event this node records will get."""
        return self._heads[self.identity.node_id].seq + 1

    def _set_hlc(self, value: int) -> None:
        self._journal.append((EventBuffer._restore_hlc, self, self._hlc))
        self._hlc = value

    def _restore_hlc(self, old: int) -> None:
        self._hlc = old

    # -- reads that see this batch's own writes ----------------------------------------------

    def head(self, origin_node: str) -> Head | None:
        """How far ``origin_node``'s chain is held, counting this batch."""
        if origin_node not in self._heads:
            found = self.log.head(origin_node)
            if found is None:
                return None
            self._heads[origin_node] = found
        return self._heads[origin_node]

    def known_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` are held, counting this batch."""
        ids = list(event_ids)
        found = {i for i in ids if i in self._events}
        found |= self.log.known_ids(i for i in ids if i not in found)
        return found

    def event_at(self, origin_node: str, seq: int) -> SealedEvent | None:
        """The event at ``seq`` in ``origin_node``'s chain, counting this batch."""
        return self._chain_index.get((origin_node, seq)) or self.log.event_at(origin_node, seq)

    def prefetch(self, ticket_ids: Iterable[str]) -> None:
        """Read the held events of many tickets at once (one query per 500, not one each).

        A ticket with a kept state whose counted events are still exactly those it folded
        needs only their ids read (one query for all such tickets), not the events."""
        wanted = [
            t for t in dict.fromkeys(ticket_ids) if t not in self._held and t not in self._kept
        ]
        if self._committed is not None and wanted and not self._rejudged:
            kept = self._committed.held(wanted)
            if kept:
                stored = self.log.event_ids_of_tickets(list(kept))
                for ticket_id, one in kept.items():
                    if stored.get(ticket_id, frozenset()) == one.events:
                        self._kept[ticket_id] = one.state
                        self._held_ids[ticket_id] = one.events
                wanted = [t for t in wanted if t not in self._kept]
        self._read_held(wanted)

    def _read_held(self, ticket_ids: Sequence[str]) -> None:
        for start in range(0, len(ticket_ids), 500):
            chunk = ticket_ids[start : start + 500]
            found = self.log.events_of_tickets(chunk)
            for ticket_id in chunk:
                held = found.get(ticket_id, [])
                self._held[ticket_id] = held
                self._held_ids[ticket_id] = frozenset(e.event_id for e in held)

    def state_of(self, ticket_id: str) -> TicketState:
        """The ticket's state including everything written earlier in this batch."""
        state = self._states.get(ticket_id)
        if state is None:
            mine = self._ticket_events.get(ticket_id)
            state = self._kept_state(ticket_id, mine)
            if state is None:
                state = self._fold(ticket_id, mine)
            self._states[ticket_id] = state  # a cache: needs no undo
            if not mine and ticket_id not in self._held_changed:
                # What was committed: the state the views were last written from (a cache of
                # a fact about the past, so it needs no undo either).
                self._before.setdefault(ticket_id, state)
        return state

    def _fold(self, ticket_id: str, mine: list[SealedEvent] | None) -> TicketState:
        """Fold what was committed (read now if it was not yet) and what this batch added."""
        if ticket_id not in self._held:
            self._read_held([ticket_id])
        held = self._held[ticket_id]
        if self._rejudged:
            held = [e for e in held if e.event_id not in self._rejudged]
        state = self._folded_alone(held, mine)
        if state is not None:
            return state
        recorded = [e.recorded() for e in held]
        if mine:
            recorded += [self._recorded(e) for e in mine]
        return fold(ticket_id, recorded)

    def _kept_state(self, ticket_id: str, mine: list[SealedEvent] | None) -> TicketState | None:
        """The kept state of what was committed, when it is all there is to the ticket now
        (nothing added or stopped counting in this batch)."""
        if mine or ticket_id in self._held_changed:
            return None
        if ticket_id not in self._kept:
            if self._committed is None or ticket_id in self._held:
                return None
            self.prefetch([ticket_id])
        state = self._kept.get(ticket_id)
        if state is None:
            return None
        if self._rejudged and not self._held_ids[ticket_id].isdisjoint(self._rejudged):
            return None
        return state

    def keep_committed(self) -> None:
        """Hand the writer's cache the state of every ticket this batch folded, with the ids
        of the counted events it folds; only once the batch has committed."""
        if self._committed is None:
            return
        for ticket_id, state in self._states.items():
            held = self._held_ids.get(ticket_id)
            if held is None:  # folded from a state a job brought: its events are not known
                continue
            if self._rejudged:
                held = held.difference(self._rejudged)
            mine = self._ticket_events.get(ticket_id)
            events = held.union(e.event_id for e in mine) if mine else held
            self._committed.keep(ticket_id, events, state)

    def forget_committed(self) -> None:
        """Empty the writer's cache: this batch's transaction failed."""
        if self._committed is not None:
            self._committed.clear()

    def _folded_alone(
        self, held: list[SealedEvent], mine: list[SealedEvent] | None
    ) -> TicketState | None:
        """The worker's fold of a ticket's one event, when that one event is all there is to
        fold (nothing committed, one event in this batch): exactly what ``fold`` would give."""
        if held or not mine or len(mine) != 1:
            return None
        ahead = self._ahead_of(mine[0])
        if ahead is None or ahead.alone is None:
            return None
        self._folded_ahead[mine[0].ticket_id] = ahead
        return ahead.alone

    def _recorded(self, event: SealedEvent) -> RecordedEvent:
        """``event.recorded()``, from the worker's decoding where it has one."""
        ahead = self._ahead_of(event)
        if ahead is None or ahead.event is None:
            return event.recorded()
        return RecordedEvent(event.meta(), ahead.event)

    def _ahead_of(self, event: SealedEvent) -> ReadAhead | None:
        """The worker's read-ahead of this very event (not of another with its id, such as a
        fork stored by a job that was undone)."""
        found = self._read_ahead.get(event.event_id)
        return found[1] if found is not None and found[0] is event else None

    def state_before(self, ticket_id: str) -> TicketState | None:
        """The ticket's state as committed before this batch, if this batch folded it.

        The views (the projection's tables) were written from exactly this state, so a view
        row that depends only on what is unchanged since need not be written again.
        """
        return self._before.get(ticket_id)

    # -- writes ------------------------------------------------------------------------------

    def _buffer_event(self, event: SealedEvent, received_from: str, verdict: str = "") -> None:
        self._events[event.event_id] = (event, received_from, verdict)
        self._chain_index[(event.origin_node, event.origin_seq)] = event
        if verdict:
            self._journal.append((EventBuffer._unbuffer_event, self, event, None))
            return
        self._ticket_events[event.ticket_id].append(event)
        touched = event.ticket_id in self._touched
        self._touched[event.ticket_id] = None
        self._journal.append((EventBuffer._unbuffer_event, self, event, touched))

    def _unbuffer_event(self, event: SealedEvent, touched: bool | None) -> None:
        """Undo ``_buffer_event``; ``touched`` is None for evidence (it touched no ticket)."""
        del self._events[event.event_id]
        del self._chain_index[(event.origin_node, event.origin_seq)]
        if touched is None:
            return
        self._ticket_events[event.ticket_id].remove(event)
        if not touched:
            del self._touched[event.ticket_id]

    def set_head(self, head: Head) -> None:
        """Record how far a chain is now held."""
        old = self._heads.get(head.origin_node)
        was_dirty = head.origin_node in self._dirty_heads
        self._heads[head.origin_node] = head
        self._dirty_heads.add(head.origin_node)
        self._journal.append((EventBuffer._restore_head, self, head.origin_node, old, was_dirty))

    def _restore_head(self, origin_node: str, old: Head | None, was_dirty: bool) -> None:
        if old is None:
            self._heads.pop(origin_node, None)
        else:
            self._heads[origin_node] = old
        if not was_dirty:
            self._dirty_heads.discard(origin_node)

    def record(
        self,
        ticket_id: str,
        events: Sequence[DomainEvent],
        officer: OfficerRef,
        *,
        state: TicketState | None = None,
    ) -> list[SealedEvent]:
        """Seal this node's new events for one ticket and append them to its chain."""
        current = state if state is not None else self.state_of(ticket_id)
        sealed: list[SealedEvent] = []
        own = self.identity.node_id
        for event in events:
            self._set_hlc(hybrid_clock.tick(self._hlc, self._wall_ms()))
            head = self._heads[own]
            one = seal(
                self.identity,
                event_id=uuid.uuid4().hex,
                seq=head.seq + 1,
                prev_hash=head.hash,
                ticket_id=ticket_id,
                event=event,
                hlc=self._hlc,
                officer=officer,
                ticket_version=next_ticket_version(current),
            )
            self.set_head(Head(head.origin_node, head.origin_unit, one.origin_seq, one.hash))
            self._buffer_event(one, "")
            recorded = RecordedEvent(one.meta(), event)
            # A fresh step has seen everything held, so it nearly always folds last: evolve.
            if sorts_last(current, recorded):
                current = evolve(current, recorded)
            else:
                self._set_state(ticket_id, None)
                current = self.state_of(ticket_id)
            sealed.append(one)
        self._set_state(ticket_id, current)
        return sealed

    def store_received(
        self,
        events: Sequence[SealedEvent],
        peer: str,
        read_ahead: Mapping[str, ReadAhead] | None = None,
    ) -> None:
        """Append events received from ``peer`` (already verified) and observe their clocks.

        ``read_ahead``: what the verifying worker decoded of them, by event id
        (``sync.read_ahead``), which the folds use instead of decoding again.
        """
        if not events:
            return
        for event in events:
            self._buffer_event(event, peer)
            self._set_state(event.ticket_id, None)
            if read_ahead is not None and (ahead := read_ahead.get(event.event_id)) is not None:
                self._read_ahead[event.event_id] = (event, ahead)
        self._set_hlc(hybrid_clock.observe(self._hlc, max(e.hlc for e in events), self._wall_ms()))

    def store_evidence(self, event: SealedEvent, peer: str, verdict: str) -> None:
        """Keep a received event that links its chain but does not count, with the reason.

        Its place in its origin's chain is taken (so the chain goes on), but no ticket is
        folded with it and no feed carries it.
        """
        self._buffer_event(event, peer, verdict or "refused")

    def demote(self, event: SealedEvent, verdict: str) -> None:
        """Turn an event stored in this batch into evidence (it turned out not to count)."""
        _, received_from, _ = self._events[event.event_id]
        self._events[event.event_id] = (event, received_from, verdict)
        self._ticket_events[event.ticket_id].remove(event)
        self._set_state(event.ticket_id, None)

        def undo() -> None:
            self._events[event.event_id] = (event, received_from, "")
            self._ticket_events[event.ticket_id].append(event)

        self._journal.append((undo,))

    def rejudge(self, committed: Mapping[str, str], verdict: str) -> set[str]:
        """Stop counting committed events (event id -> ticket id); returns their tickets.

        Only their ``verdict`` changes when the flush writes it (the signed rows stay as they
        were); from now on this transaction folds their tickets without them.
        """
        fresh = {e: t for e, t in committed.items() if e not in self._rejudged}
        tickets = set(fresh.values())
        touched = [t for t in tickets if t not in self._touched]
        changed = [t for t in tickets if t not in self._held_changed]
        before = {t: self._before.pop(t) for t in tickets if t in self._before}
        for event_id in fresh:
            self._rejudged[event_id] = verdict
        for ticket_id in touched:
            self._touched[ticket_id] = None
        self._held_changed.update(changed)
        self._journal.append(
            (EventBuffer._restore_judged, self, list(fresh), touched, changed, before)
        )
        for ticket_id in tickets:
            self._set_state(ticket_id, None)
        return tickets

    def _restore_judged(
        self,
        event_ids: list[str],
        touched: list[str],
        changed: list[str],
        before: dict[str, TicketState],
    ) -> None:
        for event_id in event_ids:
            del self._rejudged[event_id]
        for ticket_id in touched:
            del self._touched[ticket_id]
        self._held_changed.difference_update(changed)
        self._before.update(before)

    # -- what the flush writes ---------------------------------------------------------------

    def buffered_for(self, ticket_id: str) -> list[SealedEvent]:
        """The counted events of ``ticket_id`` this batch holds so far (none: an empty list)."""
        return list(self._ticket_events.get(ticket_id, ()))

    def buffered_events(self) -> list[tuple[SealedEvent, str, str]]:
        """This batch's events in the order buffered: (event, received from, verdict)."""
        return list(self._events.values())

    def rejudged(self) -> dict[str, str]:
        """Committed events this batch stopped counting, with their new verdicts."""
        return dict(self._rejudged)

    def changed_heads(self) -> list[Head]:
        """The chains this batch moved forward, by origin."""
        return [self._heads[o] for o in sorted(self._dirty_heads)]

    def clock_to_keep(self) -> int | None:
        """The hybrid clock to store, if this batch advanced it."""
        return self._hlc if self._hlc != self._hlc_at_start else None

    def read_committed(self) -> None:
        """Read the committed events of every changed ticket not folded yet: the flush calls
        this before this batch's rows go in (they are folded from memory)."""
        self.prefetch(t for t in self._touched if t not in self._states)

    def encoded_views(self, states: Mapping[str, TicketState]) -> dict[str, bytes]:
        """The views of ``states`` the verifying worker already encoded: of those that are
        the very state it folded (``sync.read_ahead``)."""
        return {
            t: ahead.view
            for t, ahead in self._folded_ahead.items()
            if ahead.view and states.get(t) is ahead.alone
        }

    def changed_states(self) -> tuple[dict[str, TicketState], dict[str, TicketState]]:
        """The state of every ticket this batch changed, and for some of them the state the
        views were last written from (``state_before``); after ``read_committed``."""
        changed = {t: self.state_of(t) for t in self._touched}
        committed = {t: s for t in changed if (s := self._before.get(t)) is not None}
        return changed, committed
