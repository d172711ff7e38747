"""``hotline loadtest surge`` end to end at a tiny scale: it starts the network, runs Locust,
writes the reports, audits the tickets, and ends with one JSON line; an impossible threshold
makes it exit non-zero with the reason."""

from __future__ import annotations

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


def test_a_short_315_surge_passes_and_leaves_locusts_reports(tmp_path: Path) -> None:
    status, fields, _ = _surge(tmp_path, "--shape", "315")
    assert status == 0, fields["reasons"]
    assert fields["passed"] is True
    assert fields["tickets_acknowledged"] > 0
    assert fields["tickets_lost"] == 0 and fields["tickets_duplicated"] == 0
    assert fields["catch_up_seconds"] is not None
    assert (tmp_path / "surge_stats.csv").read_text().startswith("Type,Name")
    assert (tmp_path / "surge.html").exists()
    p99 = fields["p99_ms"]
    assert isinstance(p99, dict) and any(n.startswith("RegisterTicket") for n in p99)


def test_an_impossible_p99_fails_the_run_with_its_reason(tmp_path: Path) -> None:
    status, fields, out = _surge(tmp_path, "--p99", "RegisterTicket=0.001")
    assert status == 1
    assert fields["passed"] is False
    assert any("RegisterTicket" in r for r in fields["reasons"])
    assert "FAILED: p99 of RegisterTicket" in out
