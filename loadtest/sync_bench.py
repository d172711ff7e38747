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
   one thread, with the nodes' own ``sync.verification.verify_all`` (libsodium, through
   PyNaCl, since issue 14), and, for comparison with figures taken before, with
   ``cryptography``'s OpenSSL, which the nodes verified with until then;
3. starts the city (620100) as its own process, then the county as its own process pointed at
   it, and times from the county's start until the city holds the county's whole chain,
   counted in its tickets table (verified, stored and projected), while printing progress;
4. prints one JSON line: events, seconds, events per second, raw verification rate, ratio,
   the city's peak memory, and whether the targets (ratio >= 1.0, catch-up < 10 s) were met;
   the ratio is taken against the library the nodes verify with (``ratio_cryptography``:
   against OpenSSL, the reference of the figures before issue 14); and the CPU the city's
   main process and its verifying worker spent per event during the catch-up, with the
   share of the machine other processes took meanwhile (Linux ``/proc``), which stay
   comparable on a machine that is not idle.

Exit status: 0 when the run was valid (every event arrived), whether or not targets were met;
1 with a one-line reason when it was not.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from core.officers import Role
from core.ticket.commands import RegisterTicket
from core.units import UnitLevel
from loadtest.harness import (
    BenchError,
    last_line,
    machine,
    now_ms,
    offline_node,
    python_version,
    receiving_city,
    say,
    scratch_folder,
)
from loadtest.measuring import machine_cpu_seconds, peak_rss_mib, process_cpu_seconds
from node.app.runtime import Node
from node.devnet.hierarchy import Hierarchy
from node.devnet.officers import system_admin_id
from node.devnet.processes import NodeProcess
from node.devnet.samples import random_ticket
from node.edge.client import NodeClient
from sync import schema
from sync.envelope import SIGNING_CONTEXT
from sync.verification import verify_all

COUNTY, CITY = "620102", "620100"
OFFICER = "620102-07"

SignedEvent = tuple[bytes, bytes]
"""An event as stored: its envelope and its signature."""


def _own_ticket(rng: random.Random) -> RegisterTicket:
    """A random complaint against a business of the county itself: one for another county
    would be forwarded with its registration (转办, a second event)."""
    while True:
        ticket = random_ticket(rng)
        if ticket.respondent.operating_region == COUNTY:
            return ticket


async def _register_backlog(county: Node, events: int) -> None:
    """Register ``events`` tickets at the offline county, one signed event each."""
    county.roster.save_officer(OFFICER, "李强", COUNTY, frozenset({Role.HANDLER}))
    rng = random.Random(315)
    window = 512  # registrations in flight: the writer commits them in groups
    done = 0
    while done < events:
        size = min(window, events - done)
        await asyncio.gather(
            *(
                county.intake.register(uuid.uuid4().hex, _own_ticket(rng), OFFICER)
                for _ in range(size)
            )
        )
        done += size


def _backlog(folder: Path, hierarchy: Hierarchy, events: int) -> tuple[list[SignedEvent], bytes]:
    """Build the backlog at an offline county in ``folder``; its signed events and their key."""
    say(f"building a backlog of {events} signed events at county {COUNTY} ...")
    started = time.perf_counter()
    with offline_node(folder, hierarchy, COUNTY) as county:
        asyncio.run(_register_backlog(county, events))
        say(f"  built in {time.perf_counter() - started:.1f}s")
        return _signed_events(county), county.identity.public.public_key


def _signed_events(county: Node) -> list[SignedEvent]:
    """Every event the county holds, as stored (envelope and signature)."""
    with county.db.read() as conn:
        rows = conn.execute(select(schema.events.c.envelope, schema.events.c.signature)).all()
    return [(envelope, signature) for envelope, signature in rows]


def _raw_verify_rate(signed: list[SignedEvent], event_key: bytes) -> tuple[int, float]:
    """Verify every signature once on one thread as the nodes do; (count, per second)."""
    started = time.perf_counter()
    verdicts = verify_all([(event_key, signature, envelope) for envelope, signature in signed])
    rate = len(signed) / (time.perf_counter() - started)
    if not all(verdicts):
        raise BenchError("a signature of the backlog does not verify")
    return len(signed), rate


def _openssl_verify_rate(signed: list[SignedEvent], event_key: bytes) -> float:
    """Verify every signature once on one thread with ``cryptography``; per second."""
    key = Ed25519PublicKey.from_public_bytes(event_key)
    started = time.perf_counter()
    for envelope, signature in signed:
        key.verify(signature, SIGNING_CONTEXT + envelope)
    return len(signed) / (time.perf_counter() - started)


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux; none elsewhere): the city's verifying worker."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@dataclass
class CatchUpCpu:
    """CPU seconds spent during the catch-up: the city's main process, its worker processes,
    the county, and the whole machine (the rest is other work on it)."""

    city: float = 0.0
    workers: float = 0.0
    county: float = 0.0
    machine: float = 0.0
    wall: float = 0.0

    def figures(self, events: int) -> dict[str, float]:
        """The JSON fields: µs of CPU per event, and other processes' share of all cores."""
        others = self.machine - self.city - self.workers - self.county
        cores = os.cpu_count() or 1
        return {
            "city_main_cpu_us_per_event": round(1e6 * self.city / events, 1),
            "city_worker_cpu_us_per_event": round(1e6 * self.workers / events, 1),
            "county_cpu_s": round(self.county, 2),
            "other_cpu_pct": round(100 * max(others, 0.0) / (self.wall * cores), 1),
        }


def _held_tickets(city: NodeClient) -> int:
    return int(city.info().tickets)


def _catch_up(
    city: NodeProcess, county: NodeProcess, count: int, timeout: float, cpu: CatchUpCpu
) -> float:
    """Start the county and wait until the city holds ``count`` more tickets; the seconds.

    Progress is printed every second; a ``BenchError`` says how far it got by ``timeout``.
    ``cpu`` gets the CPU the processes spent meanwhile (the worker, started during the
    catch-up, with its start).
    """
    city_pid = city.process.pid if city.process else 0
    with city.client(system_admin_id(city.unit)) as city_client:
        before = _held_tickets(city_client)
        city0, machine0 = process_cpu_seconds(city_pid), machine_cpu_seconds()[0]
        t0 = time.perf_counter()
        county.start()
        held, last_print = before, 0.0
        while held - before < count:
            elapsed = time.perf_counter() - t0
            if elapsed > timeout:
                raise BenchError(
                    f"only {held - before} of {count} events arrived in {timeout:.0f}s"
                )
            if elapsed - last_print >= 1.0:
                last_print = elapsed
                done = held - before
                bar = "#" * int(30 * done / count)
                say(f"  catching up [{bar:<30}] {done:>6}/{count} events  {elapsed:5.1f}s")
            time.sleep(0.2)
            held = _held_tickets(city_client)
        seconds = time.perf_counter() - t0
        cpu.city = process_cpu_seconds(city_pid) - city0
        cpu.workers = sum(process_cpu_seconds(p) for p in _children(city_pid))
        cpu.county = process_cpu_seconds(county.process.pid) if county.process else 0.0
        cpu.machine, cpu.wall = machine_cpu_seconds()[0] - machine0, seconds
        return seconds


def run_sync_bench(*, events: int = 50_000, batch: int = 1000, timeout: float = 600.0) -> int:
    """Run the benchmark; prints progress, a summary and a final JSON line."""
    with scratch_folder("sync") as root:
        hierarchy = Hierarchy.open(root / "pki", now_ms())
        county_dir = root / "county"
        signed, event_key = _backlog(county_dir, hierarchy, events)
        try:
            count, raw_rate = _raw_verify_rate(signed, event_key)
        except BenchError as exc:
            print(f"hotline: bench sync: {exc}", file=sys.stderr)
            return 1
        openssl_rate = _openssl_verify_rate(signed, event_key)
        del signed
        say(
            f"raw Ed25519 verification, one thread: {raw_rate:,.0f} signatures/s as the nodes"
            f" verify (libsodium), {openssl_rate:,.0f}/s with OpenSSL"
        )

        city = receiving_city(root / "city", hierarchy, CITY)
        county = NodeProcess(
            "county",
            UnitLevel.COUNTY,
            COUNTY,
            county_dir,
            parent=city,
            sync_interval=0.2,
            extra_args=("--sync-batch", str(batch)),
        )
        try:
            city.start()
            cpu = CatchUpCpu()
            seconds = _catch_up(city, county, count, timeout, cpu)
            city_pid = city.process.pid if city.process else 0
            city_peak_rss = peak_rss_mib(city_pid)
        except BenchError as exc:
            print(f"hotline: bench sync: {exc}", file=sys.stderr)
            return 1
        finally:
            county.stop()
            city.stop()
    rate = count / seconds
    result = {
        "benchmark": "sync",
        "events": count,
        "seconds": round(seconds, 2),
        "events_per_s": round(rate),
        "raw_verify_per_s": round(raw_rate),
        "ratio": round(rate / raw_rate, 3),
        "raw_verify_openssl_per_s": round(openssl_rate),
        "ratio_cryptography": round(rate / openssl_rate, 3),
        **cpu.figures(count),
        "city_peak_rss_mib": round(city_peak_rss, 1),
        "batch": batch,
        "targets_met": rate / raw_rate >= 1.0 and seconds < 10.0,
        "machine": f"{machine()}, Python {python_version()}",
    }
    say(
        f"city took in {count} events in {seconds:.1f}s: {rate:,.0f} events/s, "
        f"{result['ratio']}x the raw verification rate"
    )
    last_line(result)
    return 0
