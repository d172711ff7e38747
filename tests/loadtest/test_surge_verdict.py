"""The surge verdict: each threshold missed is a reason; load shed is apart from failures and
allowed only where the user allows it."""

from __future__ import annotations

from loadtest.surge import RequestStats, SurgeSettings, verdict
from loadtest.ticket_audit import Audit

ROWS = [
    RequestStats("grpc", "RegisterTicket complaint", 100, 0, 120.0),
    RequestStats("grpc", "GetQueue", 50, 0, 40.0),
]


def test_a_run_within_every_threshold_passes() -> None:
    assert verdict(ROWS, Audit(acknowledged=100), 1.5, SurgeSettings()) == []


def test_a_p99_above_its_limit_fails_naming_the_request() -> None:
    settings = SurgeSettings(p99_ms={"RegisterTicket": 100.0})
    reasons = verdict(ROWS, Audit(acknowledged=100), 1.5, settings)
    assert reasons == ["p99 of RegisterTicket complaint 120 ms above 100 ms"]


def test_shed_calls_are_not_failures_but_fail_the_run_unless_allowed() -> None:
    shed = [*ROWS, RequestStats("shed", "GetQueue", 5, 0, 0.0)]
    assert verdict(shed, Audit(), 1.0, SurgeSettings()) == [
        "5 GetQueue shed (RESOURCE_EXHAUSTED), not allowed"
    ]
    assert verdict(shed, Audit(), 1.0, SurgeSettings(allow_shed=("GetQueue",))) == []


def test_failures_above_the_ratio_fail_the_run() -> None:
    failing = [RequestStats("grpc", "RouteTicket", 100, 2, 10.0)]
    assert verdict(failing, Audit(), 1.0, SurgeSettings()) == [
        "failure ratio 0.0200 above 0.01 (2 of 100)"
    ]


def test_a_lost_ticket_and_a_missed_catch_up_each_fail_the_run() -> None:
    found = Audit(acknowledged=2, lost_at_province=["x"], missing_at_holder=["y"])
    reasons = verdict(ROWS, found, None, SurgeSettings(catch_up_seconds=5))
    assert reasons == [
        "1 acknowledged ticket(s) lost",
        "1 ticket(s) not at their holder after 5 s of catch-up",
    ]
