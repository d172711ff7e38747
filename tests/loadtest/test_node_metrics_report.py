"""What a surge reports of each node's own metrics: from a scrape before, samples during and a
scrape after the load, the server-side rate and p99 per RPC, the writer's groups and deepest
queue, replication lag per peer at the end, refused events, alerts raised and sweep rounds."""

from __future__ import annotations

from prometheus_client import generate_latest

from loadtest.node_metrics import node_report, run_report, summary_lines
from node.metrics import NodeMetrics
from node.metrics.snapshot import MetricsSnapshot

REGISTER = "/hotline.v1.IntakeService/RegisterTicket"
APPROVE = "/hotline.v1.CaseworkService/ApproveResult"


def _state(queue: int, unsent: int, refused: int, alerts: int) -> str:
    """The figures a node reads at scrape time (``node.metrics.readings``), as its endpoint
    writes them (a counter family typed under its ``_total`` name)."""
    return (
        "# TYPE hotline_writer_queue_depth gauge\n"
        f"hotline_writer_queue_depth {queue}\n"
        "# TYPE hotline_metrics_database_read_ok gauge\n"
        "hotline_metrics_database_read_ok 1\n"
        "# TYPE hotline_replication_unsent_events gauge\n"
        f'hotline_replication_unsent_events{{role="parent",peer="127.0.0.1:7001"}} {unsent}\n'
        "# TYPE hotline_replication_oldest_unsent_seconds gauge\n"
        'hotline_replication_oldest_unsent_seconds{role="parent",peer="127.0.0.1:7001"} 1.5\n'
        "# TYPE hotline_replication_unpulled_events gauge\n"
        'hotline_replication_unpulled_events{role="parent",peer="127.0.0.1:7001"} 2\n'
        "# TYPE hotline_replication_seconds_since_success gauge\n"
        'hotline_replication_seconds_since_success{role="parent",peer="127.0.0.1:7001"} 0.4\n'
        "# TYPE hotline_replication_failures gauge\n"
        'hotline_replication_failures{role="parent",peer="127.0.0.1:7001"} 0\n'
        "# TYPE hotline_refused_events_total counter\n"
        f'hotline_refused_events_total{{reason="bad-signature"}} {refused}\n'
        "# TYPE hotline_alerts_raised_total counter\n"
        f'hotline_alerts_raised_total{{kind="equivocation"}} {alerts}\n'
    )


def _scrape(
    metrics: NodeMetrics, queue: int, unsent: int, refused: int, alerts: int
) -> MetricsSnapshot:
    text = generate_latest(metrics.registry).decode("utf-8")  # type: ignore[no-untyped-call]
    return MetricsSnapshot.parse(text + _state(queue, unsent, refused, alerts))


def _a_run() -> tuple[MetricsSnapshot, list[MetricsSnapshot], MetricsSnapshot]:
    """A node that served 10 registrations before the run; during a 10-second run, 100 more
    (99 in 8 ms, one in 400 ms), 20 approvals (one refused), 30 writer groups of 4 jobs, two
    sweeps; its queue 7 deep at one sample; 3 events refused and one alert on the way."""
    metrics = NodeMetrics()
    for _ in range(10):
        metrics.observe_call(REGISTER, "OK", 0.004)
    before = _scrape(metrics, queue=0, unsent=0, refused=1, alerts=0)
    for _ in range(99):
        metrics.observe_call(REGISTER, "OK", 0.008)
    metrics.observe_call(REGISTER, "OK", 0.4)
    for i in range(20):
        metrics.observe_call(APPROVE, "OK" if i else "FAILED_PRECONDITION", 0.02)
    for _ in range(30):
        metrics.observe_group(4, 0.003)
    metrics.observe_job("deadlines", 0.2, 3)
    metrics.observe_job("deadlines", 0.4, 0)
    during = [_scrape(metrics, queue=q, unsent=0, refused=1, alerts=0) for q in (1, 7, 2)]
    after = _scrape(metrics, queue=0, unsent=5, refused=4, alerts=1)
    return before, during, after


def test_each_rpc_has_its_rate_failures_and_server_side_p99_over_the_run_only() -> None:
    before, during, after = _a_run()
    rpc = node_report(before, after, during, seconds=10.0)["rpc"]
    register = rpc["IntakeService/RegisterTicket"]
    assert register["calls"] == 100 and register["per_s"] == 10.0 and register["not_ok"] == 0
    # the 99th of 100 calls lies in the 5-10 ms bucket; the slow one is the 100th
    assert 5.0 < register["p99_ms"] <= 10.0
    approve = rpc["CaseworkService/ApproveResult"]
    assert approve["calls"] == 20 and approve["not_ok"] == 1 and approve["per_s"] == 2.0


def test_the_writer_shows_its_group_sizes_and_the_deepest_queue_any_sample_saw() -> None:
    before, during, after = _a_run()
    writer = node_report(before, after, during, seconds=10.0)["writer"]
    assert writer["groups"] == 30 and writer["jobs"] == 120
    assert writer["group_size_mean"] == 4.0
    assert writer["queue_depth_max"] == 7 and writer["queue_depth_samples"] == 4


def test_replication_lag_refusals_alerts_and_sweeps_are_reported() -> None:
    before, during, after = _a_run()
    report = node_report(before, after, during, seconds=10.0)
    assert report["replication_at_end"] == [
        {
            "role": "parent",
            "peer": "127.0.0.1:7001",
            "unsent_events": 5,
            "oldest_unsent_s": 1.5,
            "unpulled_events": 2,
            "since_success_s": 0.4,
            "failures": 0,
        }
    ]
    assert report["refused_events"] == {"bad-signature": 3}  # 4 at the end, 1 before the run
    assert report["alerts_raised"] == {"equivocation": 1}
    sweeps = report["jobs"]["deadlines"]
    assert sweeps["rounds"] == 2 and sweeps["recorded_events"] == 3
    assert sweeps["mean_ms"] == 300.0 and sweeps["failures"] == 0


def test_a_node_never_scraped_is_reported_unread() -> None:
    before, during, after = _a_run()
    report = run_report(
        {"province": before}, {"province": after}, {"province": during}, 10.0, ["province", "city"]
    )
    assert report["province"]["read"] is True
    assert report["city"] == {"read": False}
    lines = summary_lines(report)
    assert lines[0].startswith("metrics province: IntakeService/RegisterTicket 10.0/s")
    assert "writer queue max 7" in lines[0] and "7 event(s) behind" in lines[0]
    assert lines[1] == "metrics city: not read (no metrics port, or it did not answer)"


def test_a_peer_never_reached_is_named_not_counted_as_lag() -> None:
    before, during, after = _a_run()
    report = node_report(before, after, during, seconds=10.0)
    report["replication_at_end"].append(
        {
            "role": "parent",
            "peer": "127.0.0.1:9",
            "unsent_events": 800,
            "oldest_unsent_s": 60.0,
            "unpulled_events": 0,
            "since_success_s": None,
            "failures": 24,
        }
    )
    line = summary_lines({"province": report})[0]
    assert "7 event(s) behind at the end (never reached: 127.0.0.1:9)" in line
