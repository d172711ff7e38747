"""The README's main job: `hotline demo` shows the five levels agreeing, in under a minute,
and leaves no filer's personal data in clear on any node's disk (issue 12)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.clear_text import clear_personal_data, sample_personal_values


@pytest.mark.processes
@pytest.mark.alone
def test_the_demo_ends_with_every_level_consistent_in_under_a_minute(tmp_path: Path) -> None:
    kept = tmp_path / "demo"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "node", "demo", "--keep-data", str(kept)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Every level is consistent" in done.stdout
    assert "✗" not in done.stdout
    for level in ("national", "province", "city", "chengguan", "qilihe", "station"):
        assert f"    {level}" in done.stdout
    # The ODR scene: the web front served, one dispute settled, one converted, both agreed on.
    assert "the web front serves Chengguan's pages on http://127.0.0.1:" in done.stdout
    assert "accepts on their page: DISPUTE_STATUS_SETTLED" in done.stdout
    assert "rejects: DISPUTE_STATUS_CONVERTED" in done.stdout
    assert "(odr-settled) ✓" in done.stdout and "(odr-converted) ✓" in done.stdout
    # The README's promise, kept as it is. It takes 24-37 s on this 2-core machine (29.6 s in
    # CI's timed run, December 2026) and far more beside the parallel suite's workers, so
    # `make test` runs it after them, alone.
    assert elapsed < 60, f"the demo took {elapsed:.0f} s; the README promises under a minute"
    # Every node's data folder (databases, write-ahead logs, node logs, keys), byte for byte.
    nodes = [p for p in kept.iterdir() if (p / "node.log").exists()]
    assert len(nodes) == 6, sorted(p.name for p in kept.iterdir())
    assert not clear_personal_data(nodes, sample_personal_values())
    assert "张伟" not in done.stdout and "13909310001" not in done.stdout
