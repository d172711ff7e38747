"""The node's database: engines for SQLite (WAL) or PostgreSQL, migrations, read snapshots.

A node gets two engines on one URL. The *write* engine is used only by the log writer thread;
on SQLite its transactions start with ``BEGIN IMMEDIATE`` so the writer takes the lock at once
instead of failing half-way on upgrade. The *read* engine serves queries from any thread; on
SQLite in WAL mode readers see a consistent snapshot and never block the writer. SQLite runs
with ``synchronous=FULL``: a commit reported done is on disk.

SQLite's write-ahead log must be copied back into the database now and then (a checkpoint).
Left to SQLite, the connection whose commit takes the log past ``wal_autocheckpoint`` pages
does it, inside that commit: the writer thread, with every caller of its group waiting. The
copy writes pages scattered over the whole file and syncs it, so it costs more as the
database grows (a stall every few seconds at a million tickets). A running node therefore
checkpoints on a thread of its own (``WalCheckpoints``), off the commit path, and the
writer's own automatic checkpoint is only a backstop for a log that grew large (a node run
without that thread, an offline tool). The writer also keeps a larger page cache than
SQLite's 2 MiB default, so the upper pages of its indexes stay in memory as they grow.

The schema is created and upgraded by Alembic (``node/migrations``), never by ``create_all``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from sync.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

WRITER_AUTOCHECKPOINT_PAGES = 16384
"""The writer checkpoints in its own commit only past this many log pages (64 MiB of 4 KiB
pages): the backstop; ``WalCheckpoints`` keeps the log far smaller on a running node."""

WRITER_CACHE_KIB = 65536
"""The writer connection's page cache (SQLite's default is 2 MiB)."""

CHECKPOINT_EVERY = 1.0
"""Seconds between two checkpoints by ``WalCheckpoints``."""


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
        if immediate:  # the writer's connection
            cur.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
            cur.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
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


class WalCheckpoints:
    """Checkpoints a SQLite database's write-ahead log on a thread of its own.

    Why: see the module's docstring; a checkpoint in the writer's commit stalls every caller
    of that group. A passive checkpoint here never waits for the writer or the readers: it
    copies what no reader still needs, and the writer starts the log over once all of it has
    been copied. SQLite drops the interpreter lock while it works, so the loop is not held.
    """

    def __init__(self, engine: Engine, every: float = CHECKPOINT_EVERY) -> None:
        self._engine = engine
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self.rounds = 0
        """Checkpoints run so far."""

    def start(self) -> None:
        """Start checkpointing every ``every`` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the checkpoint under way, if any."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def running(self) -> bool:
        """True while the thread is checkpointing."""
        return self._thread.is_alive()

    def run_once(self) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, log pages, pages copied), as SQLite reports it."""
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
        self.rounds += 1
        assert row is not None, "PRAGMA wal_checkpoint returns one row"
        busy, pages, copied = row
        return int(busy), int(pages), int(copied)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.run_once()
            except Exception as exc:  # the writer's own backstop still checkpoints
                log.warning("a WAL checkpoint failed (the writer's backstop remains): %s", exc)


@dataclass
class Database:
    """The engines of one node's database."""

    url: str
    writer_engine: Engine
    reader_engine: Engine
    checkpoints: WalCheckpoints | None = field(default=None, init=False)
    """Checkpointing off the commit path, once ``start_checkpoints`` was called (SQLite)."""

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

    def start_checkpoints(self, every: float = CHECKPOINT_EVERY) -> None:
        """Checkpoint a SQLite file's log on a thread of its own from now until ``close``;
        nothing for PostgreSQL or an in-memory database."""
        if self.backend != "sqlite" or ":memory:" in self.url or self.checkpoints is not None:
            return
        self.checkpoints = WalCheckpoints(self.reader_engine, every)
        self.checkpoints.start()

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
        """Stop checkpointing; release both engines' connections."""
        if self.checkpoints is not None:
            self.checkpoints.stop()
        self.writer_engine.dispose()
        self.reader_engine.dispose()
