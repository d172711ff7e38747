"""How long the personal-data jobs' searches take on a big store with nothing to do.

Why this exists: every sweep interval (30 s) the look-up re-keying job
(``node.jobs.lookup_rekey``) and the data-key re-wrapping job (``node.jobs.rewrap``) look for
work. Until 2026-12-04 both read every seal to find none: the first an anti-join of the seals
against the look-ups, the second every seal not under the active key. This probe fills a fresh
database with ``N`` seals and their look-ups, all current (SQL only: no node, no cryptography),
and times each search three times, as it was (the SQL kept here) and as it is now (the jobs'
own code), on SQLite or PostgreSQL::

    python -m loadtest.seal_searches sqlite:////tmp/seals.db 1000000
    python -m loadtest.seal_searches postgresql://postgres@127.0.0.1:5432/DATABASE 1000000

The database (empty, or a SQLite file not there yet) is migrated and filled; drop it after.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sized
from typing import Any

from sqlalchemy import Connection, or_, select, text

from node.jobs.lookup_rekey import LookupRekey
from node.jobs.rewrap import DataKeyRewrap
from node.storage.database import Database
from sync.schema import personal_lookups, personal_seals

KEY = "L1"
"""The look-up key in force; every look-up row is under it."""
ACTIVE, RETIRED = "k1", "k0"
"""The active key-encryption key (every seal's) and one retired key the ring still holds."""

_FILL = {
    "postgresql": (
        "INSERT INTO personal_seals SELECT 't' || lpad(i::text, 8, '0'), 'international', "
        "'\\x00'::bytea, '\\x00'::bytea, '\\x00'::bytea, :kek, '\\x00'::bytea, i "
        "FROM generate_series(1, :n) i",
        "INSERT INTO personal_lookups SELECT 't' || lpad(i::text, 8, '0'), :key, 'p', 'd' "
        "FROM generate_series(1, :n) i",
    ),
    "sqlite": (
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
        "INSERT INTO personal_seals SELECT printf('t%08d', i), 'international', x'00', x'00', "
        "x'00', :kek, x'00', i FROM s",
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
        "INSERT INTO personal_lookups SELECT printf('t%08d', i), :key, 'p', 'd' FROM s",
    ),
}


def _rekey_search_before(conn: Connection) -> list[Any]:
    seals, lookups = personal_seals.c, personal_lookups.c
    joined = personal_seals.outerjoin(personal_lookups, lookups.ticket_id == seals.ticket_id)
    return list(
        conn.execute(
            select(seals.ticket_id)
            .select_from(joined)
            .where(or_(lookups.key_id.is_(None), lookups.key_id != KEY))
            .order_by(seals.ticket_id)
            .limit(500)
        )
    )


def _rewrap_search_before(conn: Connection) -> list[Any]:
    c = personal_seals.c
    return list(
        conn.execute(select(c.ticket_id).where(c.kek_id != ACTIVE).order_by(c.ticket_id).limit(500))
    )


class _Key:
    def __init__(self, kek_id: str) -> None:
        self.kek_id = kek_id


class _Ring:
    """The part of a key ring the re-wrapping job's search reads."""

    active = _Key(ACTIVE)

    def all(self) -> tuple[_Key, ...]:
        return (_Key(RETIRED), self.active)


class _Wrapping:
    ring = _Ring()


def _timed(label: str, search: Callable[[], Sized]) -> str:
    took = []
    found = 0
    for _ in range(3):
        started = time.perf_counter()
        found = len(search())
        took.append((time.perf_counter() - started) * 1000)
    runs = ", ".join(f"{t:.1f}" for t in took)
    return f"{label}: best {min(took):.1f} ms (runs {runs}), found {found}"


def probe(url: str, count: int) -> list[str]:
    """Fill the database at ``url`` with ``count`` current seals; one line per search timed."""
    db = Database.open(url)
    try:
        seal_sql, lookup_sql = _FILL[db.backend]
        with db.write() as conn:
            conn.execute(text(seal_sql), {"n": count, "kek": ACTIVE})
            conn.execute(text(lookup_sql), {"n": count, "key": KEY})
        with db.write() as conn:
            conn.execute(text("ANALYZE"))
        # Only the searches run: no shelf, writer or pool is needed.
        rekey = LookupRekey(None, db.read, None, None)  # type: ignore[arg-type]
        rewrap = DataKeyRewrap(_Wrapping(), db.read, None, None)  # type: ignore[arg-type]
        where = f"{db.backend}, {count:,} seals"
        with db.read() as conn:
            lines = [
                _timed(f"{where}: re-key search before", lambda: _rekey_search_before(conn)),
                _timed(f"{where}: re-wrap search before", lambda: _rewrap_search_before(conn)),
            ]
        lines.append(_timed(f"{where}: re-key search now", lambda: rekey._pending(KEY)))
        lines.append(_timed(f"{where}: re-wrap search now", lambda: rewrap._pending(ACTIVE)))
        return lines
    finally:
        db.close()


def main(argv: list[str]) -> int:
    """``python -m loadtest.seal_searches URL N``: print the timings."""
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m loadtest.seal_searches DATABASE_URL SEALS", file=sys.stderr)
        return 2
    for line in probe(argv[0], int(argv[1])):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
