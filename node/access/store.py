"""The rows behind sign-in: officers' credentials (with their lockout guard) and sessions.

Plain functions over a SQLAlchemy ``Connection``: the sign-in desk opens the transactions and
decides; these only read and write rows. A credentials row is read ``FOR UPDATE`` inside the
write transaction that changes its guard, so two tries at once (two threads, or two processes
of one hub on PostgreSQL) each count.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from core.access.lockout import AccountGuard
from core.access.sessions import SessionEnd, SessionRecord
from node.storage.tables import officer_credentials, sessions


@dataclass(frozen=True)
class StoredCredentials:
    """An officer's password hash, TOTP secret and guard, as kept."""

    officer_id: str
    password_hash: str
    totp_secret: str
    guard: AccountGuard


def credentials(
    conn: Connection, officer_id: str, *, for_update: bool = False
) -> StoredCredentials | None:
    """The officer's credentials, or None when none were ever set."""
    query = select(officer_credentials).where(officer_credentials.c.officer_id == officer_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    return StoredCredentials(
        row.officer_id,
        row.password_hash,
        row.totp_secret,
        AccountGuard(row.failures, row.locked_until_ms, row.last_code_step),
    )


def save_credentials(
    conn: Connection,
    officer_id: str,
    password_hash: str,
    totp_secret: str,
    *,
    at_ms: int,
    set_by: str,
) -> None:
    """Set (or replace) an officer's credentials, with a clear guard: no lock, no spent code."""
    conn.execute(delete(officer_credentials).where(officer_credentials.c.officer_id == officer_id))
    conn.execute(
        insert(officer_credentials).values(
            officer_id=officer_id,
            password_hash=password_hash,
            totp_secret=totp_secret,
            failures=0,
            locked_until_ms=0,
            last_code_step=0,
            set_ms=at_ms,
            set_by=set_by,
        )
    )


def save_guard(conn: Connection, officer_id: str, guard: AccountGuard) -> None:
    """Write an officer's guard after a try."""
    conn.execute(
        update(officer_credentials)
        .where(officer_credentials.c.officer_id == officer_id)
        .values(
            failures=guard.failures,
            locked_until_ms=guard.locked_until_ms,
            last_code_step=guard.last_code_step,
        )
    )


def save_password_hash(conn: Connection, officer_id: str, password_hash: str) -> None:
    """Replace a hash made with older parameters (at a successful sign-in)."""
    conn.execute(
        update(officer_credentials)
        .where(officer_credentials.c.officer_id == officer_id)
        .values(password_hash=password_hash)
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


def end_sessions_of(conn: Connection, officer_id: str, at_ms: int, reason: SessionEnd) -> int:
    """End every open session of an officer; returns how many."""
    result = conn.execute(
        update(sessions)
        .where(sessions.c.officer_id == officer_id, sessions.c.ended_ms == 0)
        .values(ended_ms=at_ms, end_reason=reason.value)
    )
    return int(result.rowcount)
