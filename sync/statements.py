"""Statements the log writer runs on every commit, built once per database dialect.

Building an SQLAlchemy statement costs far more than running it with many rows; the writer
therefore buffers a whole group's rows and runs each of these once per commit (executemany).
Upserts use ``INSERT ... ON CONFLICT`` which SQLite (3.24+) and PostgreSQL both speak.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from sync import schema


def upsert(table: Table, dialect: str, *, update: bool = True) -> Insert:
    """``INSERT`` that replaces (or, with ``update=False``, keeps) the row with the same key."""
    build: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = build(table)
    keys = [c.name for c in table.primary_key.columns]
    if not update:
        return statement.on_conflict_do_nothing(index_elements=keys)  # type: ignore[no-any-return]
    changed = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LogStatements:
    """The writer's statements for one dialect."""

    insert_events: Insert
    upsert_heads: Insert
    upsert_state: Insert
    upsert_cursor: Insert

    def upsert(self, table: Table) -> Insert:
        """An upsert on another table (cached per table)."""
        return _cached_upsert(table, self.dialect)

    @property
    def dialect(self) -> str:
        """The dialect these statements were built for."""
        return "postgresql" if isinstance(self.upsert_heads, postgresql.Insert) else "sqlite"


@cache
def _cached_upsert(table: Table, dialect: str) -> Insert:
    return upsert(table, dialect)


@cache
def log_statements(dialect: str) -> LogStatements:
    """The writer's statements for ``dialect`` ("sqlite" or "postgresql")."""
    return LogStatements(
        insert_events=insert(schema.events).returning(
            schema.events.c.pos, schema.events.c.event_id, sort_by_parameter_order=True
        ),
        upsert_heads=upsert(schema.origin_heads, dialect),
        upsert_state=upsert(schema.node_state, dialect),
        upsert_cursor=upsert(schema.peer_cursors, dialect),
    )


class DriverQuery:
    """A small SELECT compiled once and run straight on the database driver.

    For the one or two indexed lookups made for *every* registration: SQLAlchemy's per-call
    overhead (about 50 µs) is ten times the query itself, and at a call-centre surge it is
    most of what a registration costs. The statement is still written with SQLAlchemy and
    compiled by it for each dialect; only the execution bypasses it.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def _for(self, conn: Connection) -> tuple[str, tuple[str, ...] | None]:
        name = conn.dialect.name
        found = self._compiled.get(name)
        if found is None:
            compiled = self._statement.compile(dialect=conn.dialect)
            order = (
                tuple(compiled.positiontup)
                if compiled.positional and compiled.positiontup
                else None
            )
            found = self._compiled[name] = (str(compiled), order)
        return found

    def first(self, conn: Connection, **params: Any) -> tuple[Any, ...] | None:
        """The first row for ``params``, or None."""
        sql, order = self._for(conn)
        args: Any = tuple(params[n] for n in order) if order is not None else params
        cursor = conn.connection.driver_connection.execute(sql, args)  # type: ignore[union-attr]
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else tuple(row)
