"""``NodeMetrics``: one node's registry and the figures counted as things happen.

Calls (per service, method and status code), the log writer's groups and commits, and the
scheduled jobs' rounds are counted by the component that sees them, through the hooks it offers
(``CallGate.meter``, ``LogWriter.on_group``, ``JobScheduler.on_job``), so that none of those
components depends on Prometheus. Each observation is an increment or a histogram bucket on the
caller's thread: a few microseconds, no lock held across anything slow, no database.

The registry is the node's own (``CollectorRegistry``), never prometheus_client's global one:
two nodes in one process keep apart figures. The figures read from the database at scrape time
are added by ``node.metrics.readings``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

from sync.client import RoundReport

# The ``*_created`` series (when each labelled child was made) double what a scrape carries and
# say nothing ops watch; the choice is the process's, as prometheus_client keeps it.
disable_created_metrics()  # type: ignore[no-untyped-call]

CALL_SECONDS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Buckets of a call's latency: intake's target is a p99 under 50 ms, so they are fine below."""

GROUP_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
"""Buckets of the writer's group sizes (jobs per transaction; ``writer_batch`` caps them)."""

JOB_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Buckets of a scheduled job's round: the sweep's target is under one second."""


def _service_and_method(path: str) -> tuple[str, str]:
    """``("IntakeService", "RegisterTicket")`` from ``/hotline.v1.IntakeService/RegisterTicket``."""
    service, _, method = path.strip("/").rpartition("/")
    return service.rpartition(".")[2], method


class NodeMetrics:
    """The metrics of one node: its own registry and the instruments counted as things happen."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        """The node's own registry: what its endpoint serves, and nothing of other nodes."""
        labels = ("service", "method", "code")
        self._calls = Counter(
            "hotline_rpc_requests",
            "Calls served, by service, method and gRPC status code.",
            labels,
            registry=self.registry,
        )
        self._call_seconds = Histogram(
            "hotline_rpc_duration_seconds",
            "Time from the gate taking the call (its request read) to its answer, seconds.",
            labels,
            buckets=CALL_SECONDS,
            registry=self.registry,
        )
        self._group_size = Histogram(
            "hotline_writer_group_size",
            "Jobs the log writer committed together in one transaction.",
            buckets=GROUP_SIZES,
            registry=self.registry,
        )
        self._commit_seconds = Histogram(
            "hotline_writer_commit_duration_seconds",
            "Time the log writer took to commit one group (its fsync included), seconds.",
            buckets=CALL_SECONDS,
            registry=self.registry,
        )
        self._job_seconds = Histogram(
            "hotline_job_duration_seconds",
            "Time one round of a scheduled job took (deadline sweep, detection, ...), seconds.",
            ("job",),
            buckets=JOB_SECONDS,
            registry=self.registry,
        )
        self._job_failures = Counter(
            "hotline_job_failures",
            "Rounds of a scheduled job that failed (it runs again at the next interval).",
            ("job",),
            registry=self.registry,
        )
        self._job_events = Counter(
            "hotline_job_recorded_events",
            "Events the rounds of a scheduled job recorded (escalations, alerts, erasures).",
            ("job",),
            registry=self.registry,
        )
        self._rounds = Counter(
            "hotline_replication_rounds",
            "Replication rounds with the parent, by result (ok, failed).",
            ("result",),
            registry=self.registry,
        )
        self._round_seconds = Histogram(
            "hotline_replication_round_duration_seconds",
            "Time one replication round with the parent took (hello, push, pull), seconds.",
            buckets=JOB_SECONDS,
            registry=self.registry,
        )
        self._events = Counter(
            "hotline_replication_events",
            "Events that went through replication: pushed (up: taken by the parent, or taken "
            "here from a child) and pulled (down: taken here from the parent, or sent to a "
            "child).",
            ("role", "peer", "way"),
            registry=self.registry,
        )
        self._by_call: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        """The labelled children per (method path, code): a dictionary hit per call, not a
        label look-up under prometheus_client's lock."""

    def observe_call(self, path: str, code: str, seconds: float) -> None:
        """Count one call of method ``path`` answered with ``code`` after ``seconds``.

        Called on the node's event loop by the call gate (``node.edge.gate``) for every call of
        our services, refusals included.
        """
        children = self._by_call.get((path, code))
        if children is None:
            service, method = _service_and_method(path)
            children = (
                self._calls.labels(service, method, code),
                self._call_seconds.labels(service, method, code),
            )
            self._by_call[(path, code)] = children
        counter, histogram = children
        counter.inc()
        histogram.observe(seconds)

    def observe_group(self, size: int, seconds: float) -> None:
        """Count one group the log writer committed: its jobs, and the commit's time.

        Called on the writer thread after each commit (``LogWriter.on_group``).
        """
        self._group_size.observe(size)
        self._commit_seconds.observe(seconds)

    def observe_round(self, parent: str, seconds: float, report: RoundReport | None) -> None:
        """Count one replication round with the parent (at ``parent``): its time, and the
        events pushed and pulled (None: it failed). Called by ``ParentLink.on_round``."""
        self._round_seconds.observe(seconds)
        if report is None:
            self._rounds.labels("failed").inc()
            return
        self._rounds.labels("ok").inc()
        self._events.labels("parent", parent, "pushed").inc(report.pushed)
        self._events.labels("parent", parent, "pulled").inc(report.pulled)

    def observe_child_events(self, child: str, way: str, count: int) -> None:
        """Count events a child pushed here (``pushed``) or was sent (``pulled``). Called by
        ``ChildReplication.on_events``."""
        self._events.labels("child", child, way).inc(count)

    def observe_job(self, name: str, seconds: float, recorded: int | None) -> None:
        """Count one round of the scheduled job ``name``: its time, and the events it recorded
        (None: the round failed). Called by ``JobScheduler.on_job``."""
        self._job_seconds.labels(name).observe(seconds)
        if recorded is None:
            self._job_failures.labels(name).inc()
        else:
            self._job_events.labels(name).inc(recorded)
