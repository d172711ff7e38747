"""Appending to the node's access record: one chain, hashed and signed, never rewritten.

``append`` is called inside the write transaction of what it records (a sign-in's session and
lockout counters, a sign-out), so the record and the change commit together or not at all. It
locks the record's head row first (``SELECT ... FOR UPDATE``; SQLite's write transactions are
serial anyway), so appends from the node's threads and from several processes of one hub on one
PostgreSQL database form one chain. Rows are never updated or deleted by the node; the chain
and the signatures show it if anyone else does (``core.access.record``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from core.access.reading import AccessFilter
from core.access.record import (
    ACCESS_CONTEXT,
    AccessAction,
    AccessEntry,
    AccessOutcome,
    ChainedEntry,
    digest_of,
)
from node.storage.tables import access_record, access_record_head
from sync.access_anchors import SignedHead
from sync.identity import NodeIdentity
from sync.signatures import verify

_WIDTHS = {"officer_id": 64, "peer": 200, "session_id": 32, "detail": 300}
"""Column widths: what a caller sent (a claimed officer id, a detail) is cut to fit, never
refused, so that an oversized try is recorded too."""


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def append(
    conn: Connection,
    identity: NodeIdentity,
    *,
    at_ms: int,
    officer_id: str,
    action: AccessAction,
    outcome: AccessOutcome,
    reason: str = "",
    peer: str = "",
    session_id: str = "",
    detail: str = "",
) -> AccessEntry:
    """Append one row in ``conn``'s transaction; returns it as chained."""
    head = conn.execute(
        select(access_record_head.c.seq, access_record_head.c.digest)
        .where(access_record_head.c.name == "head")
        .with_for_update()
    ).one()
    entry = AccessEntry(
        seq=head.seq + 1,
        at_ms=at_ms,
        officer_id=fit(officer_id, _WIDTHS["officer_id"]),
        action=action,
        outcome=outcome,
        reason=reason,
        peer=fit(peer, _WIDTHS["peer"]),
        session_id=fit(session_id, _WIDTHS["session_id"]),
        detail=fit(detail, _WIDTHS["detail"]),
    )
    digest = digest_of(bytes(head.digest), entry)
    conn.execute(
        insert(access_record).values(
            seq=entry.seq,
            at_ms=entry.at_ms,
            officer_id=entry.officer_id,
            action=entry.action.value,
            outcome=entry.outcome.value,
            reason=entry.reason,
            peer=entry.peer,
            session_id=entry.session_id,
            detail=entry.detail,
            previous=bytes(head.digest),
            digest=digest,
            key_id=identity.key_id,
            signature=identity.sign(ACCESS_CONTEXT + digest),
        )
    )
    conn.execute(
        update(access_record_head)
        .where(access_record_head.c.name == "head")
        .values(seq=entry.seq, digest=digest)
    )
    return entry


@dataclass(frozen=True)
class StoredRow:
    """A row as stored, with the key that signed its digest and the signature."""

    chained: ChainedEntry
    key_id: str
    signature: bytes


def _stored(row: Any) -> StoredRow:
    return StoredRow(
        ChainedEntry(
            AccessEntry(
                seq=row.seq,
                at_ms=row.at_ms,
                officer_id=row.officer_id,
                action=AccessAction(row.action),
                outcome=AccessOutcome(row.outcome),
                reason=row.reason,
                peer=row.peer,
                session_id=row.session_id,
                detail=row.detail,
            ),
            bytes(row.previous),
            bytes(row.digest),
        ),
        row.key_id,
        bytes(row.signature),
    )


def read(
    conn: Connection, *, after_seq: int = 0, limit: int | None = None
) -> Iterator[ChainedEntry]:
    """Rows in ``seq`` order after ``after_seq`` (all by default), as stored."""
    for row in read_stored(conn, after_seq=after_seq, limit=limit):
        yield row.chained


def read_stored(
    conn: Connection, *, after_seq: int = 0, limit: int | None = None
) -> Iterator[StoredRow]:
    """Rows with their keys and signatures in ``seq`` order after ``after_seq``, as stored.

    An action or outcome the code does not know (a row edited by hand) raises ``ValueError``;
    ``hotline audit`` reads the columns themselves (``raw_rows``) for that reason.
    """
    query = (
        select(access_record).where(access_record.c.seq > after_seq).order_by(access_record.c.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query):
        yield _stored(row)


def raw_rows(conn: Connection, *, after_seq: int, limit: int) -> list[Any]:
    """Up to ``limit`` rows after ``after_seq`` in ``seq`` order, every column as stored."""
    query = (
        select(access_record)
        .where(access_record.c.seq > after_seq)
        .order_by(access_record.c.seq)
        .limit(limit)
    )
    return list(conn.execute(query))


def head(conn: Connection) -> tuple[int, bytes]:
    """The record's head row: the ``seq`` and digest of its last row as the node wrote them."""
    row = conn.execute(
        select(access_record_head.c.seq, access_record_head.c.digest).where(
            access_record_head.c.name == "head"
        )
    ).one()
    return int(row.seq), bytes(row.digest)


def signed_row(conn: Connection, seq: int = 0) -> SignedHead | None:
    """Row ``seq`` of the record (0: its last row) as the node signed it, or None when there
    is no such row: what the node sends its parent at every replication round
    (``sync.access_anchors``)."""
    if seq == 0:
        seq = head(conn)[0]
        if seq == 0:
            return None
    row = conn.execute(
        select(access_record.c.digest, access_record.c.key_id, access_record.c.signature).where(
            access_record.c.seq == seq
        )
    ).one_or_none()
    if row is None:
        return None
    return SignedHead(seq, bytes(row.digest), row.key_id, bytes(row.signature))


def find(
    conn: Connection, wanted: AccessFilter, *, cursor: int, up_to: int, page: int
) -> list[StoredRow]:
    """One page of the rows ``wanted`` matches, no later than row ``up_to``.

    Oldest first, the rows after ``cursor``; newest first, the rows before ``cursor`` (0: from
    ``up_to``). Filtered in the database, ``page`` rows at a time, so a reader of a long record
    never holds more than a page.
    """
    c = access_record.c
    query = select(access_record).where(c.seq <= up_to)
    if wanted.newest_first:
        query = query.where(c.seq < cursor) if cursor else query
        query = query.order_by(c.seq.desc())
    else:
        query = query.where(c.seq > cursor).order_by(c.seq)
    if wanted.officer_id:
        query = query.where(c.officer_id == wanted.officer_id)
    if wanted.actions:
        query = query.where(c.action.in_(sorted(a.value for a in wanted.actions)))
    if wanted.outcome is not None:
        query = query.where(c.outcome == wanted.outcome.value)
    if wanted.since_ms:
        query = query.where(c.at_ms >= wanted.since_ms)
    if wanted.until_ms:
        query = query.where(c.at_ms < wanted.until_ms)
    if wanted.text:
        query = query.where(
            or_(
                c.detail.icontains(wanted.text, autoescape=True),
                c.reason.icontains(wanted.text, autoescape=True),
                c.peer.icontains(wanted.text, autoescape=True),
            )
        )
    return [_stored(row) for row in conn.execute(query.limit(page))]


def signature_holds(conn: Connection, seq: int, public_key: bytes) -> bool:
    """True when row ``seq``'s signature of its digest verifies under ``public_key``."""
    row = conn.execute(
        select(access_record.c.digest, access_record.c.signature).where(access_record.c.seq == seq)
    ).one()
    return verify(public_key, bytes(row.signature), ACCESS_CONTEXT + bytes(row.digest))
