"""Measuring a benchmark phase: latency percentiles, CPU and memory meters, ``PhaseResult``.

Why this exists: a benchmark figure is only worth reading next to what else the machine was
doing. On a two-core machine shared with other work, a phase that ran while a neighbour burnt
a core looks like a slow server; so each phase records not only its calls and latencies but
the CPU its node, its client and every other process used (and what the hypervisor stole),
read from ``/proc`` on Linux. The meters here know nothing of gRPC or of nodes: they read
processes and clocks.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def percentile(ordered: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted values, by nearest rank; 0.0 when empty."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by process ``pid`` (Linux; 0.0 elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU seconds all cores have been busy, and stolen by the hypervisor, since boot (Linux).

    Busy is user + nice + system + irq + softirq + steal; (0.0, 0.0) where /proc is missing.
    """
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()[1:9]
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields)
    ticks = _clock_ticks()
    return (user + nice + system + irq + softirq + steal) / ticks, steal / ticks


def peak_rss_mib(pid: int) -> float:
    """The most memory process ``pid`` has held so far (its high-water mark), in MiB.

    0.0 where /proc is missing or the process has gone.
    """
    return _status_mib(pid, "VmHWM:")


def _status_mib(pid: int, field_name: str) -> float:
    """A memory field of ``/proc/<pid>/status`` in MiB; 0.0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class PhaseResult:
    """What one phase measured."""

    name: str
    calls: int = 0
    """Calls that succeeded."""
    errors: int = 0
    """Calls that failed (any status other than OK)."""
    error_codes: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    """Seconds from the first call sent to the last answer received."""
    latencies: list[float] = field(default_factory=list)
    """Seconds per successful call (for open loop: from the scheduled arrival)."""
    send_lag: list[float] = field(default_factory=list)
    """Open loop only: seconds each call was sent after its scheduled arrival."""
    server_cpu: float = 0.0
    """CPU seconds the node process used during the phase."""
    client_cpu: float = 0.0
    """CPU seconds this (client) process used during the phase."""
    machine_cpu: float = 0.0
    """CPU seconds all cores were busy during the phase (any process)."""
    steal: float = 0.0
    """CPU seconds the hypervisor took from this machine during the phase."""
    target_rate: float = 0.0
    """Open loop only: the arrival rate asked for, per second."""
    arrivals: list[tuple[float, float]] = field(default_factory=list)
    """Open loop only: (seconds into the phase the call was due, its latency in seconds),
    per successful call, so latency can be read window by window (``windows``)."""
    samples: list[StoreSample] = field(default_factory=list)
    """Open loop only: the node's memory and database size, sampled every window."""

    @property
    def rate(self) -> float:
        """Successful calls per second."""
        return self.calls / self.elapsed if self.elapsed > 0 else 0.0

    def ms(self, q: float) -> float:
        """The ``q``-th latency percentile in milliseconds."""
        return percentile(sorted(self.latencies), q) * 1000.0

    def lag_ms(self, q: float) -> float:
        """The ``q``-th send-lag percentile in milliseconds."""
        return percentile(sorted(self.send_lag), q) * 1000.0

    @property
    def other_cpu(self) -> float:
        """CPU seconds used by neither the node nor the client (other load: it skews results)."""
        return max(0.0, self.machine_cpu - self.server_cpu - self.client_cpu)

    def share(self, seconds: float) -> float:
        """CPU seconds as a share of one core over the phase."""
        return seconds / self.elapsed if self.elapsed > 0 else 0.0

    def cpu_ms_per_call(self, seconds: float) -> float:
        """CPU milliseconds per successful call."""
        return seconds * 1000.0 / self.calls if self.calls else 0.0

    def failed(self, code: str) -> None:
        """Count one failed call that ended with status (or exception) ``code``."""
        self.errors += 1
        self.error_codes[code] += 1

    def summary(self) -> str:
        """The phase in a few human-readable lines."""
        head = f"{self.name}: {self.calls} ok, {self.errors} failed in {self.elapsed:.1f}s"
        if self.target_rate:
            head += f" (paced at {self.target_rate:.0f}/s)"
        errors = (
            "  errors: " + ", ".join(f"{c} x{n}" for c, n in self.error_codes.most_common())
            if self.errors
            else ""
        )
        lines = [
            head,
            f"  {self.rate:9.1f} calls/s   latency p50 {self.ms(50):.1f} ms, "
            f"p90 {self.ms(90):.1f} ms, p99 {self.ms(99):.1f} ms, max {self.ms(100):.1f} ms",
            f"  cpu per call: server {self.cpu_ms_per_call(self.server_cpu):.2f} ms, "
            f"client {self.cpu_ms_per_call(self.client_cpu):.2f} ms "
            f"(server {self.share(self.server_cpu):.0%}, client {self.share(self.client_cpu):.0%}, "
            f"other processes {self.share(self.other_cpu):.0%} of a core; "
            f"steal {self.share(self.steal):.0%})",
        ]
        if self.send_lag:
            lines.append(
                f"  send lag behind schedule: p50 {self.lag_ms(50):.1f} ms, "
                f"p99 {self.lag_ms(99):.1f} ms"
            )
        if errors:
            lines.append(errors)
        return "\n".join(lines)


def resident_mib(pid: int) -> float:
    """The memory process ``pid`` holds now (VmRSS), in MiB; 0.0 where /proc is missing."""
    return _status_mib(pid, "VmRSS:")


@dataclass(frozen=True)
class StoreSample:
    """The node's size at one moment of a phase: its memory and its database on disk."""

    at: float
    """Seconds into the phase."""
    rss_mib: float
    database_mib: float
    """The database's main file (SQLite) or the whole database (PostgreSQL)."""
    wal_mib: float
    """SQLite's write-ahead log file; PostgreSQL's WAL written since the phase began."""
    server_cpu: float = 0.0
    """CPU seconds the node process has used so far (a running total)."""
    machine_cpu: float = 0.0
    """CPU seconds all cores have been busy so far (a running total; any process)."""


@dataclass(frozen=True)
class Window:
    """Latency of the calls due within one stretch of an open-loop phase."""

    start: float
    """Seconds into the phase the window begins."""
    calls: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    sample: StoreSample | None
    """The node's size sampled at the window's end (None when not sampled)."""
    server_cpu_share: float = 0.0
    """The node's CPU over the window, as a share of one core (0.0 when not sampled)."""
    other_cpu_share: float = 0.0
    """Every other process's CPU over the window (this client's included), as a share of one
    core: a window slowed by a neighbour shows here."""

    def line(self) -> str:
        """The window on one line of the run's progress."""
        text = (
            f"  {self.start:6.0f}s {self.calls:6d} calls  p50 {self.p50_ms:7.1f}  "
            f"p99 {self.p99_ms:7.1f}  max {self.max_ms:7.1f} ms"
        )
        if self.sample is not None:
            text += (
                f"  rss {self.sample.rss_mib:6.0f} MiB  db {self.sample.database_mib:7.0f} MiB"
                f"  wal {self.sample.wal_mib:6.1f} MiB  cpu node {self.server_cpu_share:4.0%}"
                f" others {self.other_cpu_share:4.0%}"
            )
        return text

    def fields(self) -> dict[str, float]:
        """The window as JSON fields."""
        out: dict[str, float] = {
            "start_s": round(self.start, 1),
            "calls": self.calls,
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
        }
        if self.sample is not None:
            out["rss_mib"] = round(self.sample.rss_mib, 1)
            out["database_mib"] = round(self.sample.database_mib, 1)
            out["wal_mib"] = round(self.sample.wal_mib, 2)
            out["server_cpu_pct"] = round(self.server_cpu_share * 100, 1)
            out["other_cpu_pct"] = round(self.other_cpu_share * 100, 1)
        return out


def windows(result: PhaseResult, width: float) -> list[Window]:
    """``result``'s open-loop calls cut into windows of ``width`` seconds by when they were
    due: a stall shows as the window whose p99 jumps, with the node's size beside it."""
    if width <= 0 or not result.arrivals:
        return []
    buckets: dict[int, list[float]] = {}
    for due, latency in result.arrivals:
        buckets.setdefault(int(due // width), []).append(latency)
    out = []
    # The totals at the phase's start, which the first window's CPU is counted from.
    before = next((s for s in result.samples if s.at < width / 2), None)
    for index in range(max(buckets) + 1):
        ordered = sorted(buckets.get(index, []))
        end = (index + 1) * width
        sample = next((s for s in result.samples if s.at >= end - width / 2), None)
        server = other = 0.0
        if sample is not None and before is not None and sample.at > before.at:
            span = sample.at - before.at
            server = (sample.server_cpu - before.server_cpu) / span
            other = max(0.0, (sample.machine_cpu - before.machine_cpu) / span - server)
        out.append(
            Window(
                start=index * width,
                calls=len(ordered),
                p50_ms=percentile(ordered, 50) * 1000.0,
                p99_ms=percentile(ordered, 99) * 1000.0,
                max_ms=percentile(ordered, 100) * 1000.0,
                sample=sample,
                server_cpu_share=server,
                other_cpu_share=other,
            )
        )
        before = sample if sample is not None else before
    return out


@contextmanager
def cpu_meter(result: PhaseResult, server_pid: int) -> Iterator[None]:
    """Charge the CPU used by the node and by this process inside the block to ``result``."""
    server0, client0 = process_cpu_seconds(server_pid), time.process_time()
    machine0, steal0 = machine_cpu_seconds()
    try:
        yield
    finally:
        result.server_cpu = process_cpu_seconds(server_pid) - server0
        result.client_cpu = time.process_time() - client0
        machine1, steal1 = machine_cpu_seconds()
        result.machine_cpu, result.steal = machine1 - machine0, steal1 - steal0
