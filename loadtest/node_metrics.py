"""What the nodes themselves saw during a surge, read from their Prometheus metrics.

Why this exists: Locust times the calls as its users see them, which mixes in the users' own
machine and network. Ops also need what each node saw (issue 14 item 6): the server-side rate
and p99 of each RPC, how deep the log writer's queue got and how large its groups were, how far
replication lagged at the end, events refused, alerts raised, and how long the deadline sweeps
took. Each node started for (or named to) the run exports them on its metrics port; the run
scrapes every node before the load, every few seconds during it (the writer's queue depth is a
gauge: only samples catch its peak), and after the catch-up. Reading and subtracting the scrapes
is ``node.metrics.snapshot.MetricsSnapshot``'s; this module only chooses the figures and shapes
them for the report and the JSON line.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from node.metrics.snapshot import MetricsSnapshot

SAMPLE_SECONDS = 5.0
"""Seconds between scrapes during the load: cheap for a node (a few small reads)."""


def metrics_addresses(description: dict[str, Any]) -> dict[str, str]:
    """``HOST:PORT`` of the metrics endpoint of every node that has one, by node name."""
    return {
        name: node["metrics"] for name, node in description["nodes"].items() if node.get("metrics")
    }


def scrape(addresses: dict[str, str]) -> dict[str, MetricsSnapshot]:
    """One scrape of each node; a node that does not answer is left out (and reported as
    unread by ``node_report``)."""
    taken: dict[str, MetricsSnapshot] = {}
    for name, address in addresses.items():
        try:
            taken[name] = MetricsSnapshot.fetch(address, timeout=5.0)
        except OSError:
            continue
    return taken


@dataclass
class MetricsSampler:
    """Scrapes every node every ``SAMPLE_SECONDS`` on a thread of its own while the load runs,
    keeping each node's samples (the peak of a gauge is only seen by sampling)."""

    addresses: dict[str, str]
    every_s: float = SAMPLE_SECONDS
    samples: dict[str, list[MetricsSnapshot]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin sampling (the first sample at once)."""
        self._thread = threading.Thread(target=self._run, name="metrics-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and wait for a scrape in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, snapshot in scrape(self.addresses).items():
                self.samples.setdefault(name, []).append(snapshot)
            self._stop.wait(self.every_s)


def _ms(seconds: float) -> float | None:
    """Seconds as milliseconds for the JSON (None for NaN: nothing observed)."""
    return None if math.isnan(seconds) else round(seconds * 1000, 2)


def _by_label(run: MetricsSnapshot, name: str, label: str) -> dict[str, int]:
    """The samples of ``name`` summed per value of ``label``, as counts (zeros dropped)."""
    summed: dict[str, float] = {}
    for labels, value in run.matching(name):
        key = labels.get(label, "")
        summed[key] = summed.get(key, 0.0) + value
    return {k: int(v) for k, v in sorted(summed.items()) if v}


def rpc_figures(run: MetricsSnapshot, seconds: float) -> dict[str, dict[str, Any]]:
    """Per ``Service/Method`` served during the run: calls, calls a second, calls not OK, and
    the server-side p99 (ms, estimated from the histogram's buckets)."""
    figures: dict[str, dict[str, Any]] = {}
    served = run.matching("hotline_rpc_requests_total")
    methods = sorted({(labels["service"], labels["method"]) for labels, _ in served})
    for service, method in methods:
        calls = run.total("hotline_rpc_requests_total", service=service, method=method)
        if calls <= 0:
            continue
        ok = run.total("hotline_rpc_requests_total", service=service, method=method, code="OK")
        figures[f"{service}/{method}"] = {
            "calls": int(calls),
            "per_s": round(calls / seconds, 2) if seconds > 0 else None,
            "not_ok": int(calls - ok),
            "p99_ms": _ms(
                run.quantile("hotline_rpc_duration_seconds", 0.99, service=service, method=method)
            ),
        }
    return figures


def writer_figures(run: MetricsSnapshot, samples: list[MetricsSnapshot]) -> dict[str, Any]:
    """The log writer during the run: groups committed, jobs per group (mean, p99), the commit
    p99, and the deepest queue any sample saw."""
    groups = run.total("hotline_writer_group_size_count")
    jobs = run.total("hotline_writer_group_size_sum")
    depths = [s.total("hotline_writer_queue_depth") for s in samples]
    return {
        "groups": int(groups),
        "jobs": int(jobs),
        "group_size_mean": round(jobs / groups, 2) if groups else None,
        "group_size_p99": (
            None
            if math.isnan(q := run.quantile("hotline_writer_group_size", 0.99))
            else round(q, 1)
        ),
        "commit_p99_ms": _ms(run.quantile("hotline_writer_commit_duration_seconds", 0.99)),
        "queue_depth_max": int(max(depths)) if depths else None,
        "queue_depth_samples": len(depths),
    }


def lag_figures(end: MetricsSnapshot) -> list[dict[str, Any]]:
    """Replication with each peer as the node saw it at the end: events not acknowledged by
    the peer and the age of the oldest (s), events not pulled, seconds since it last went
    through, failed rounds in a row."""
    seen = end.matching("hotline_replication_unpulled_events")
    peers = sorted({(labels["role"], labels["peer"]) for labels, _ in seen})
    lags = []
    for role, peer in peers:
        since = end.matching("hotline_replication_seconds_since_success", role=role, peer=peer)
        lags.append(
            {
                "role": role,
                "peer": peer,
                "unsent_events": int(
                    end.total("hotline_replication_unsent_events", role=role, peer=peer)
                ),
                "oldest_unsent_s": round(
                    end.total("hotline_replication_oldest_unsent_seconds", role=role, peer=peer), 2
                ),
                "unpulled_events": int(
                    end.total("hotline_replication_unpulled_events", role=role, peer=peer)
                ),
                "since_success_s": round(since[0][1], 2) if since else None,
                "failures": int(end.total("hotline_replication_failures", role=role, peer=peer)),
            }
        )
    return lags


def job_figures(run: MetricsSnapshot) -> dict[str, dict[str, Any]]:
    """Each scheduled job's rounds during the run (the deadline sweep among them): rounds,
    mean and p99 duration (ms), failed rounds, events recorded."""
    figures: dict[str, dict[str, Any]] = {}
    for job, rounds in _by_label(run, "hotline_job_duration_seconds_count", "job").items():
        took = run.total("hotline_job_duration_seconds_sum", job=job)
        figures[job] = {
            "rounds": int(rounds),
            "mean_ms": round(took / rounds * 1000, 2),
            "p99_ms": _ms(run.quantile("hotline_job_duration_seconds", 0.99, job=job)),
            "failures": int(run.total("hotline_job_failures_total", job=job)),
            "recorded_events": int(run.total("hotline_job_recorded_events_total", job=job)),
        }
    return figures


def node_report(
    before: MetricsSnapshot | None,
    after: MetricsSnapshot | None,
    samples: list[MetricsSnapshot],
    seconds: float,
) -> dict[str, Any]:
    """One node's figures for the run, from its scrapes before and after and during it."""
    if before is None or after is None:
        return {"read": False}
    run = after.since(before)
    return {
        "read": True,
        "database_read_ok": bool(after.total("hotline_metrics_database_read_ok")),
        "rpc": rpc_figures(run, seconds),
        "writer": writer_figures(run, [*samples, after]),
        "replication_at_end": lag_figures(after),
        "refused_events": _by_label(run, "hotline_refused_events_total", "reason"),
        "alerts_raised": _by_label(run, "hotline_alerts_raised_total", "kind"),
        "jobs": job_figures(run),
    }


def run_report(
    before: dict[str, MetricsSnapshot],
    after: dict[str, MetricsSnapshot],
    samples: dict[str, list[MetricsSnapshot]],
    seconds: float,
    names: list[str],
) -> dict[str, dict[str, Any]]:
    """Every node's figures, by node name (``{"read": false}`` for one never scraped)."""
    return {
        name: node_report(before.get(name), after.get(name), samples.get(name, []), seconds)
        for name in names
    }


def summary_lines(report: dict[str, dict[str, Any]]) -> list[str]:
    """A line per node for the run's output, before the JSON: its three busiest calls of
    officers and enterprises (replication's own calls left to the JSON), the writer, how
    far replication was behind when the load ended with the peers it reached (a peer never
    reached, such as a parent outside the run, is named apart), refusals and alerts."""
    lines = []
    for name, figures in report.items():
        if not figures.get("read"):
            lines.append(f"metrics {name}: not read (no metrics port, or it did not answer)")
            continue
        served = [(m, f) for m, f in figures["rpc"].items() if "Sync" not in m.partition("/")[0]]
        busiest = sorted(served, key=lambda item: -item[1]["calls"])[:3]
        calls = ", ".join(f"{method} {f['per_s']}/s p99 {f['p99_ms']} ms" for method, f in busiest)
        writer = figures["writer"]
        lags = figures["replication_at_end"]
        reached = [lag for lag in lags if lag["since_success_s"] is not None]
        behind = sum(lag["unsent_events"] + lag["unpulled_events"] for lag in reached)
        unreached = [lag["peer"] for lag in lags if lag["since_success_s"] is None]
        never = f" (never reached: {', '.join(unreached)})" if unreached else ""
        lines.append(
            f"metrics {name}: {calls or 'no calls'}; writer queue max "
            f"{writer['queue_depth_max']}, group mean {writer['group_size_mean']}; "
            f"{behind} event(s) behind at the end{never}; refused "
            f"{sum(figures['refused_events'].values())}, alerts "
            f"{sum(figures['alerts_raised'].values())}"
        )
    return lines
