"""``hotline loadtest storm``: many counties reconnect to one city at once while intake goes on.

Why this exists: after a network cut, a hub restart or on 3·15 morning every county of a city
comes back at the same moment, each with a backlog. The parent must take every backlog without
loss and keep answering its own call-takers meanwhile; it does so by pushing back (a bounded
number of pushes at once, ``sync.push_admission``; the others refused RESOURCE_EXHAUSTED with a
retry hint that ``sync.client.ParentLink`` honours, with jitter) rather than by falling over.

One run:

1. builds the backlogs: ``counties`` simulated counties (``loadtest.storm_counties``), each
   enrolled under a fresh test hierarchy, register ``events`` complaints while offline;
2. starts the city (620100) as its own process with ``--max-pushes``, and an operator who
   registers tickets there at ``intake_rate`` a second from a thread, timing each call;
3. starts ``workers`` processes, each building its share of the counties' nodes, and once
   all are built (``workers_ready_s``) lets every county reconnect at once (asyncio tasks in
   each process), until each county's whole chain is acknowledged or ``seconds`` pass; the
   storm's clock, and the intake window it is judged by, start at that moment;
4. checks: every county's chain held by the city to its last event (the parent's own answer,
   its heads after the push: chains are only taken link by link, so a head at the county's last
   sequence means the chain is whole), the city's tickets grown by every backlog plus every
   intake registration, intake p99 during the storm within ``p99_ms``; prints the figures and
   one JSON line.

Exit status: 0 when every check passed, 1 with the reasons otherwise.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
import uuid
from typing import Any

from core.officers import Role
from loadtest.harness import (
    last_line,
    machine,
    now_ms,
    python_version,
    receiving_city,
    say,
    scratch_folder,
)
from loadtest.measuring import percentile
from loadtest.node_metrics import rpc_figures
from loadtest.storm_counties import CITY, build_backlog, county_codes, reconnect_counties
from loadtest.surge_network import metrics_address
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess
from node.devnet.samples import random_ticket
from node.edge.client import NodeClient
from node.metrics.snapshot import MetricsSnapshot
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message

OPERATOR = "620100-01"


class IntakeProbe:
    """An operator at the city registering tickets at a steady rate, each call timed."""

    def __init__(self, client: NodeClient, rate: float) -> None:
        self._client = client
        self._interval = 1.0 / rate
        self._stop = threading.Event()
        self.latencies: list[tuple[float, float]] = []
        """(when sent, seconds) of each registration answered."""
        self.failures: dict[str, int] = {}
        self._thread = threading.Thread(target=self._run, name="intake-probe", daemon=True)

    def _run(self) -> None:
        import random

        rng = random.Random(12315)
        due = time.perf_counter()
        while not self._stop.is_set():
            ticket = to_message(random_ticket(rng), intake_pb2.NewTicket)
            sent = time.perf_counter()
            try:
                self._client.register(uuid.uuid4().hex, ticket, timeout=30)
            except Exception as exc:  # every failure is counted, never fatal
                name = getattr(exc, "code", type(exc).__name__)
                self.failures[str(name)] = self.failures.get(str(name), 0) + 1
            else:
                # From when the call was due, not sent: a probe fallen behind a busy city
                # counts the wait too (coordinated omission).
                start = min(sent, due)
                self.latencies.append((start, time.perf_counter() - start))
            due += self._interval
            self._stop.wait(max(0.0, due - time.perf_counter()))

    def start(self) -> None:
        """Begin registering."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the call in flight."""
        self._stop.set()
        self._thread.join(timeout=35)

    def p99_ms(self, since: float, until: float) -> tuple[int, float]:
        """How many calls were sent in the window, and their p99 latency in ms."""
        window = sorted(s for at, s in self.latencies if since <= at <= until)
        if not window:
            return 0, 0.0
        return len(window), percentile(window, 99) * 1000


def _held(client: NodeClient) -> int:
    return int(client.info().tickets)


def _city_saw(seen: MetricsSnapshot, seconds: float) -> dict[str, Any]:
    """What the city's own metrics counted from the probe's start to the storm's end (as the
    surge reports it, ``loadtest.node_metrics``): the calls it served by method (a county
    pushed back comes back to its push, not to a new hello: ``hellos`` near the county count
    shows it), and its own p99 of a registration."""
    served = rpc_figures(seen, seconds)
    return {
        "hellos": served.get("SyncService/Hello", {}).get("calls", 0),
        "city_calls": {method: f["calls"] for method, f in served.items()},
        "city_register_p99_ms": served.get("IntakeService/RegisterTicket", {}).get("p99_ms"),
    }


def run_storm(
    *,
    counties: int = 50,
    events: int = 200,
    workers: int = 2,
    max_pushes: int = 0,
    intake_rate: float = 20.0,
    p99_ms: float = 500.0,
    seconds: float = 120.0,
) -> int:
    """Run the storm; prints progress, the figures and a final JSON line; 0 when it passed."""
    units = county_codes(counties)
    with scratch_folder("storm") as root:
        hierarchy = Hierarchy.open(root / "pki", now_ms())
        say(f"building {counties} county backlogs of {events} signed events ...")
        started = time.perf_counter()
        folders: list[tuple[str, str]] = []
        backlog = 0
        for unit in units:
            folder = root / unit
            backlog += build_backlog(folder, hierarchy, unit, events)
            folders.append((unit, str(folder)))
        say(f"  {backlog} events built in {time.perf_counter() - started:.1f}s")
        pushes = ("--max-pushes", str(max_pushes)) if max_pushes else ()
        city = receiving_city(
            root / "city", hierarchy, CITY, extra_args=(*pushes, "--metrics-port", "0")
        )
        try:
            city.start()
            city.add_officer(OPERATOR, "王芳", (Role.OPERATOR,))
            result = _storm(city, folders, backlog, workers, intake_rate, seconds)
        finally:
            city.stop()
    result.update(
        counties=counties,
        events_per_county=events,
        max_pushes=max_pushes or "machine",
        p99_threshold_ms=p99_ms,
        machine=f"{machine()}, Python {python_version()}",
    )
    reasons = list(result.pop("reasons"))
    if result["intake_p99_ms"] > p99_ms:
        reasons.append(f"intake p99 {result['intake_p99_ms']:.0f} ms > {p99_ms:.0f} ms")
    result["passed"] = not reasons
    result["reasons"] = reasons
    say(
        f"{result['counties_caught_up']}/{counties} counties caught up in "
        f"{result['storm_seconds']:.1f}s ({result['events_per_s']:,} events/s); "
        f"{result['pushed_back']} pushes pushed back (at most {result['most_pushbacks']} "
        f"for one county); intake during the storm: {result['intake_calls']} calls, "
        f"p99 {result['intake_p99_ms']:.0f} ms"
    )
    for reason in reasons:
        say(f"FAIL: {reason}")
    last_line(result)
    return 0 if not reasons else 1


def _storm(
    city: NodeProcess,
    folders: list[tuple[str, str]],
    backlog: int,
    workers: int,
    intake_rate: float,
    seconds: float,
) -> dict[str, Any]:
    """The storm itself against a started city; the figures and the reasons it failed."""
    shares = [folders[i::workers] for i in range(workers) if folders[i::workers]]
    spawn = multiprocessing.get_context("spawn")
    with (
        city.client(OPERATOR) as operator,
        spawn.Manager() as manager,
        spawn.Pool(len(shares)) as pool,
    ):
        before = _held(operator)
        metrics = metrics_address(city)
        seen_before = MetricsSnapshot.fetch(metrics)
        probe = IntakeProbe(operator, intake_rate)
        probe.start()
        ready = manager.Barrier(len(shares) + 1)
        started = time.perf_counter()
        pending = [
            pool.apply_async(reconnect_counties, (share, city.peer_target, seconds, ready))
            for share in shares
        ]
        ready.wait(seconds)  # every worker has built its counties' nodes
        workers_ready = time.perf_counter() - started
        say(f"storm: {len(folders)} counties reconnect to {city.peer_target} at once ...")
        t0 = time.perf_counter()
        reports = [r for p in pending for r in p.get(timeout=seconds + 120)]
        t1 = time.perf_counter()
        probe.stop()
        calls, p99 = probe.p99_ms(t0, t1)
        registered = len(probe.latencies)
        after = _held(operator)
        seen = MetricsSnapshot.fetch(metrics).since(seen_before)
    reasons = []
    short = [r for r in reports if r["acknowledged"] < r["held"]]
    for r in short:
        reasons.append(
            f"county {r['unit']}: the city acknowledged {r['acknowledged']} of {r['held']} events"
            + (f" ({r['error']})" if r["error"] else "")
        )
    expected = before + backlog + registered
    if after != expected:
        reasons.append(f"the city holds {after} tickets, expected {expected}")
    if probe.failures:
        reasons.append(f"intake calls failed during the storm: {probe.failures}")
    storm_seconds = t1 - t0
    return {
        "benchmark": "storm",
        "events": backlog,
        "storm_seconds": round(storm_seconds, 2),
        "events_per_s": round(backlog / storm_seconds),
        "counties_caught_up": len(reports) - len(short),
        "pushed_back": sum(r["pushed_back"] for r in reports),
        "most_pushbacks": max((r["pushed_back"] for r in reports), default=0),
        "other_failures": sum(r["other_failures"] for r in reports),
        "other_errors": sorted({r["error"] for r in reports if r["error"]})[:5],
        "slowest_county_s": round(max((r["seconds"] for r in reports), default=0.0), 2),
        "workers_ready_s": round(workers_ready, 2),
        "intake_calls": calls,
        "intake_p99_ms": round(p99, 1),
        **_city_saw(seen, storm_seconds),
        "tickets_held": after,
        "reasons": reasons,
    }


if __name__ == "__main__":  # pragma: no cover - a quick manual run
    sys.exit(run_storm(counties=int(sys.argv[1]) if len(sys.argv) > 1 else 10))


__all__ = ["run_storm"]
