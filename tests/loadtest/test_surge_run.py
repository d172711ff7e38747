"""``hotline loadtest surge`` end to end at a tiny scale: it starts the network, runs Locust
(alone, or as a master with two worker processes), writes the reports, reads every node's
metrics, audits the tickets, and ends with one JSON line; an impossible threshold makes it
exit non-zero with the reason."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.processes


def _surge(reports: Path, *flags: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "node.cli.main", "loadtest", "surge", "--users", "3",
         "--minutes", "0.25", "--csv", str(reports), *flags],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    last = done.stdout.strip().splitlines()[-1]
    return done.returncode, json.loads(last), done.stdout


def test_a_short_315_surge_passes_every_officer_works_and_every_node_reports_its_metrics(
    tmp_path: Path,
) -> None:
    status, fields, out = _surge(tmp_path, "--shape", "315")
    assert status == 0, fields["reasons"]
    assert fields["passed"] is True and fields["failures"] == 0
    assert fields["tickets_acknowledged"] > 0
    assert fields["tickets_lost"] == 0 and fields["tickets_duplicated"] == 0
    assert fields["catch_up_seconds"] is not None
    assert (tmp_path / "surge_stats.csv").read_text().startswith("Type,Name")
    assert (tmp_path / "surge.html").exists()
    p99 = fields["p99_ms"]
    assert isinstance(p99, dict) and any(n.startswith("RegisterTicket") for n in p99)
    # each casework officer read their queue: the county handlers, the station, the unit
    # heads, the callback officer (their steps follow as tickets reach them)
    for queue in ("in handling", "station", "to approve", "extensions", "closed"):
        assert f"ListTickets {queue}" in p99
    assert "AnswerInquiry" in p99  # the call-takers answer consultations on the line
    nodes = fields["node_metrics"]
    assert set(nodes) == {"province", "city", "chengguan", "qilihe", "station"}
    assert all(figures["read"] for figures in nodes.values())
    province = nodes["province"]
    registered = province["rpc"]["IntakeService/RegisterTicket"]
    # the province served at least every registration a call-taker was answered for
    assert registered["calls"] >= fields["tickets_acknowledged"]
    assert registered["p99_ms"] is not None and registered["per_s"] > 0
    assert province["writer"]["groups"] > 0 and province["writer"]["queue_depth_samples"] > 1
    assert province["jobs"]["deadlines"]["rounds"] >= 1  # the sweep runs every 5 s in a surge
    county_peers = {lag["role"] for lag in nodes["chengguan"]["replication_at_end"]}
    assert county_peers == {"parent", "child"}  # the city above, the station below
    assert "metrics province: IntakeService/" in out


def test_a_master_with_two_workers_counts_the_workers_requests_in_its_csv(
    tmp_path: Path,
) -> None:
    status, fields, _ = _surge(tmp_path, "--workers", "2", "--users", "6")
    assert status == 0, fields["reasons"]
    assert fields["locust_workers"] == 2
    assert fields["locust_exit_status"] == 0
    # both workers registered calls (each writes its own acknowledgements) ...
    assert fields["acknowledging_processes"] == 2
    # ... and the master, which runs no user itself, counted every one of them
    with (tmp_path / "surge_stats.csv").open(encoding="utf-8") as stats:
        rows = [r for r in csv.DictReader(stats) if r["Name"].startswith("RegisterTicket")]
    answered = sum(
        int(r["Request Count"]) - int(r["Failure Count"]) for r in rows if r["Type"] == "grpc"
    )
    assert answered == fields["tickets_acknowledged"] > 0


def test_an_impossible_p99_fails_the_run_with_its_reason(tmp_path: Path) -> None:
    status, fields, out = _surge(tmp_path, "--p99", "RegisterTicket=0.001")
    assert status == 1
    assert fields["passed"] is False
    assert any("RegisterTicket" in r for r in fields["reasons"])
    assert "FAILED: p99 of RegisterTicket" in out
