"""How big the node under a benchmark has grown: its memory, its database and its WAL.

Why this exists: a node that is fast with ten thousand tickets and stalls with a million
stalls because something grew (the heap the collector walks, a WAL file a checkpoint must
copy back, a table a query scans). Sampled next to each window of latency, the sizes say what
was growing when a window went slow. SQLite is measured by its files; PostgreSQL by
``pg_database_size`` and the WAL written since sampling began (``pg_current_wal_lsn``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg

from loadtest.call_loops import Sampler
from loadtest.measuring import (
    StoreSample,
    machine_cpu_seconds,
    process_cpu_seconds,
    resident_mib,
)

MIB = 1024.0 * 1024.0


def _file_mib(path: Path) -> float:
    try:
        return path.stat().st_size / MIB
    except OSError:
        return 0.0


def sqlite_sampler(pid: int, database: Path) -> Sampler:
    """Samples process ``pid``'s memory and the SQLite file ``database`` with its ``-wal``."""
    wal = database.with_name(database.name + "-wal")

    async def sample(at: float) -> StoreSample:
        return StoreSample(
            at,
            resident_mib(pid),
            _file_mib(database),
            _file_mib(wal),
            process_cpu_seconds(pid),
            machine_cpu_seconds()[0],
        )

    return sample


def postgres_sampler(pid: int, url: str) -> Sampler:
    """Samples process ``pid``'s memory and the PostgreSQL database at ``url`` (psycopg form,
    ``postgresql://``): its size, and the WAL the server wrote since the first sample."""
    first_lsn: list[int] = []

    def read() -> tuple[float, float]:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT pg_database_size(current_database()), "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"
            ).fetchone()
        assert row is not None
        size, lsn = int(row[0]), int(row[1])
        if not first_lsn:
            first_lsn.append(lsn)
        return size / MIB, (lsn - first_lsn[0]) / MIB

    read()  # the WAL is counted from here

    async def sample(at: float) -> StoreSample:
        server_cpu, machine_cpu = process_cpu_seconds(pid), machine_cpu_seconds()[0]
        database_mib, wal_mib = await asyncio.to_thread(read)
        return StoreSample(at, resident_mib(pid), database_mib, wal_mib, server_cpu, machine_cpu)

    return sample
