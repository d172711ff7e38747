"""The chain pass: every origin's events in sequence order, against each other and its head.

A complete chain (an origin with an ``origin_heads`` row) must hold ``1..head`` exactly once,
each event linking to the hash of the one before and the last one to the head's hash. Facts
are read from the columns in chunks, except for rows the per-event checks found inconsistent,
whose facts come from their signed envelopes.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from sync import schema as s
from sync.audit.checks import ChainFacts, show_value
from sync.audit.report import CHAIN, GAP, MISSING, AuditProblem
from sync.envelope import GENESIS_HASH, SealedEvent


@dataclass
class Suspects:
    """Rows whose columns cannot be trusted: their positions, and their signed chain facts."""

    positions: set[int] = field(default_factory=set)
    by_origin: dict[str, list[ChainFacts]] = field(default_factory=lambda: defaultdict(list))

    def add(self, pos: int, sealed: SealedEvent | None) -> None:
        """Set a row aside; its chain facts are taken from the envelope when it parsed."""
        self.positions.add(pos)
        if sealed is not None:
            self.by_origin[sealed.origin_node].append(
                ChainFacts(
                    sealed.origin_seq,
                    sealed.prev_hash,
                    sealed.hash,
                    pos,
                    sealed.event_id,
                    sealed.origin_unit,
                )
            )


@dataclass(frozen=True)
class HeldHead:
    """What an ``origin_heads`` row says of a complete chain: its unit, last sequence, hash."""

    origin_unit: str
    seq: int
    hash: bytes


def held_heads(conn: Connection) -> dict[str, HeldHead]:
    """The head of every complete chain held, by origin node."""
    rows = conn.execute(select(s.origin_heads))
    return {r.origin_node: HeldHead(r.origin_unit, int(r.seq), bytes(r.hash)) for r in rows}


def last_position(conn: Connection) -> int:
    """The log's last ``pos`` (0 when empty): an audit checks up to it, not what comes later."""
    return int(conn.execute(select(func.coalesce(func.max(s.events.c.pos), 0))).scalar_one())


def column_facts(
    conn: Connection, origin: str, max_pos: int, skip: set[int], chunk: int
) -> Iterator[ChainFacts]:
    """The chain facts of ``origin`` read from the columns, in sequence order, in chunks."""
    e = s.events.c
    after: int | None = None
    while True:
        query = select(e.pos, e.origin_seq, e.prev_hash, e.hash, e.event_id, e.origin_unit).where(
            e.origin_node == origin, e.pos <= max_pos
        )
        if after is not None:
            query = query.where(e.origin_seq > after)
        rows = conn.execute(query.order_by(e.origin_seq).limit(chunk)).all()
        for r in rows:
            if r.pos not in skip:
                yield ChainFacts(
                    int(r.origin_seq),
                    bytes(r.prev_hash),
                    bytes(r.hash),
                    int(r.pos),
                    r.event_id,
                    r.origin_unit,
                )
        if len(rows) < chunk:
            return
        after = int(rows[-1].origin_seq)


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}..#{last}"


def _check_chain(
    origin: str,
    head: HeldHead | None,
    facts: Iterable[ChainFacts],
    add: Callable[[AuditProblem], None],
) -> None:
    """Check one origin's events (in sequence order) against each other and its head."""

    def problem(f: ChainFacts | None, kind: str, detail: str, seq: int | None = None) -> None:
        if f is None:
            add(AuditProblem(None, "", origin, seq, kind, detail))
        else:
            add(AuditProblem(f.pos, f.event_id, origin, f.seq, kind, detail))

    last_seq, last_hash = 0, GENESIS_HASH
    head_hash: bytes | None = None
    for f in facts:
        if f.seq == last_seq and last_seq:
            problem(f, CHAIN, f"a second event #{f.seq} is held (fork)")
            continue
        if head is not None:
            if f.origin_unit != head.origin_unit:
                problem(f, CHAIN, f"origin unit {f.origin_unit}, head row says {head.origin_unit}")
            if f.seq > head.seq:
                problem(f, CHAIN, f"held beyond the chain's head #{head.seq}")
            elif f.seq < 1:
                problem(f, CHAIN, "sequence below 1")
            elif f.seq > last_seq + 1:
                problem(f, GAP, f"{_span(last_seq + 1, f.seq - 1)} missing before this event")
        if f.seq == last_seq + 1 and f.prev_hash != last_hash:
            before = "genesis" if last_seq == 0 else f"#{last_seq}"
            problem(
                f,
                CHAIN,
                f"previous hash {show_value(f.prev_hash)} does not link to {before} "
                f"({show_value(last_hash)})",
            )
        if head is not None and f.seq == head.seq:
            head_hash = f.hash
        last_seq, last_hash = f.seq, f.hash
    if head is None:
        return
    if last_seq < head.seq:
        detail = f"{_span(last_seq + 1, head.seq)} missing: the head row says #{head.seq} is held"
        problem(None, MISSING, detail, last_seq + 1)
    elif head_hash is not None and head_hash != head.hash:
        problem(
            None,
            CHAIN,
            f"head row hash {show_value(head.hash)} is not that of #{head.seq} "
            f"({show_value(head_hash)})",
            head.seq,
        )


def check_chains(
    conn: Connection,
    origins: Iterable[str],
    heads: dict[str, HeldHead],
    suspects: Suspects,
    max_pos: int,
    chunk: int,
    add: Callable[[AuditProblem], None],
) -> None:
    """Walk each origin's chain: columns in chunks, merged with the suspects' signed facts."""
    for origin in origins:
        columns = column_facts(conn, origin, max_pos, suspects.positions, chunk)
        signed = sorted(suspects.by_origin.get(origin, ()))
        facts = heapq.merge(columns, signed, key=lambda f: f.seq) if signed else columns
        _check_chain(origin, heads.get(origin), facts, add)
