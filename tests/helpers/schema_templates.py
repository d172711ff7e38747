"""Databases at the latest schema, copied from one migrated template instead of migrated anew.

Why this exists: every node of a test world migrates its empty database through all of the
schema's revisions when it opens it (about 0.06 s on SQLite and 0.17 s on PostgreSQL here),
and the suite starts thousands of such nodes. A test session (each pytest-xdist worker) now
migrates one template per backend, once, and each world's database starts as a copy of it: a
file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (about 0.03 s). The node
still runs its migrations when it opens the copy, finding nothing left to do. Migrating from
empty is still tested where it is the subject: tests that take ``db_url``/``db_urls`` directly
get empty databases, as do the node processes of the end-to-end tests.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from node.storage.database import migrate
from tests.helpers.databases import PG_ADMIN, DbUrlFactory, pg_url

_SQLITE = "sqlite:///"


@dataclass
class SchemaTemplates:
    """One migrated template per backend for a test session, made at first use."""

    folder: Path
    _sqlite: Path | None = None
    _postgres: str = ""

    def copies(self, fresh: DbUrlFactory) -> DbUrlFactory:
        """A factory like ``fresh`` whose databases already hold the latest schema."""

        def made() -> str:
            url = fresh()
            if url.startswith(_SQLITE):
                self._copy_sqlite(Path(url[len(_SQLITE) :]))
            else:
                self._copy_postgres(url.rsplit("/", 1)[1])
            return url

        return made

    def _copy_sqlite(self, path: Path) -> None:
        if self._sqlite is None:
            template = self.folder / "template.sqlite"
            migrate(f"{_SQLITE}{template}")
            self._sqlite = template
        # The backup API copies a consistent database whatever its journal holds.
        source, target = sqlite3.connect(self._sqlite), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()

    def _copy_postgres(self, name: str) -> None:
        """Make the (empty, unused) database ``name`` again as a copy of the template."""
        if not self._postgres:
            template = f"hotline_template_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{template}"')
            self._postgres = template
            migrate(pg_url(template))
        with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._postgres}"')

    def drop(self) -> None:
        """Drop the PostgreSQL template, if one was made."""
        if self._postgres:
            with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._postgres}" WITH (FORCE)')
            self._postgres = ""
