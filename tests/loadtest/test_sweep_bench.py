"""The sweep benchmark measures what it says: the due tickets' reminders told on time by the
sweeps before, then one timed sweep that records exactly one escalation per due ticket and
touches none of the obligations that are not due."""

from __future__ import annotations

import gc
from pathlib import Path

from loadtest.sweep_bench import run_one


def test_the_timed_sweep_records_one_escalation_per_due_ticket_after_reminders_on_time(
    tmp_path: Path,
) -> None:
    db = {
        "province": f"sqlite:///{tmp_path / 'province.db'}",
        "county": f"sqlite:///{tmp_path / 'county.db'}",
    }
    result = run_one(tmp_path / "world", db, total=300, due=12)
    assert result["obligations"] == 300
    assert result["reminders_before"] == 3 * 12  # handler, unit head, supervising unit
    assert result["recorded"] == 12
    assert result["escalations_held"] == 12
    assert gc.get_freeze_count() == 0  # what the run froze is given back to the collector
