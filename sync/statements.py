"""Statements the log writer runs on every commit, built once per database dialect.

Building an SQLAlchemy statement costs far more than running it with many rows; the writer
therefore buffers a whole group's rows and runs each of these once per commit (executemany).
Upserts use ``INSERT ... ON CONFLICT`` which SQLite (3.24+) and PostgreSQL both speak.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any, NoReturn

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Select,
    Table,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from sync import schema

_PG_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


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


# -- many rows in one statement, on the driver -------------------------------------------------

_LENGTH = re.compile(r"\(.*\)")
_COPY_TYPES = {
    "VARCHAR": "text",
    "TEXT": "text",
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "BOOLEAN": "bool",
    "BYTEA": "bytea",
}
"""PostgreSQL type of each column type the bulk statements carry, as binary ``COPY`` sends it
(varchar and text share their binary form; a value too long for its column still fails at
the insert, as it would row by row)."""


def _copy_type(column: Column[Any]) -> str:
    compiled = _LENGTH.sub("", column.type.compile(dialect=_PG_DIALECT))
    try:
        return _COPY_TYPES[compiled]
    except KeyError:
        raise TypeError(f"{column.table.name}.{column.name}: no bulk form for {compiled}") from None


def _raise_database_error(conn: Connection, sql: str, exc: Exception) -> NoReturn:
    """Raise a driver error as SQLAlchemy would have (``DBAPIError``), keeping its cause.

    The writer and the units of work turn ``SQLAlchemyError`` into ``StorageError`` and drop a
    connection that may be broken; a statement run on the driver must fail the same way.
    """
    raise DBAPIError.instance(
        sql, None, exc, conn.dialect.loaded_dbapi.Error, hide_parameters=True, dialect=conn.dialect
    ) from exc


def _driver_cursor(conn: Connection) -> Any:
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


COPY_FROM = 32
"""From this many rows on, PostgreSQL gets them by binary ``COPY`` (below: ``executemany``)."""


class BulkRows:
    """Many rows of one table written in one go at the end of a writer transaction.

    Why: the writer projects a whole group of tickets at each commit (a sweep: 200 tickets a
    job). Through SQLAlchemy each row costs its parameter processing, and on PostgreSQL the
    rows become one multi-row ``VALUES`` statement whose text changes with the row count, so
    psycopg parses tens of kilobytes of SQL afresh at every commit (and the server too). Here
    the statement is written once and run on the driver:

    * SQLite: the driver's ``executemany`` of one short statement (compiled once by SQLite).
    * PostgreSQL, from ``COPY_FROM`` rows: binary ``COPY`` (psycopg formats rows in C, the
      server parses no SQL per row). A plain insert copies straight into the table; an upsert,
      or an insert that reads columns back, copies into a temporary table of this session
      (``hotline_stage_<table>``, the table's columns plus the rows' order; the session needs the
      TEMPORARY privilege, which PostgreSQL grants to everyone by default) and moves the rows
      with one ``INSERT ... SELECT ... ORDER BY`` that empties it, so rows go in in the
      order given (positions drawn from a sequence follow that order) and conflicts are
      handled as by ``INSERT ... ON CONFLICT``. Fewer rows (intake's small commits):
      ``executemany`` of one constant statement, which psycopg pipelines and prepares.

    ``on_conflict`` is "" (a duplicate key is an error), "update" (the new row replaces the
    old one) or "nothing" (the old row stays). Rows of one call must have distinct keys under
    "update", as PostgreSQL will not update one row twice in one statement; the writer's
    buffers are keyed, so they do. ``returning`` names columns read back, PostgreSQL only
    (SQLite callers number their own rows: ``sync.writer.flush``).
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        *,
        on_conflict: str = "",
        returning: Sequence[str] = (),
    ) -> None:
        if on_conflict not in ("", "update", "nothing"):
            raise ValueError(f"on_conflict must be '', 'update' or 'nothing', not {on_conflict!r}")
        self.table = table
        self.columns = tuple(columns)
        pick = itemgetter(*self.columns)
        self._values_of: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            pick if len(self.columns) > 1 else lambda row: (pick(row),)
        )
        self._copy_types = [_copy_type(table.c[c]) for c in self.columns]  # checks the names
        self._returning = tuple(table.c[c].name for c in returning)
        self._conflict = self._conflict_clause(on_conflict)
        names = ", ".join(self.columns)
        self._sqlite = self._values("?") + self._conflict
        self._pg_values = self._values("%s") + self._conflict + self._returning_clause()
        self._stage = f"hotline_stage_{table.name}"
        self._pg_copy = f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)"
        # Every column of the table (whichever ``BulkRows`` of it comes first makes it; a
        # copy fills the columns it names), without the table's constraints or defaults.
        everything = ", ".join(c.name for c in table.columns)
        self._pg_stage = (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self._stage} ON COMMIT DELETE ROWS AS"
            f" SELECT {everything}, 0::int8 AS given_order FROM {table.name} WITH NO DATA"
        )
        self._pg_copy_stage = (
            f"COPY {self._stage} ({names}, given_order) FROM STDIN (FORMAT BINARY)"
        )
        # The rows leave the stage in the statement that moves them (a second call in the
        # same transaction starts empty). Autovacuum never visits temporary tables, so the
        # deleted rows would pile up for as long as the writer's session lasts; ``ON COMMIT
        # DELETE ROWS`` has PostgreSQL cut the table back to nothing at each commit of a
        # transaction that used it (in place, unlike a TRUNCATE, which costs a new file).
        self._pg_unstage = (
            f"WITH given AS (DELETE FROM {self._stage} RETURNING *)"
            f" INSERT INTO {table.name} ({names}) SELECT {names} FROM given ORDER BY given_order"
            + self._conflict
            + self._returning_clause()
        )

    def _values(self, mark: str) -> str:
        marks = ", ".join(mark for _ in self.columns)
        return f"INSERT INTO {self.table.name} ({', '.join(self.columns)}) VALUES ({marks})"

    def _conflict_clause(self, on_conflict: str) -> str:
        if not on_conflict:
            return ""
        keys = [c.name for c in self.table.primary_key.columns]
        if on_conflict == "nothing":
            return f" ON CONFLICT ({', '.join(keys)}) DO NOTHING"
        changed = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in keys)
        return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {changed}"

    def _returning_clause(self) -> str:
        return f" RETURNING {', '.join(self._returning)}" if self._returning else ""

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Write ``rows`` (each has every column of ``columns``); the returned columns' values
        (PostgreSQL only)."""
        if not rows:
            return []
        values = list(map(self._values_of, rows))
        cursor = _driver_cursor(conn)
        sql = self._sqlite
        try:
            if conn.dialect.name != "postgresql":
                if self._returning:
                    raise NotImplementedError("SQLite: number the rows instead of reading back")
                cursor.executemany(sql, values)
                return []
            if len(values) < COPY_FROM:
                sql = self._pg_values
                cursor.executemany(sql, values, returning=bool(self._returning))
                return self._fetch_each(cursor)
            if not self._conflict and not self._returning:
                sql = self._pg_copy
                self._copy(cursor, sql, values)
                return []
            sql = self._pg_stage
            cursor.execute(sql)
            sql = self._pg_copy_stage
            self._copy(cursor, sql, [(*v, i) for i, v in enumerate(values)], given_order=True)
            sql = self._pg_unstage
            cursor.execute(sql)
            return [tuple(r) for r in cursor.fetchall()] if self._returning else []
        except conn.dialect.loaded_dbapi.Error as exc:
            _raise_database_error(conn, sql, exc)
        finally:
            cursor.close()

    def _copy(
        self, cursor: Any, sql: str, values: list[tuple[Any, ...]], *, given_order: bool = False
    ) -> None:
        with cursor.copy(sql) as copy:
            copy.set_types([*self._copy_types, "int8"] if given_order else self._copy_types)
            for row in values:
                copy.write_row(row)

    def _fetch_each(self, cursor: Any) -> list[tuple[Any, ...]]:
        """The rows returned by each statement of an ``executemany``."""
        if not self._returning:
            return []
        found: list[tuple[Any, ...]] = []
        while True:
            found.extend(tuple(r) for r in cursor.fetchall())
            if not cursor.nextset():
                return found


class BulkDelete:
    """``DELETE FROM table WHERE column`` is any of many keys, as one statement per commit.

    PostgreSQL: ``= ANY(%s)`` with the keys as one array (constant statement text); SQLite:
    ``executemany`` of the one-key statement (each an index lookup).
    """

    def __init__(self, table: Table, column: str) -> None:
        self.table = table
        self.column = table.c[column].name

    def run(self, conn: Connection, keys: Sequence[Any]) -> None:
        """Delete the rows whose ``column`` is in ``keys``."""
        if not keys:
            return
        where = f"DELETE FROM {self.table.name} WHERE {self.column}"
        cursor = _driver_cursor(conn)
        sql = ""
        try:
            if conn.dialect.name == "postgresql":
                sql = f"{where} = ANY(%s)"
                cursor.execute(sql, [list(keys)])
            else:
                sql = f"{where} = ?"
                cursor.executemany(sql, [(k,) for k in keys])
        except conn.dialect.loaded_dbapi.Error as exc:
            _raise_database_error(conn, sql, exc)
        finally:
            cursor.close()


def _among(column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the keys bound as ``keys``, in one statement text per dialect.

    PostgreSQL: ``= ANY(:keys)``, one array parameter, where an ``IN`` list would be a new
    statement for psycopg (and the server) to parse at every call. SQLite has no arrays:
    ``IN (SELECT value FROM json_each(:keys))``, the keys as one JSON list (SQLite still looks
    each one up in the column's index).
    """
    if dialect == "postgresql":
        return column == any_(bindparam("keys", type_=postgresql.ARRAY(column.type)))
    listed = func.json_each(bindparam("keys")).table_valued("value")
    return column.in_(select(listed.c.value))


class KeyedQuery:
    """A SELECT of the rows whose ``key`` is any of many (text) keys, run on the driver.

    Like ``DriverQuery``, for reads the writer makes for every batch of tickets (their held
    events, who saw them): written with SQLAlchemy, compiled once per dialect with the keys
    as one parameter (``_among``), so the statement text never changes with their number,
    and executed without SQLAlchemy's per-row result processing. Rows come back as tuples.
    """

    def __init__(self, statement: Select[Any], key: ColumnElement[Any]) -> None:
        self._statement = statement
        self._key = key
        self._compiled: dict[str, tuple[str, dict[str, Any], tuple[str, ...] | None]] = {}

    def _for(self, conn: Connection) -> tuple[str, dict[str, Any], tuple[str, ...] | None]:
        name = conn.dialect.name
        found = self._compiled.get(name)
        if found is None:
            compiled = self._statement.where(_among(self._key, name)).compile(dialect=conn.dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            # The statement's own values (``verdict = ''``) are bound as written; only the
            # keys change from call to call.
            found = self._compiled[name] = (str(compiled), dict(compiled.params), order)
        return found

    def all(self, conn: Connection, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        """The rows for ``keys``."""
        sql, fixed, order = self._for(conn)
        value: Any = list(keys) if conn.dialect.name == "postgresql" else json.dumps(list(keys))
        params = {**fixed, "keys": value}
        cursor = _driver_cursor(conn)
        try:
            cursor.execute(sql, params if order is None else tuple(params[n] for n in order))
            return [tuple(row) for row in cursor.fetchall()]
        except conn.dialect.loaded_dbapi.Error as exc:
            _raise_database_error(conn, sql, exc)
        finally:
            cursor.close()
