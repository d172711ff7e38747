"""``hotline bench hubs``: what a ticket costs a province hub on PostgreSQL, with 1..N processes.

Why this exists: docs/scaling.md sizes a province (1 million tickets a year) and the national
node (30 million) from per-ticket costs, and says where one node stops scaling. Those costs
must come from a command, not from guesses. For each process count from 1 to ``--hubs`` this
starts the province hub that many times on one fresh PostgreSQL database and one data folder
(as docs/scaling.md runs it), drives RegisterTicket through one client target naming all the
processes (round-robin), and measures:

* the peak (closed loop, ``--clients`` callers) and the latency at half that rate (open loop,
  paced: each latency from its scheduled arrival, so queueing is counted);
* CPU milliseconds per ticket: of the hub processes together, and of the PostgreSQL backends
  serving them (read from ``/proc``: the server must run on this machine);
* what a ticket leaves in the database: WAL bytes, rows per table, bytes on disk per table
  (WAL is counted for the whole server: other databases' writes meanwhile are counted too);
* the writer's group size (jobs per transaction, from the hubs' metrics): every writer
  transaction of the node holds its own-chain head row locked to its commit, so the node's
  write rate is transactions per second times jobs per transaction;
* that lock's ceiling: bare transactions per second that lock one row, update it and commit,
  from several connections, on this server (``lock_ceiling``).

On a two-core machine a second process adds no throughput (the client, two hubs and the
database share the same two cores); the figures that carry over to other machines are the
per-ticket costs and the lock ceiling. The last line is one JSON object; exit 0 when every call
succeeded and every ticket is held, 1 with a one-line reason otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from core.officers import Role
from core.units import UnitLevel
from loadtest.call_loops import Metadata, RawCall, closed_loop, open_loop
from loadtest.harness import (
    UNREACHABLE_PARENT,
    BenchError,
    last_line,
    machine,
    now_ms,
    python_version,
    say,
    scratch_folder,
)
from loadtest.hub import HUB_UNIT, start_hub
from loadtest.intake_bench import OFFICER_ID, OFFICER_NAME, REGISTER_METHOD, TicketRequests
from loadtest.measuring import PhaseResult, machine_cpu_seconds, process_cpu_seconds
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess
from node.edge.channels import client_aio_channel
from node.edge.client import token_metadata

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
TABLES = (
    "events",
    "tickets",
    "obligations",
    "ticket_signals",
    "ticket_requests",
    "personal_seals",
    "personal_lookups",
    "feed",
)
"""The tables a registration writes to, reported row by row."""


# -- the database server ---------------------------------------------------------------------


@contextmanager
def fresh_database(admin: str) -> Iterator[tuple[str, str]]:
    """A new, empty database on the server at ``admin``: (its name, its SQLAlchemy URL)."""
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"{admin.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_state(admin: str, name: str) -> dict[str, Any]:
    """WAL position, database size and the backends serving ``name`` (with their CPU)."""
    with psycopg.connect(f"{admin}/{name}", autocommit=True) as conn:
        wal = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        mine = conn.execute("SELECT pg_backend_pid()").fetchone()
        pids = [
            int(row[0])
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            )
        ]
    assert wal is not None and size is not None and mine is not None
    backends = {pid: _cpu_or_none(pid) for pid in pids if pid != mine[0]}
    return {"wal": int(wal[0]), "size": int(size[0]), "backends": backends}


def _cpu_or_none(pid: int) -> float | None:
    try:
        return process_cpu_seconds(pid)
    except OSError:  # not on this machine, or already gone
        return None


def backend_cpu(
    before: Mapping[int, float | None], after: Mapping[int, float | None]
) -> float | None:
    """CPU seconds the backends used between two readings (None: the server is not local)."""
    if not after or all(v is None for v in after.values()):
        return None
    return sum((a or 0.0) - (before.get(pid) or 0.0) for pid, a in after.items() if a is not None)


def table_figures(admin: str, name: str) -> dict[str, dict[str, int]]:
    """Rows and bytes on disk (with indexes and TOAST) of the tables a registration writes."""
    figures: dict[str, dict[str, int]] = {}
    with psycopg.connect(f"{admin}/{name}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        for table in TABLES:
            rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            size = conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()
            assert rows is not None and size is not None
            figures[table] = {"rows": int(rows[0]), "bytes": int(size[0])}
    return figures


def lock_ceiling(admin: str, name: str, seconds: float, connections: int = 4) -> dict[str, float]:
    """Transactions per second that each lock a row (``FOR UPDATE``), update it and commit,
    from ``connections`` connections at once: all on one row, as every writer transaction of
    one node locks its head row (the most the node's writers get through on this server,
    whatever the number of processes), and each on a row of its own, where the server's group
    commit lets commits share a WAL flush (what the lock gives away)."""
    with psycopg.connect(f"{admin}/{name}", autocommit=True) as conn:
        conn.execute("CREATE TABLE lock_probe (id int PRIMARY KEY, n bigint NOT NULL)")
        conn.execute(
            "INSERT INTO lock_probe SELECT g, 0 FROM generate_series(0, %s) g", (connections,)
        )
    return {
        "one_row_per_s": _probe(admin, name, seconds, connections, shared_row=True),
        "own_rows_per_s": _probe(admin, name, seconds, connections, shared_row=False),
        "connections": connections,
    }


def _probe(admin: str, name: str, seconds: float, connections: int, *, shared_row: bool) -> float:
    counts = [0] * connections
    stop_at = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        row = 0 if shared_row else slot + 1
        with psycopg.connect(f"{admin}/{name}") as conn:
            while time.perf_counter() < stop_at:
                conn.execute("SELECT n FROM lock_probe WHERE id = %s FOR UPDATE", (row,))
                conn.execute("UPDATE lock_probe SET n = n + 1 WHERE id = %s", (row,))
                conn.commit()
                counts[slot] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return round(sum(counts) / (time.perf_counter() - started), 1)


# -- the hub processes -----------------------------------------------------------------------


def metrics_port(node: NodeProcess) -> int:
    """The metrics port the process just started wrote in the shared port file."""
    return int(json.loads((node.data_dir / "port").read_text(encoding="utf-8"))["metrics_port"])


def group_sizes(ports: list[int]) -> tuple[float, float]:
    """Writer jobs and writer transactions so far, summed over the processes' metrics."""
    jobs = transactions = 0.0
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            for line in answer.read().decode("utf-8").splitlines():
                if line.startswith("hotline_writer_group_size_sum"):
                    jobs += float(line.rsplit(" ", 1)[1])
                elif line.startswith("hotline_writer_group_size_count"):
                    transactions += float(line.rsplit(" ", 1)[1])
    return jobs, transactions


@contextmanager
def hub_processes(
    root: Path, db_url: str, count: int
) -> Iterator[tuple[list[NodeProcess], list[int]]]:
    """The province hub started ``count`` times on one folder and one database; each
    process's metrics port. All are stopped when the block ends."""
    first = NodeProcess(
        name="province-1",
        level=UnitLevel.PROVINCE,
        unit=HUB_UNIT,
        data_dir=root / "province",
        db_url=db_url,
        extra_args=("--parent", UNREACHABLE_PARENT, "--metrics-port", "0"),
        hierarchy=Hierarchy.open(root / "pki", now_ms()),
    )
    processes: list[NodeProcess] = []
    try:
        start_hub(first)
        processes.append(first)
        ports = [metrics_port(first)]
        first.add_officer(OFFICER_ID, OFFICER_NAME, (Role.OPERATOR,))
        for number in range(2, count + 1):
            sibling = first.sibling(f"province-{number}")
            start_hub(sibling)
            processes.append(sibling)
            ports.append(metrics_port(sibling))
        yield processes, ports
    finally:
        for process in reversed(processes):
            process.stop()


# -- one run ---------------------------------------------------------------------------------


async def drive(
    target: str, root: bytes, token: str, pid: int, seconds: float, clients: int
) -> tuple[PhaseResult, PhaseResult]:
    """Warm up, then the peak (closed loop) and half its rate (open loop) through ``target``."""
    officer: Metadata = token_metadata(token)
    requests = TicketRequests()
    async with client_aio_channel(target, root, unit=HUB_UNIT) as channel:
        register: RawCall = channel.unary_unary(REGISTER_METHOD, None, None)
        await channel.channel_ready()
        requests.prepare(clients * 20)
        await closed_loop(
            "warm-up", register, requests.take, clients=clients, seconds=2.0,
            metadata=officer, server_pid=pid,
        )  # fmt: skip
        requests.prepare(int(400 * seconds) + clients)
        peak = await closed_loop(
            "RegisterTicket peak (closed loop)", register, requests.take, clients=clients,
            seconds=seconds, metadata=officer, server_pid=pid,
        )  # fmt: skip
        say(peak.summary())
        half = await open_loop(
            "RegisterTicket at half the peak (open loop)", register, requests.take,
            rate=max(1.0, peak.rate / 2), seconds=seconds, metadata=officer, server_pid=pid,
        )  # fmt: skip
        say(half.summary())
    return peak, half


def run_one(admin: str, root: Path, count: int, seconds: float, clients: int) -> dict[str, Any]:
    """One process count on a fresh database; its figures."""
    with (
        fresh_database(admin) as (name, url),
        hub_processes(root / f"n{count}", url, count) as (
            processes,
            ports,
        ),
    ):
        first = processes[0]
        target = "ipv4:" + ",".join(p.target for p in processes)
        with first.client(OFFICER_ID) as operator:
            token, hub_root = operator.token, operator.root
        pids = [p.process.pid for p in processes if p.process is not None]
        state0, jobs0 = server_state(admin, name), group_sizes(ports)
        hubs0, (machine0, _) = [process_cpu_seconds(p) for p in pids], machine_cpu_seconds()
        peak, half = asyncio.run(drive(target, hub_root, token, pids[0], seconds, clients))
        hubs1, (machine1, _) = [process_cpu_seconds(p) for p in pids], machine_cpu_seconds()
        state1, jobs1 = server_state(admin, name), group_sizes(ports)
        for process in processes:
            if not process.running:
                raise BenchError(f"hub process {process.name} died during the run")
        if peak.errors or half.errors:
            codes = peak.error_codes + half.error_codes
            raise BenchError(f"{peak.errors + half.errors} call(s) failed: {dict(codes)}")
        tables = table_figures(admin, name)
        ceiling = lock_ceiling(admin, name, min(seconds, 5.0))
    tickets = peak.calls + half.calls
    held = tables["tickets"]["rows"]
    hub_cpu = sum(hubs1) - sum(hubs0)
    pg_cpu = backend_cpu(state0["backends"], state1["backends"])
    elapsed = peak.elapsed + half.elapsed
    transactions = jobs1[1] - jobs0[1]
    return {
        "hubs": count,
        "peak_tickets_per_s": round(peak.rate, 1),
        "peak_p99_ms": round(peak.ms(99), 1),
        "half_rate_per_s": round(half.rate, 1),
        "half_rate_p50_ms": round(half.ms(50), 1),
        "half_rate_p99_ms": round(half.ms(99), 1),
        "tickets_measured": tickets,
        "tickets_held": held,
        "hub_cpu_ms_per_ticket": round(hub_cpu * 1000 / tickets, 2),
        "pg_cpu_ms_per_ticket": round(pg_cpu * 1000 / tickets, 2) if pg_cpu is not None else None,
        "other_cpu_pct": round(
            max(
                0.0,
                (machine1 - machine0)
                - hub_cpu
                - (pg_cpu or 0.0)
                - peak.client_cpu
                - half.client_cpu,
            )
            / elapsed
            * 100,
            1,
        ),
        "wal_bytes_per_ticket": round((state1["wal"] - state0["wal"]) / tickets),
        # The database's growth over the phases (the empty schema's size left out).
        "db_growth_bytes_per_ticket": round((state1["size"] - state0["size"]) / tickets),
        "rows_per_ticket": {t: round(f["rows"] / held, 2) for t, f in tables.items()}
        if held
        else {},
        "bytes_per_ticket": {t: round(f["bytes"] / held) for t, f in tables.items()}
        if held
        else {},
        "jobs_per_writer_transaction": round((jobs1[0] - jobs0[0]) / transactions, 2)
        if transactions
        else None,
        "writer_transactions_per_s": round(transactions / elapsed, 1),
        "head_lock_ceiling": ceiling,
    }


def run_hub_scale_bench(
    *, pg: str = "", hubs: int = 2, seconds: float = 10.0, clients: int = 32
) -> int:
    """Run 1..``hubs`` processes in turn; print summaries and a final JSON line; exit status."""
    if hubs < 1 or clients < 1 or not seconds > 0:
        print(
            "hotline: bench hubs: --hubs, --clients and --seconds must be positive", file=sys.stderr
        )
        return 2
    admin = (pg or os.environ.get("HOTLINE_TEST_PG", DEFAULT_PG)).rstrip("/")
    try:
        with psycopg.connect(f"{admin}/postgres", connect_timeout=5):
            pass
    except psycopg.Error as exc:
        print(f"hotline: bench hubs: PostgreSQL not reachable at {admin}: {exc}", file=sys.stderr)
        return 1
    runs = []
    try:
        with scratch_folder("hubs") as root:
            for count in range(1, hubs + 1):
                say(f"-- {count} hub process(es) on one PostgreSQL database, {clients} callers")
                runs.append(run_one(admin, root, count, seconds, clients))
                say(json.dumps(runs[-1], ensure_ascii=False))
    except BenchError as exc:
        print(f"hotline: bench hubs: {exc}", file=sys.stderr)
        return 1
    last_line(
        {
            "benchmark": "hubs",
            "machine": machine(),
            "python": python_version(),
            "seconds": seconds,
            "clients": clients,
            "runs": runs,
        }
    )
    return 0
