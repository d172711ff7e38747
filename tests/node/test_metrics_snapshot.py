"""A scrape read back: totals, quantiles as Prometheus estimates them, and what a run added."""

from __future__ import annotations

import math

import pytest

from node.metrics.snapshot import MetricsSnapshot

BEFORE = """\
# TYPE hotline_rpc_requests_total counter
hotline_rpc_requests_total{code="OK",method="RegisterTicket"} 10.0
# TYPE hotline_rpc_duration_seconds histogram
hotline_rpc_duration_seconds_bucket{code="OK",method="RegisterTicket",le="0.01"} 10.0
hotline_rpc_duration_seconds_bucket{code="OK",method="RegisterTicket",le="0.05"} 10.0
hotline_rpc_duration_seconds_bucket{code="OK",method="RegisterTicket",le="+Inf"} 10.0
hotline_rpc_duration_seconds_count{code="OK",method="RegisterTicket"} 10.0
hotline_rpc_duration_seconds_sum{code="OK",method="RegisterTicket"} 0.05
# TYPE hotline_writer_queue_depth gauge
hotline_writer_queue_depth 3.0
"""

AFTER = """\
# TYPE hotline_rpc_requests_total counter
hotline_rpc_requests_total{code="OK",method="RegisterTicket"} 110.0
hotline_rpc_requests_total{code="RESOURCE_EXHAUSTED",method="RegisterTicket"} 7.0
# TYPE hotline_rpc_duration_seconds histogram
hotline_rpc_duration_seconds_bucket{code="OK",method="RegisterTicket",le="0.01"} 60.0
hotline_rpc_duration_seconds_bucket{code="OK",method="RegisterTicket",le="0.05"} 100.0
hotline_rpc_duration_seconds_bucket{code="OK",method="RegisterTicket",le="+Inf"} 110.0
hotline_rpc_duration_seconds_count{code="OK",method="RegisterTicket"} 110.0
hotline_rpc_duration_seconds_sum{code="OK",method="RegisterTicket"} 4.0
# TYPE hotline_writer_queue_depth gauge
hotline_writer_queue_depth 1.0
"""


def test_what_a_run_added_is_the_counters_difference_and_the_gauges_last_value() -> None:
    run = MetricsSnapshot.parse(AFTER).since(MetricsSnapshot.parse(BEFORE))
    assert run.total("hotline_rpc_requests_total", code="OK") == 100
    assert run.total("hotline_rpc_requests_total", code="RESOURCE_EXHAUSTED") == 7
    assert run.total("hotline_rpc_requests_total") == 107
    assert run.total("hotline_writer_queue_depth") == 1


def test_a_quantile_is_interpolated_within_its_bucket_as_prometheus_does() -> None:
    run = MetricsSnapshot.parse(AFTER).since(MetricsSnapshot.parse(BEFORE))
    # Of the run's 100 calls, 50 took up to 10 ms, 40 up to 50 ms, 10 longer.
    assert run.quantile("hotline_rpc_duration_seconds", 0.25) == pytest.approx(0.005)
    assert run.quantile("hotline_rpc_duration_seconds", 0.7) == pytest.approx(0.03)
    # Beyond the last finite bucket only its bound is known.
    assert run.quantile("hotline_rpc_duration_seconds", 0.99) == pytest.approx(0.05)


def test_a_histogram_that_observed_nothing_has_no_quantile() -> None:
    nothing = MetricsSnapshot.parse(BEFORE).since(MetricsSnapshot.parse(BEFORE))
    assert math.isnan(nothing.quantile("hotline_rpc_duration_seconds", 0.99))
    assert math.isnan(nothing.quantile("hotline_no_such_seconds", 0.5))
