"""The node's database: engines for SQLite (WAL) or PostgreSQL, migrations, read snapshots.

A node gets two engines on one URL. The *write* engine is used only by the log writer thread;
on SQLite its transactions start with ``BEGIN IMMEDIATE`` so the writer takes the lock at once
instead of failing half-way on upgrade. The *read* engine serves queries from any thread; on
SQLite in WAL mode readers see a consistent snapshot and never block the writer. SQLite runs
with ``synchronous=FULL``: a commit reported done is on disk.

The schema is created and upgraded by Alembic (``node/migrations``), never by ``create_all``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from sync.errors import StorageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and a bare file path for SQLite."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    return url


def _sqlite_setup(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, for_writer: bool) -> Engine:
    """An engine for ``url``; the writer's engine takes SQLite's write lock at BEGIN."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool if ":memory:" in url else None)
        _sqlite_setup(engine, immediate=for_writer)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5 if for_writer else 10)


def migrate(url: str) -> None:
    """Bring the schema at ``url`` up to the latest Alembic revision."""
    engine = make_engine(url, for_writer=True)
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()


@dataclass
class Database:
    """The engines of one node's database."""

    url: str
    writer_engine: Engine
    reader_engine: Engine

    @classmethod
    def open(cls, url: str, *, run_migrations: bool = True) -> Database:
        """Open (and by default migrate) the database at ``url``."""
        url = normalize_url(url)
        if run_migrations:
            try:
                migrate(url)
            except SQLAlchemyError as exc:
                raise StorageError(f"cannot prepare the database {url}: {exc}") from exc
        return cls(url, make_engine(url, for_writer=True), make_engine(url, for_writer=False))

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.writer_engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot; driver errors surface as ``StorageError``."""
        try:
            with self.reader_engine.connect() as conn, conn.begin():
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"database read failed: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction for set-up work outside the log writer (roster, units)."""
        try:
            with self.writer_engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"database write failed: {exc}") from exc

    def close(self) -> None:
        """Release both engines' connections."""
        self.writer_engine.dispose()
        self.reader_engine.dispose()
