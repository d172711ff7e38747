"""The rows behind sign-in: credentials (with their lockout guard) and sessions.

Officers' credentials are ``officer_credentials``; enterprise users' are ``enterprise_users``,
with the same columns under a key of two (the credit code and the user's id). Each is a
``Book``; the functions take the book (officers' by default) and the account's key in it, so
both kinds of account go through the same rows' rules.

Plain functions over a SQLAlchemy ``Connection``: the sign-in desk opens the transactions and
decides; these only read and write rows. A credentials row is read ``FOR UPDATE`` inside the
write transaction that changes its guard, so two tries at once (two threads, or two processes
of one hub on PostgreSQL) each count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, insert, select, update

from core.access.lockout import AccountGuard
from core.access.sessions import SessionEnd, SessionRecord
from node.storage.tables import enterprise_users, officer_credentials, sessions


@dataclass(frozen=True)
class Book:
    """A table of accounts with credentials, and the columns that key an account in it."""

    table: Table
    key_columns: tuple[str, ...]

    def where(self, key: str | tuple[str, ...]) -> ColumnElement[bool]:
        """The condition selecting the account ``key`` (one value per key column)."""
        values = (key,) if isinstance(key, str) else key
        return and_(*(self.table.c[c] == v for c, v in zip(self.key_columns, values, strict=True)))

    def key_values(self, key: str | tuple[str, ...]) -> dict[str, str]:
        """The key columns' values of the account ``key``."""
        values = (key,) if isinstance(key, str) else key
        return dict(zip(self.key_columns, values, strict=True))


OFFICERS = Book(officer_credentials, ("officer_id",))
"""Officers' credentials, keyed by roster id."""
ENTERPRISE_USERS = Book(enterprise_users, ("credit_code", "user_id"))
"""Enterprise users' credentials, keyed by (credit code, user id)."""


@dataclass(frozen=True)
class StoredCredentials:
    """An officer's password hash, TOTP secret and guard, as kept."""

    officer_id: str
    password_hash: str
    totp_secret: str
    guard: AccountGuard


def credentials(
    conn: Connection,
    officer_id: str | tuple[str, ...],
    *,
    for_update: bool = False,
    book: Book = OFFICERS,
) -> StoredCredentials | None:
    """The account's credentials, or None when none were ever set."""
    query = select(book.table).where(book.where(officer_id))
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    return StoredCredentials(
        getattr(row, book.key_columns[-1]),
        row.password_hash,
        row.totp_secret,
        AccountGuard(row.failures, row.locked_until_ms, row.last_code_step),
    )


def save_credentials(
    conn: Connection,
    officer_id: str | tuple[str, ...],
    password_hash: str,
    totp_secret: str,
    *,
    at_ms: int,
    set_by: str,
    book: Book = OFFICERS,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Set (or replace) an account's credentials, with a clear guard: no lock, no spent code.
    ``extra``: the book's other columns (an enterprise user's name)."""
    conn.execute(delete(book.table).where(book.where(officer_id)))
    conn.execute(
        insert(book.table).values(
            **book.key_values(officer_id),
            **(extra or {}),
            password_hash=password_hash,
            totp_secret=totp_secret,
            failures=0,
            locked_until_ms=0,
            last_code_step=0,
            set_ms=at_ms,
            set_by=set_by,
        )
    )


def save_guard(
    conn: Connection, officer_id: str | tuple[str, ...], guard: AccountGuard, book: Book = OFFICERS
) -> None:
    """Write an account's guard after a try."""
    conn.execute(
        update(book.table)
        .where(book.where(officer_id))
        .values(
            failures=guard.failures,
            locked_until_ms=guard.locked_until_ms,
            last_code_step=guard.last_code_step,
        )
    )


def save_password_hash(
    conn: Connection, officer_id: str | tuple[str, ...], password_hash: str, book: Book = OFFICERS
) -> None:
    """Replace a hash made with older parameters (at a successful sign-in)."""
    conn.execute(
        update(book.table).where(book.where(officer_id)).values(password_hash=password_hash)
    )


def security_admins_with_credentials(conn: Connection, officer_ids: set[str]) -> list[str]:
    """Those of ``officer_ids`` that have credentials, by id."""
    if not officer_ids:
        return []
    query = select(officer_credentials.c.officer_id).where(
        officer_credentials.c.officer_id.in_(sorted(officer_ids))
    )
    return sorted(r.officer_id for r in conn.execute(query))


def open_session(conn: Connection, record: SessionRecord, peer: str) -> None:
    """Keep a new session."""
    conn.execute(
        insert(sessions).values(
            session_id=record.session_id,
            officer_id=record.officer_id,
            node_id=record.node_id,
            issued_ms=record.issued_ms,
            expires_ms=record.expires_ms,
            last_seen_ms=record.last_seen_ms,
            ended_ms=0,
            end_reason="",
            peer=peer,
            kind=record.kind,
            scope=record.scope,
        )
    )


def session(conn: Connection, session_id: str) -> SessionRecord | None:
    """The session with this id, or None."""
    row = conn.execute(select(sessions).where(sessions.c.session_id == session_id)).first()
    if row is None:
        return None
    return SessionRecord(
        row.session_id,
        row.officer_id,
        row.node_id,
        row.issued_ms,
        row.expires_ms,
        row.last_seen_ms,
        row.ended_ms,
        row.end_reason,
        row.kind,
        row.scope,
    )


def touch_session(conn: Connection, session_id: str, at_ms: int) -> None:
    """Note a call on an open session."""
    conn.execute(
        update(sessions)
        .where(sessions.c.session_id == session_id, sessions.c.ended_ms == 0)
        .values(last_seen_ms=at_ms)
    )


def end_session(conn: Connection, session_id: str, at_ms: int, reason: SessionEnd) -> bool:
    """End an open session; False when it was not open."""
    result = conn.execute(
        update(sessions)
        .where(sessions.c.session_id == session_id, sessions.c.ended_ms == 0)
        .values(ended_ms=at_ms, end_reason=reason.value)
    )
    return bool(result.rowcount)


def end_sessions_of(
    conn: Connection,
    officer_id: str,
    at_ms: int,
    reason: SessionEnd,
    *,
    kind: str = "officer",
    scope: str = "",
) -> int:
    """End every open session of an officer (or of another principal: ``kind``, ``scope``);
    returns how many."""
    result = conn.execute(
        update(sessions)
        .where(
            sessions.c.officer_id == officer_id,
            sessions.c.kind == kind,
            sessions.c.scope == scope,
            sessions.c.ended_ms == 0,
        )
        .values(ended_ms=at_ms, end_reason=reason.value)
    )
    return int(result.rowcount)
