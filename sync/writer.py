"""The one writer of a node's log: a thread that commits jobs in groups.

Every change to a node's log goes through here: commands of the node's own officers and
batches received from peers. One thread means one place that allocates the origin sequence,
advances the hybrid clock and chains hashes, with no lock dance between request handlers.
Jobs waiting in the queue are committed together in one transaction (group commit): one fsync
for many tickets, which is what makes durable SQLite fast enough for a call-centre surge.

A job writes only through its ``LogBatch``, which buffers every row in memory and keeps an undo
journal: a job that fails (bad input, a refused step) is undone in memory and leaves nothing
behind, without sinking the rest of its group. At the end of the group each table is written
with one statement (``sync.statements``). A job's result is handed back only after the
transaction commits: a caller told "done" can rely on it surviving a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from core import hlc as hybrid_clock
from core.errors import DomainError
from core.officers import OfficerRef
from core.ticket.events import DomainEvent, RecordedEvent
from core.ticket.fold import evolve, fold, next_ticket_version, sorts_last
from core.ticket.state import TicketState
from sync import schema
from sync.envelope import GENESIS_HASH, SealedEvent, seal
from sync.errors import StorageError
from sync.identity import NodeIdentity
from sync.log_store import HLC_STATE, EventLog, Head
from sync.pki import NodeCertificate
from sync.reasons import AlertKind
from sync.statements import BulkRows, DriverQuery, LogStatements, log_statements
from sync.trust import TrustStore, certificate_row, name_key_hex

log = logging.getLogger(__name__)

T = TypeVar("T")


class ProjectionHook(Protocol):
    """Called once per transaction with the tickets it changed; returns their encoded views."""

    def __call__(
        self,
        conn: Connection,
        states: dict[str, TicketState],
        new_positions: dict[str, list[int]],
        committed: Mapping[str, TicketState],
    ) -> dict[str, bytes]:
        """Update the views for ``states``; ``new_positions`` are the events just stored;
        ``committed`` holds, for some of the tickets, the state the views were last written
        from (``LogBatch.state_before``)."""


_OWN_HEAD = DriverQuery(
    select(schema.origin_heads.c.seq, schema.origin_heads.c.hash)
    .where(schema.origin_heads.c.origin_node == bindparam("origin_node"))
    .with_for_update()
)
_HLC_VALUE = DriverQuery(
    select(schema.node_state.c.value).where(schema.node_state.c.name == bindparam("name"))
)


class LogBatch:
    """One writer transaction, as the jobs see it: every write is buffered until the flush."""

    def __init__(
        self,
        conn: Connection,
        identity: NodeIdentity,
        wall_ms: Callable[[], int],
        trust: TrustStore | None = None,
    ) -> None:
        self.conn = conn
        self.trust = trust
        """What this node trusts (None only for tools that never receive events)."""
        self.log = EventLog(conn)
        """Reads of what was committed before this batch (write through the batch instead)."""
        self.identity = identity
        self._wall_ms = wall_ms
        self._sql: LogStatements = log_statements(conn.dialect.name)
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
        self._quarantined: set[str] | None = None
        self._held: dict[str, list[SealedEvent]] = {}
        """Counted events of a ticket committed before this batch (a read cache)."""
        self._chain_index: dict[tuple[str, int], SealedEvent] = {}
        self._ticket_events: dict[str, list[SealedEvent]] = defaultdict(list)
        self._states: dict[str, TicketState] = {}
        self._before: dict[str, TicketState] = {}
        """Fold of the events committed before this batch (``state_before``)."""
        self._held_changed: set[str] = set()
        """Tickets whose committed events this batch re-judged (``discount_signer``): what
        they fold to now is not what the views were written from."""
        self._touched: dict[str, None] = {}
        self._inserts: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self._upserts: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
        self._journal: list[tuple[Any, ...]] = []
        """Undo entries, ``(function, *arguments)``: one tuple (a plain function, not a bound
        method or a closure), as a sweep writes a few per ticket and each closure would be
        several objects more for the garbage collector to track."""
        self.views: dict[str, bytes] = {}
        """Encoded ``hotline.v1.Ticket`` of every ticket this batch changed, filled at the
        flush: a job may return this very dict and its caller read it once the job is done."""

    # -- undo journal ------------------------------------------------------------------------

    def mark(self) -> int:
        """A point to undo back to."""
        return len(self._journal)

    def undo_to(self, mark: int) -> None:
        """Forget every buffered change made after ``mark``."""
        while len(self._journal) > mark:
            undo, *arguments = self._journal.pop()
            undo(*arguments)

    def forget_undo(self) -> None:
        """Drop the undo journal once no job can be undone any more (after the flush).

        Its entries refer to this batch, so batch and journal form reference cycles:
        left in place, every row, event and state of the transaction would wait for Python's
        cyclic garbage collector instead of being freed when the batch goes, and a large
        transaction (a sweep's 200 tickets) would set off full collections of the heap.
        """
        self._journal.clear()

    def on_undo(self, undo: Callable[[], None]) -> None:
        """Have ``undo`` called if the job's buffered changes are forgotten (a job that keeps
        something outside the batch, such as the rules a node judges by, puts it back)."""
        self._journal.append((undo,))

    def _set_state(self, ticket_id: str, state: TicketState | None) -> None:
        old = self._states.get(ticket_id)
        had = ticket_id in self._states
        if state is None:
            self._states.pop(ticket_id, None)
        else:
            self._states[ticket_id] = state
        self._journal.append((LogBatch._restore_state, self, ticket_id, had, old))

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
        self._journal.append((LogBatch._restore_hlc, self, self._hlc))
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
        """Read the held events of many tickets at once (one query per 500, not one each)."""
        wanted = [t for t in dict.fromkeys(ticket_ids) if t not in self._held]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = self.log.events_of_tickets(chunk)
            for ticket_id in chunk:
                self._held[ticket_id] = found.get(ticket_id, [])

    def state_of(self, ticket_id: str) -> TicketState:
        """The ticket's state including everything written earlier in this batch."""
        state = self._states.get(ticket_id)
        if state is None:
            if ticket_id not in self._held:
                self.prefetch([ticket_id])
            held = [e.recorded() for e in self._held[ticket_id]]
            mine = self._ticket_events.get(ticket_id)
            if mine:
                held += [e.recorded() for e in mine]
            state = fold(ticket_id, held)
            self._states[ticket_id] = state  # a cache: needs no undo
            if not mine and ticket_id not in self._held_changed:
                # What was committed: the state the views were last written from (a cache of
                # a fact about the past, so it needs no undo either).
                self._before.setdefault(ticket_id, state)
        return state

    def state_before(self, ticket_id: str) -> TicketState | None:
        """The ticket's state as committed before this batch, if this batch folded it.

        The views (the projection's tables) were written from exactly this state, so a view
        row that depends only on what is unchanged since need not be written again.
        """
        return self._before.get(ticket_id)

    def pending(self, table: Table) -> Sequence[dict[str, Any]]:
        """Rows of ``table`` buffered in this batch (inserts and upserts)."""
        return [*self._inserts.get(table, ()), *self._upserts.get(table, {}).values()]

    # -- writes ------------------------------------------------------------------------------

    def _buffer_event(self, event: SealedEvent, received_from: str, verdict: str = "") -> None:
        self._events[event.event_id] = (event, received_from, verdict)
        self._chain_index[(event.origin_node, event.origin_seq)] = event
        if verdict:
            self._journal.append((LogBatch._unbuffer_event, self, event, None))
            return
        self._ticket_events[event.ticket_id].append(event)
        touched = event.ticket_id in self._touched
        self._touched[event.ticket_id] = None
        self._journal.append((LogBatch._unbuffer_event, self, event, touched))

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
        self._journal.append((LogBatch._restore_head, self, head.origin_node, old, was_dirty))

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

    def store_received(self, events: Sequence[SealedEvent], peer: str) -> None:
        """Append events received from ``peer`` (already verified) and observe their clocks."""
        if not events:
            return
        for event in events:
            self._buffer_event(event, peer)
            self._set_state(event.ticket_id, None)
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

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Buffer a new row of ``table``."""
        rows = self._inserts[table]
        rows.append(row)
        self._journal.append((rows.pop,))

    def upsert(self, table: Table, row: dict[str, Any]) -> None:
        """Buffer a row of ``table`` that replaces any row with the same primary key."""
        key = tuple(row[c.name] for c in table.primary_key.columns)
        rows = self._upserts[table]
        old = rows.get(key)
        rows[key] = row
        if old is None:
            self._journal.append((rows.pop, key, None))
        else:
            self._journal.append((rows.__setitem__, key, old))

    # -- trust, evidence and alerts ----------------------------------------------------------

    def remember_certificates(self, nodes: Iterable[NodeCertificate]) -> None:
        """Keep node certificates learnt from peers (so they can be passed on and audited)."""
        for node in nodes:
            self.upsert(schema.trusted_certificates, certificate_row(node.certificate, node))

    def remember_authority(self, cert: x509.Certificate) -> None:
        """Keep a province CA certificate learnt from a peer or an administrator."""
        self.upsert(schema.trusted_certificates, certificate_row(cert, None))

    def remember_revocations(self, crl: x509.CertificateRevocationList) -> None:
        """Keep an authority's newest revocation list."""
        self.upsert(
            schema.revocation_lists,
            {
                "issuer": name_key_hex(crl.issuer),
                "last_update_ms": int(crl.last_update_utc.timestamp() * 1000),
                "der": crl.public_bytes(serialization.Encoding.DER),
            },
        )

    def discount_signer(self, key_id: str, node_id: str, from_ms: int, verdict: str) -> int:
        """Stop counting a signer's events from ``from_ms`` on (its certificate was revoked).

        Events already stored as counted are turned into evidence (only their ``verdict``
        changes; the signed rows stay as they were) and their tickets are folded again, so
        every node that learns of a revocation ends with the same state.
        """
        events = schema.events
        rows = self.conn.execute(
            update(events)
            .where(
                events.c.signer_key_id == key_id,
                events.c.origin_node == node_id,
                events.c.hlc >= hybrid_clock.from_millis(from_ms),
                events.c.verdict == "",
            )
            .values(verdict=verdict[:300])
            .returning(events.c.ticket_id)
        ).scalars()
        tickets = set(rows)
        for ticket_id in tickets:
            self._held_changed.add(ticket_id)
            self._before.pop(ticket_id, None)
            self._held.pop(ticket_id, None)
            self._touched[ticket_id] = None
            self._set_state(ticket_id, None)
        return len(tickets)

    def raise_alert(self, kind: AlertKind, subject: str, detail: str) -> None:
        """Raise an alert for an administrator (``hotline alerts``); ``kind`` is stored by value."""
        log.warning("alert %s on %s: %s", kind.value, subject, detail)
        self.insert(
            schema.alerts,
            {
                "kind": kind.value,
                "subject": subject,
                "detail": detail[:2000],
                "raised_ms": self.now_ms(),
                "cleared_ms": 0,
            },
        )

    def is_quarantined(self, origin_node: str) -> bool:
        """True when ``origin_node``'s events are held back (counting this batch)."""
        if any(k == (origin_node,) for k in self._upserts.get(schema.quarantined_origins, {})):
            return True
        if self._quarantined is None:
            self._quarantined = set(self.log.quarantined())
        return origin_node in self._quarantined

    def quarantine(self, origin_node: str, reason: str) -> None:
        """Hold back ``origin_node``'s events until an administrator releases it."""
        self.upsert(
            schema.quarantined_origins,
            {"origin_node": origin_node, "reason": reason[:2000], "since_ms": self.now_ms()},
        )

    def record_fork(self, held: SealedEvent, other: SealedEvent, peer: str) -> None:
        """Keep the second of two events claiming one place in a chain, as evidence."""
        self.upsert(
            schema.fork_evidence,
            {
                "origin_node": other.origin_node,
                "origin_seq": other.origin_seq,
                "held_hash": held.hash,
                "other_hash": other.hash,
                "envelope": other.envelope,
                "signature": other.signature,
                "peer": peer,
                "seen_ms": self.now_ms(),
            },
        )

    def set_cursor(self, peer: str, position: int) -> None:
        """Record how far this node has pulled from ``peer``, with the events pulled."""
        self.upsert(
            schema.peer_cursors, {"peer": peer, "position": position, "updated_ms": self.now_ms()}
        )

    def record_problem(self, event_id: str, origin_node: str, peer: str, reason: str) -> None:
        """Keep a note of an event refused on receipt (it is not stored in the log)."""
        self.insert(
            schema.sync_problems,
            {
                "event_id": event_id,
                "origin_node": origin_node,
                "peer": peer,
                "reason": reason,
                "recorded_ms": self.now_ms(),
            },
        )

    # -- the flush ---------------------------------------------------------------------------

    def _flush(self, project: ProjectionHook) -> None:
        conn, sql = self.conn, self._sql
        positions: dict[str, list[int]] = defaultdict(list)
        # Read what was held before this batch's rows go in (they are folded from memory).
        self.prefetch(t for t in self._touched if t not in self._states)
        if self._events:
            rows = [_event_row(e, peer, verdict) for e, peer, verdict in self._events.values()]
            if conn.dialect.name == "sqlite":
                # One writer holds SQLite's write lock for the whole transaction (BEGIN
                # IMMEDIATE), so it can number the rows itself and insert them in one
                # executemany; with RETURNING, SQLite would take one statement per row.
                last = conn.execute(select(func.coalesce(func.max(schema.events.c.pos), 0)))
                first = int(last.scalar_one()) + 1
                for pos, row in enumerate(rows, start=first):
                    row["pos"] = pos
                _NUMBERED_EVENTS.run(conn, rows)
                numbered = [(row["pos"], row["event_id"]) for row in rows]
            else:
                numbered = _INSERT_EVENTS.run(conn, rows)
            for pos, event_id in numbered:
                event, _, verdict = self._events[event_id]
                if not verdict:
                    positions[event.ticket_id].append(pos)
        if self._dirty_heads:
            _UPSERT_HEADS.run(
                conn,
                [
                    {
                        "origin_node": h.origin_node,
                        "origin_unit": h.origin_unit,
                        "seq": h.seq,
                        "hash": h.hash,
                    }
                    for h in (self._heads[o] for o in sorted(self._dirty_heads))
                ],
            )
        if self._hlc != self._hlc_at_start:
            _UPSERT_STATE.run(conn, [{"name": HLC_STATE, "value": self._hlc}])
        for table, rows in self._inserts.items():
            if rows:
                conn.execute(_insert_statement(table), rows)
        for table, keyed in self._upserts.items():
            if keyed:
                conn.execute(sql.upsert(table), list(keyed.values()))
        if self._touched:
            changed = {t: self.state_of(t) for t in self._touched}
            committed = {t: s for t in changed if (s := self._before.get(t)) is not None}
            self.views.update(project(conn, changed, positions, committed))


_EVENT_COLUMNS = (
    "event_id",
    "origin_node",
    "origin_unit",
    "origin_seq",
    "prev_hash",
    "hash",
    "ticket_id",
    "event_type",
    "hlc",
    "signer_key_id",
    "envelope",
    "signature",
    "received_from",
    "verdict",
)
_UPSERT_HEADS = BulkRows(
    schema.origin_heads, ("origin_node", "origin_unit", "seq", "hash"), on_conflict="update"
)
_UPSERT_STATE = BulkRows(schema.node_state, ("name", "value"), on_conflict="update")
_INSERT_EVENTS = BulkRows(schema.events, _EVENT_COLUMNS, returning=("pos", "event_id"))
"""PostgreSQL: the sequence numbers the rows, in the order given."""
_NUMBERED_EVENTS = BulkRows(schema.events, ("pos", *_EVENT_COLUMNS))
"""SQLite: the writer numbers the rows itself (it holds the database's write lock)."""


def _event_row(e: SealedEvent, received_from: str, verdict: str) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "origin_node": e.origin_node,
        "origin_unit": e.origin_unit,
        "origin_seq": e.origin_seq,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "ticket_id": e.ticket_id,
        "event_type": e.event_type,
        "hlc": e.hlc,
        "signer_key_id": e.signer_key_id,
        "envelope": e.envelope,
        "signature": e.signature,
        "received_from": received_from,
        "verdict": verdict[:300],
    }


_INSERTS: dict[Table, Any] = {}


def _insert_statement(table: Table) -> Any:
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = insert(table)
    return statement


Job = Callable[[LogBatch], T]
_STOP = object()


@dataclass
class _Pending:
    job: Job[Any]
    future: Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    loop_future: asyncio.Future[Any] | None = None


def _settle_thread_future(future: Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():  # the caller gave up; it simply is not told
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _settle_loop_futures(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in outcomes:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class LogWriter:
    """The writer thread of one node; submit jobs, get results after commit."""

    def __init__(
        self,
        engine: Engine,
        identity: NodeIdentity,
        wall_ms: Callable[[], int],
        project: ProjectionHook,
        *,
        max_batch: int = 256,
        group_wait: float = 0.001,
        trust: TrustStore | None = None,
    ) -> None:
        self._engine = engine
        self.trust = trust
        self._identity = identity
        self._wall_ms = wall_ms
        self._project = project
        self._max_batch = max_batch
        self._group_wait = group_wait
        self._conn: Connection | None = None
        self._queue: queue.SimpleQueue[_Pending | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="log-writer", daemon=True)
        self._started = False
        self.on_commit: Callable[[], None] | None = None
        """Called (on the writer thread) after every commit; e.g. to wake replication."""

    def start(self) -> None:
        """Start the writer thread."""
        if not self._started:
            self._started = True
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs and stop the thread."""
        if self._started:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._started = False

    def _check_running(self) -> None:
        if not self._started:
            raise RuntimeError("the log writer is not running")

    def submit(self, job: Job[T]) -> Future[T]:
        """Queue a job; the future holds its result once its transaction has committed."""
        self._check_running()
        future: Future[T] = Future()
        self._queue.put(_Pending(job, future=future))
        return future

    async def run(self, job: Job[T]) -> T:
        """Queue a job and await its committed result (for asyncio callers)."""
        self._check_running()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Pending(job, loop=loop, loop_future=future))
        return await future

    def call(self, job: Job[T], timeout: float = 60.0) -> T:
        """Queue a job and wait for its committed result (for threads and tools)."""
        return self.submit(job).result(timeout)

    def _gather(self, first: _Pending | object, busy: bool) -> tuple[list[_Pending], bool]:
        """The next group, and whether a stop was asked for.

        When the last group held more than one job, callers are queueing: wait up to
        ``group_wait`` seconds for more, so the fixed cost of a commit (and its fsync) is
        shared by more tickets. An idle node commits a lone job at once.
        """
        group = [first]
        deadline = time.monotonic() + self._group_wait if busy else 0.0
        while len(group) < self._max_batch:
            try:
                remaining = deadline - time.monotonic()
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else (self._queue.get_nowait())
                )
            except queue.Empty:
                break
            if item is _STOP:
                return [p for p in group if isinstance(p, _Pending)], True
            group.append(item)
        return [p for p in group if isinstance(p, _Pending)], False

    def _loop(self) -> None:
        busy = False
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                group, stop_after = self._gather(first, busy)
                busy = len(group) > 1
                try:
                    self._run_group(group)
                except Exception:  # never let the one writer thread die
                    log.exception("log writer: unexpected failure; continuing")
                if stop_after:
                    return
        finally:
            self._close_connection()

    def _run_group(self, group: list[_Pending]) -> None:
        try:
            outcomes = self._attempt(group)
        except Exception as exc:  # the transaction failed as a whole
            if isinstance(exc, SQLAlchemyError):
                self._close_connection()  # it may be broken; the next group dials afresh
            if len(group) > 1:
                # Run each job alone so that one culprit fails by itself.
                for pending in group:
                    self._run_group([pending])
                return
            error: Exception = exc
            if isinstance(exc, SQLAlchemyError):
                error = StorageError(f"database error: {exc}")
                error.__cause__ = exc
            log.warning("log writer: job failed: %s", exc)
            outcomes = [(False, error)]
        self._hand_back(group, outcomes)
        if self.on_commit is not None and any(ok for ok, _ in outcomes):
            self.on_commit()

    def _hand_back(self, group: list[_Pending], outcomes: list[tuple[bool, Any]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for pending, (ok, value) in zip(group, outcomes, strict=True):
            if pending.future is not None:
                _settle_thread_future(pending.future, ok, value)
            elif pending.loop is not None and pending.loop_future is not None:
                by_loop.setdefault(pending.loop, []).append((pending.loop_future, ok, value))
        for loop, results in by_loop.items():  # one wake-up per event loop, not per job
            with contextlib.suppress(RuntimeError):  # a closed loop: its callers are gone
                loop.call_soon_threadsafe(_settle_loop_futures, results)

    def _connection(self) -> Connection:
        """The writer's own connection, kept open: it is the only user of the write engine."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._close_connection()
            self._conn = self._engine.connect()
        return self._conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None

    def _attempt(self, group: list[_Pending]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        conn = self._connection()
        with conn.begin():
            batch = LogBatch(conn, self._identity, self._wall_ms, self.trust)
            try:
                for pending in group:
                    mark = batch.mark()
                    try:
                        value = pending.job(batch)
                    except DomainError as err:
                        batch.undo_to(mark)
                        outcomes.append((False, err))
                        continue
                    outcomes.append((True, value))
                batch._flush(self._project)
            finally:
                batch.forget_undo()
        return outcomes
