"""Throw-away databases for tests: fresh PostgreSQL databases, and whether a server answers.

PostgreSQL is reached at ``HOTLINE_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432``).
Each database gets a random name, so tests running in parallel (pytest-xdist workers, or two
engineers' runs on one server) never share one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

PG_ADMIN = os.environ.get("HOTLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REQUIRE_PG = os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1"
"""CI sets ``HOTLINE_REQUIRE_POSTGRES=1``: PostgreSQL tests fail there instead of skipping."""

DbUrlFactory = Callable[[], str]
"""Makes a fresh, empty database on one backend at each call; returns its SQLAlchemy URL."""


def pg_url(name: str) -> str:
    """The SQLAlchemy URL of the database ``name`` on the test server."""
    return f"{PG_ADMIN.replace('postgresql://', 'postgresql+psycopg://')}/{name}"


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when its server answers."""
    try:
        with psycopg.connect(f"{PG_ADMIN}/postgres", connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN}: {str(exc).strip().splitlines()[0]}"


@dataclass
class PostgresDatabases:
    """Creates throw-away PostgreSQL databases and drops them at the end."""

    created: list[str] = field(default_factory=list)

    def new(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = f"hotline_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return pg_url(name)

    def drop_all(self) -> None:
        """Drop every database this object made."""
        with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
