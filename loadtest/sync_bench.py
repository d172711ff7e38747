"""``hotline bench sync``: how fast a parent takes in a county's week-long offline backlog.

Why this exists: a county that was cut off for a week comes back with tens of thousands of
signed events, and its city must verify every signature, certificate and chain link, store the
events and fold them into tickets before the county's cases show up in the province's
queues. Verification is the cost that cannot be skipped, so the figure that matters is the
parent's ingest rate next to the raw Ed25519 verification rate of the same library on the same
machine in the same run: at a ratio of 1.0 the parent takes in events as fast as one core can
merely check their signatures, which it can only reach by verifying on one thread while
storing on another (see docs/benchmarks.md).

One run:

1. builds the backlog: a county node (620102, enrolled under a fresh test hierarchy) registers
   ``events`` tickets while its parent is unreachable: realistic complaints, each one signed
   event in the county's chain (the worst case for the parent: one ticket to fold per event);
2. measures the raw verification rate: every one of those signatures verified once more, on
   one thread, with the ``cryptography`` library the nodes use;
3. starts the city (620100) as its own process, then the county as its own process pointed at
   it, and times from the county's start until the city holds the county's whole chain,
   counted in its tickets table (verified, stored and projected), while printing progress;
4. prints one JSON line: events, seconds, events per second, raw verification rate, ratio,
   the city's peak memory, and whether the targets (ratio >= 1.0, catch-up < 10 s) were met.

Exit status: 0 when the run was valid (every event arrived), whether or not targets were met;
1 with a one-line reason when it was not.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.officers import Role
from core.units import UnitLevel
from node.app.levels import profile_of
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess
from node.devnet.samples import random_ticket
from node.edge.client import NodeClient
from sync.envelope import SIGNING_CONTEXT

COUNTY, CITY = "620102", "620100"
OFFICER = "620102-07"


def _now_ms() -> int:
    return int(time.time() * 1000)


async def _build_backlog(data_dir: Path, hierarchy: Hierarchy, events: int) -> str:
    """Register ``events`` tickets at an offline county; returns its node id."""
    hierarchy.enrol(data_dir, COUNTY, _now_ms())
    settings = NodeSettings(
        level=UnitLevel.COUNTY, unit=COUNTY, data_dir=data_dir, parent="127.0.0.1:9"
    )
    node = build_node(settings, profile_of(UnitLevel.COUNTY))
    node.writer.start()
    try:
        node.roster.save_officer(OFFICER, "李强", COUNTY, frozenset({Role.HANDLER}))
        rng = random.Random(315)
        window = 512  # registrations in flight: the writer commits them in groups
        done = 0
        while done < events:
            size = min(window, events - done)
            await asyncio.gather(
                *(
                    node.intake.register(uuid.uuid4().hex, random_ticket(rng), OFFICER)
                    for _ in range(size)
                )
            )
            done += size
        return node.identity.node_id
    finally:
        node.writer.stop()
        node.verifier.close()
        node.blocking.close()
        node.db.close()


def _raw_verify_rate(db_path: Path, hierarchy_key: bytes) -> tuple[int, float]:
    """Verify every event signature of the backlog once on one thread; (count, per second)."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT envelope, signature FROM events").fetchall()
    key = Ed25519PublicKey.from_public_bytes(hierarchy_key)
    started = time.perf_counter()
    for envelope, signature in rows:
        key.verify(signature, SIGNING_CONTEXT + envelope)
    return len(rows), len(rows) / (time.perf_counter() - started)


def _peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _held_tickets(city: NodeClient) -> int:
    return int(city.info().tickets)


def run_sync_bench(*, events: int = 50_000, batch: int = 1000, timeout: float = 600.0) -> int:
    """Run the benchmark; prints progress, a summary and a final JSON line."""
    root = Path(tempfile.mkdtemp(prefix="hotline-bench-sync-"))
    processes: list[NodeProcess] = []
    try:
        hierarchy = Hierarchy.open(root / "pki", _now_ms())
        county_dir = root / "county"
        print(f"building a backlog of {events} signed events at county {COUNTY} ...", flush=True)
        started = time.perf_counter()
        asyncio.run(_build_backlog(county_dir, hierarchy, events))
        print(f"  built in {time.perf_counter() - started:.1f}s", flush=True)

        from sync.identity import NodeIdentity

        key = NodeIdentity.load_or_create(county_dir, COUNTY, UnitLevel.COUNTY).public.public_key
        count, raw_rate = _raw_verify_rate(county_dir / "node.db", key)
        print(f"raw Ed25519 verification, one thread: {raw_rate:,.0f} signatures/s", flush=True)

        city = NodeProcess(
            "city",
            UnitLevel.CITY,
            CITY,
            root / "city",
            hierarchy=hierarchy,
            parent_address="127.0.0.1:9",
            sync_interval=3600,
        )
        city.start()
        processes.append(city)
        county = NodeProcess(
            "county",
            UnitLevel.COUNTY,
            COUNTY,
            county_dir,
            parent=city,
            sync_interval=0.2,
            extra_args=("--sync-batch", str(batch)),
        )
        with NodeClient(city.target) as city_client:
            before = _held_tickets(city_client)
            t0 = time.perf_counter()
            county.start()
            processes.append(county)
            held, last_print = before, 0.0
            while held - before < count:
                elapsed = time.perf_counter() - t0
                if elapsed > timeout:
                    print(
                        f"hotline: bench sync: only {held - before} of {count} events arrived "
                        f"in {timeout:.0f}s",
                        file=sys.stderr,
                    )
                    return 1
                if elapsed - last_print >= 1.0:
                    last_print = elapsed
                    done = held - before
                    bar = "#" * int(30 * done / count)
                    print(
                        f"  catching up [{bar:<30}] {done:>6}/{count} events  {elapsed:5.1f}s",
                        flush=True,
                    )
                time.sleep(0.2)
                held = _held_tickets(city_client)
            seconds = time.perf_counter() - t0
        rate = count / seconds
        city_pid = city.process.pid if city.process else 0
        result = {
            "benchmark": "sync",
            "events": count,
            "seconds": round(seconds, 2),
            "events_per_s": round(rate),
            "raw_verify_per_s": round(raw_rate),
            "ratio": round(rate / raw_rate, 3),
            "city_peak_rss_mib": round(_peak_rss_mib(city_pid), 1),
            "batch": batch,
            "targets_met": rate / raw_rate >= 1.0 and seconds < 10.0,
            "machine": f"{platform.machine()} {os.cpu_count()} cores, Python "
            f"{platform.python_version()}",
        }
        print(
            f"city took in {count} events in {seconds:.1f}s: {rate:,.0f} events/s, "
            f"{result['ratio']}x the raw verification rate",
            flush=True,
        )
        print(json.dumps(result), flush=True)
        return 0
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(root, ignore_errors=True)
