"""A PostgreSQL database made for one benchmark run and dropped after it.

Why this exists: a hub "points at PostgreSQL with one URL" (docs/DESIGN.md rule 8), and every
intake figure must exist for both stores. A run gets a database of its own on the server the
operator names, so it starts empty, cannot disturb another run or a test, and leaves nothing
behind, whether it ends, fails or is interrupted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from loadtest.harness import BenchError


def drop_database(admin: str, name: str) -> None:
    """Drop the database ``name`` on the server at ``admin`` (its connections are ended)."""
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(admin: str, benchmark: str) -> Iterator[tuple[str, str]]:
    """A new empty database on the server at ``admin`` (``postgresql://user@host:port``, no
    database name): yields its name and its URL; dropped when the block ends."""
    admin = admin.rstrip("/")
    name = f"hotline_bench_{benchmark}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        raise BenchError(f"cannot make a database on {admin}: {reason}") from exc
    try:
        yield name, f"{admin}/{name}"
    finally:
        drop_database(admin, name)
