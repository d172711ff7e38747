"""``MetricsSnapshot``: a node's metrics read back, for a load test's report or a test.

A tool that drove a node (the load test, a benchmark, a drill) reports what the node itself
saw: calls by status, latency quantiles per method, the writer's groups, how far replication
lagged. It scrapes the node's endpoint before and after the run, and ``since`` gives what the
run added (counters and histograms subtracted, gauges as they stand at the end). Quantiles are
estimated from the buckets as Prometheus's ``histogram_quantile`` does.
"""

from __future__ import annotations

import math
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

Labels = dict[str, str]
Sample = tuple[Labels, float]

_ADDING = ("counter", "histogram", "summary")
"""Kinds of family whose samples only grow (until the node restarts)."""


@dataclass(frozen=True)
class MetricsSnapshot:
    """Every sample of one scrape, by sample name, with its labels."""

    samples: dict[str, list[Sample]]
    adding: frozenset[str]
    """The names of samples that only grow (counters, histograms): ``since`` subtracts them."""

    @classmethod
    def parse(cls, text: str) -> MetricsSnapshot:
        """A snapshot of a scrape's text (the Prometheus text format)."""
        samples: dict[str, list[Sample]] = {}
        adding: set[str] = set()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
                if family.type in _ADDING:
                    adding.add(sample.name)
        return cls(samples, frozenset(adding))

    @classmethod
    def fetch(cls, address: str, timeout: float = 10.0) -> MetricsSnapshot:
        """Scrape ``http://ADDRESS/metrics`` (``HOST:PORT``, the node's metrics port)."""
        url = f"http://{address}/metrics"
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return cls.parse(answer.read().decode("utf-8"))

    def matching(self, name: str, **labels: str) -> list[Sample]:
        """The samples of ``name`` whose labels include ``labels``."""
        return [
            (have, value)
            for have, value in self.samples.get(name, [])
            if all(have.get(k) == v for k, v in labels.items())
        ]

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels`` (0: none)."""
        return sum(value for _, value in self.matching(name, **labels))

    def quantile(self, histogram: str, q: float, **labels: str) -> float:
        """The ``q`` quantile (0.99: p99) of ``histogram`` over the label sets matching
        ``labels``, interpolated within its bucket; NaN when it observed nothing."""
        by_bound: dict[float, float] = {}
        for have, value in self.matching(f"{histogram}_bucket", **labels):
            bound = float(have["le"])
            by_bound[bound] = by_bound.get(bound, 0.0) + value
        buckets = sorted(by_bound.items())
        if not buckets or buckets[-1][1] <= 0:
            return math.nan
        rank = q * buckets[-1][1]
        lower, below = 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if math.isinf(bound):
                    return lower  # past the last finite bucket: its bound is all we know
                if count == below:
                    return bound
                return lower + (bound - lower) * (rank - below) / (count - below)
            lower, below = bound, count
        return lower

    def since(self, earlier: MetricsSnapshot) -> MetricsSnapshot:
        """What happened between ``earlier`` and this snapshot: counters and histograms
        subtracted (a label set new since then counts from 0), gauges as they are now."""
        changed: dict[str, list[Sample]] = {}
        for name, samples in self.samples.items():
            if name not in self.adding:
                changed[name] = list(samples)
                continue
            before = {_key(have): value for have, value in earlier.samples.get(name, [])}
            changed[name] = [(have, value - before.get(_key(have), 0.0)) for have, value in samples]
        return MetricsSnapshot(changed, self.adding)


def _key(labels: Labels) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))
