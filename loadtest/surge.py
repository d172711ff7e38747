"""``hotline loadtest surge``: a surge shape played by Locust users against a whole network,
then a pass or fail on the thresholds ops set.

Why this exists: before 3·15 ops must know that the province hub holds the call surge, that the
counties keep handling, and that no caller's ticket is lost on the way. One run starts the
network (or takes a running one's description), runs Locust headless as its own process, or
as a master with workers (``loadtest.locust_run``; Locust writes its CSV and HTML reports),
then waits for replication to catch up and audits every acknowledged ticket
(``loadtest.ticket_audit``). The verdict checks p99 per request type, the failure ratio (load
shed with RESOURCE_EXHAUSTED counted apart, allowed only for the types the user names), the
audit, and the catch-up time. What the nodes themselves saw (server-side rates and p99, the
writer, replication lag, refusals, alerts, sweeps) is scraped from their metrics before, during
and after the load (``loadtest.node_metrics``) and reported beside Locust's figures. The last
line of the output is one JSON object; the exit status is 0 on a pass, 1 on a missed threshold
or an invalid run, 2 for bad arguments.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.access import totp
from loadtest.harness import BenchError, last_line, machine, python_version, say, scratch_folder
from loadtest.locust_run import locust_environment, run_locust
from loadtest.machine_share import MachineShare
from loadtest.node_metrics import (
    MetricsSampler,
    lag_figures,
    metrics_addresses,
    run_report,
    scrape,
    summary_lines,
)
from loadtest.shapes import SHAPES
from loadtest.surge_network import NODE_ARGS, start_surge_network, write_network
from loadtest.ticket_audit import Audit, Listing, audit
from node.devnet.processes import LocalNetwork
from node.edge.client import NodeClient

DEFAULT_P99_MS = {"RegisterTicket": 1000.0}
"""p99 thresholds when the user sets none: a caller is answered within a second."""


@dataclass
class SurgeSettings:
    """What one surge run is asked to do and to check."""

    shape: str = "315"
    users: int = 10
    minutes: float = 1.0
    csv_dir: Path | None = None
    html: Path | None = None
    p99_ms: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_P99_MS))
    max_failure_ratio: float = 0.01
    allow_shed: tuple[str, ...] = ()
    catch_up_seconds: float = 30.0
    network_file: Path | None = None
    pool: int = 2
    locust_args: tuple[str, ...] = ()
    workers: int = 0
    """Locust worker processes on this machine under a master (0: one Locust process)."""


@dataclass
class RequestStats:
    """One row of Locust's ``_stats.csv``."""

    kind: str
    name: str
    requests: int
    failures: int
    p99_ms: float


def read_stats(csv_prefix: Path) -> list[RequestStats]:
    """The per-request rows of Locust's ``<prefix>_stats.csv`` (without the Aggregated row)."""
    path = Path(f"{csv_prefix}_stats.csv")
    if not path.exists():
        raise BenchError(f"Locust wrote no statistics ({path} is missing)")
    rows = []
    with path.open(encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            if row["Name"] == "Aggregated":
                continue
            p99 = row.get("99%", "0")
            rows.append(
                RequestStats(
                    row["Type"],
                    row["Name"],
                    int(row["Request Count"]),
                    int(row["Failure Count"]),
                    float(p99) if p99 not in ("", "N/A") else 0.0,
                )
            )
    return rows


def verdict(
    stats: list[RequestStats], found: Audit, catch_up_s: float | None, settings: SurgeSettings
) -> list[str]:
    """Every threshold missed, as a one-line reason each (empty: the run passed)."""
    reasons: list[str] = []
    served = [s for s in stats if s.kind != "shed"]
    total = sum(s.requests for s in served)
    failures = sum(s.failures for s in served)
    if total == 0:
        reasons.append("no request was answered")
    elif failures / total > settings.max_failure_ratio:
        reasons.append(
            f"failure ratio {failures / total:.4f} above {settings.max_failure_ratio:g} "
            f"({failures} of {total})"
        )
    for prefix, limit in settings.p99_ms.items():
        for row in (s for s in served if s.name.startswith(prefix)):
            if row.p99_ms > limit:
                reasons.append(f"p99 of {row.name} {row.p99_ms:g} ms above {limit:g} ms")
    for row in (s for s in stats if s.kind == "shed"):
        if not any(row.name.startswith(p) for p in settings.allow_shed):
            reasons.append(f"{row.requests} {row.name} shed (RESOURCE_EXHAUSTED), not allowed")
    if found.lost_at_province:
        reasons.append(f"{len(found.lost_at_province)} acknowledged ticket(s) lost")
    if found.duplicated:
        reasons.append(f"{len(found.duplicated)} ticket(s) duplicated")
    if catch_up_s is None:
        reasons.append(
            f"{len(found.missing_at_holder)} ticket(s) not at their holder after "
            f"{settings.catch_up_seconds:g} s of catch-up"
        )
    return reasons


def acknowledged(folder: Path) -> list[str]:
    """Every ticket id the Locust processes were answered (``acks-*.txt``)."""
    ids: list[str] = []
    for path in sorted(folder.glob("acks-*.txt")):
        ids += [line for line in path.read_text(encoding="ascii").splitlines() if line]
    return ids


def _listing(description: dict[str, Any], name: str) -> Listing:
    """Every ticket node ``name`` holds, with its holder, as the node's auditor lists them."""
    node = description["nodes"][name]
    person = description["auditors"][name]
    root = description["root_pem"].encode("ascii")
    with NodeClient(node["target"], root=root, unit=node["unit"]) as client:
        token = _auditor_tokens.get(name)
        if token is None:
            code = totp.totp(totp.secret_bytes(person["totp_secret"]), int(time.time() * 1000))
            client.sign_in(person["officer_id"], person["password"], code)
            _auditor_tokens[name] = client.token
        else:
            client.token = token
        tickets = client.list_tickets(page_size=500)
    return Listing(node["unit"], tuple((t.ticket_id, t.holder_unit) for t in tickets))


_auditor_tokens: dict[str, str] = {}


def catch_up(
    description: dict[str, Any], acks: list[str], seconds: float
) -> tuple[Audit, float | None]:
    """Audit until every holder has its tickets or ``seconds`` pass; the last audit and the
    time it took to catch up (``None``: it did not)."""
    start = time.monotonic()
    province = description["province"]
    others = [n for n in description["nodes"] if n != province]
    while True:
        listings = {description["nodes"][n]["unit"]: _listing(description, n) for n in others}
        found = audit(acks, _listing(description, province), listings)
        waited = time.monotonic() - start
        if found.caught_up:
            return found, waited
        if waited > seconds:
            return found, None
        time.sleep(0.5)


def surge(settings: SurgeSettings, work: Path) -> tuple[dict[str, Any], list[str]]:
    """One run in the folder ``work``: the JSON fields and the reasons it failed."""
    csv_dir = settings.csv_dir or Path("surge-reports")
    csv_dir.mkdir(parents=True, exist_ok=True)
    csv_prefix = csv_dir / "surge"
    html = settings.html or csv_dir / "surge.html"
    acks = work / "acks"
    acks.mkdir(exist_ok=True)
    with LocalNetwork(work / "network", node_args=NODE_ARGS) as network:
        if settings.network_file is None:
            say("starting province, city, Chengguan, Qilihe and a station on loopback (SQLite)")
            description = start_surge_network(network, settings.pool)
        else:
            description = json.loads(settings.network_file.read_text(encoding="utf-8"))
        description.setdefault("acks_dir", str(acks))  # workers elsewhere: a shared folder
        network_file = work / "network.json"
        write_network(description, network_file)
        addresses = metrics_addresses(description)
        before = scrape(addresses)
        sampler = MetricsSampler(addresses)
        sampler.start()
        say(f"locust: {settings.shape} shape, {settings.users} users at the peak, "
            f"{settings.minutes:g} min, {settings.workers or 'no'} worker process(es)")  # fmt: skip
        share = MachineShare(
            tuple(n.process.pid for n in network.nodes.values() if n.process is not None)
        )
        share.start()
        started = time.monotonic()
        try:
            locust_status = run_locust(
                locust_environment(network_file, settings.shape, settings.users, settings.minutes),
                csv_prefix,
                html,
                settings.locust_args,
                settings.workers,
            )
        finally:
            sampler.stop()
        load_s = time.monotonic() - started
        cpu = share.figures()
        after_load = scrape(addresses)
        ids = acknowledged(Path(description["acks_dir"]))
        acknowledging = len(list(Path(description["acks_dir"]).glob("acks-*.txt")))
        found, caught_up_s = catch_up(description, ids, settings.catch_up_seconds)
        after_catch_up = scrape(addresses)
    node_figures = run_report(
        before, after_load, sampler.samples, load_s, names=list(description["nodes"])
    )
    for name, end in after_catch_up.items():
        node_figures[name]["replication_after_catch_up"] = lag_figures(end)
    for line in summary_lines(node_figures):
        say(line)
    say(f"machine during the load: the run's processes {cpu['run_cpu_pct']}%, other "
        f"processes {cpu['other_cpu_pct']}% (per cent of one core)")  # fmt: skip
    stats = read_stats(csv_prefix)
    reasons = verdict(stats, found, caught_up_s, settings)
    served = [s for s in stats if s.kind != "shed"]
    total = sum(s.requests for s in served)
    fields = {
        "loadtest": "surge",
        "shape": settings.shape,
        "users": settings.users,
        "minutes": settings.minutes,
        "load_seconds": round(load_s, 1),
        "requests": total,
        "failures": sum(s.failures for s in served),
        "failure_ratio": round(sum(s.failures for s in served) / total, 5) if total else None,
        "shed": sum(s.requests for s in stats if s.kind == "shed"),
        "p99_ms": {s.name: s.p99_ms for s in served},
        "tickets_acknowledged": found.acknowledged,
        "acknowledging_processes": acknowledging,
        "tickets_lost": len(found.lost_at_province),
        "tickets_duplicated": len(found.duplicated),
        "tickets_missing_at_holder": len(found.missing_at_holder),
        "catch_up_seconds": round(caught_up_s, 1) if caught_up_s is not None else None,
        "locust_exit_status": locust_status,
        "locust_workers": settings.workers,
        "node_metrics": node_figures,
        "csv": str(csv_prefix) + "_stats.csv",
        "html": str(html),
        "machine": machine(),
        "run_cpu_pct": cpu["run_cpu_pct"],
        "other_cpu_pct": cpu["other_cpu_pct"],
        "python": python_version(),
        "passed": not reasons,
        "reasons": reasons,
    }
    return fields, reasons


def run_surge(settings: SurgeSettings) -> int:
    """Run a surge, print the verdict and the JSON line; the exit status."""
    if settings.shape not in SHAPES:
        print(f"hotline: loadtest surge: no shape {settings.shape!r} "
              f"(shapes: {', '.join(SHAPES)})", file=sys.stderr)  # fmt: skip
        return 2
    if settings.users < 1 or not settings.minutes > 0:
        print("hotline: loadtest surge: --users and --minutes must be positive", file=sys.stderr)
        return 2
    if settings.workers < 0 or (settings.network_file is None and settings.workers > settings.pool):
        print("hotline: loadtest surge: --workers must be 0 to --pool (each worker signs in "
              "as the people of its index)", file=sys.stderr)  # fmt: skip
        return 2
    with scratch_folder("surge") as work:
        try:
            fields, reasons = surge(settings, work)
        except BenchError as exc:
            print(f"hotline: loadtest surge: {exc}", file=sys.stderr)
            return 1
    for reason in reasons:
        say(f"FAILED: {reason}")
    say("surge passed" if not reasons else "surge FAILED")
    last_line(fields)
    return 0 if not reasons else 1
