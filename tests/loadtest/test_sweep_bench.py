"""The sweep benchmark measures what it says: the due tickets' reminders told on time by the
sweeps before, then one timed sweep that records exactly one escalation per due ticket and
touches none of the obligations that are not due. The writer's kept states
(``sync.writer.committed``) change nothing of that, and spare the sweeps reading the due
tickets' events back."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from loadtest.sweep_bench import run_one
from sync.log_store import EventLog
from sync.writer.committed import CommittedState, CommittedStates

DUE = 12


def run_small(folder: Path) -> dict[str, Any]:
    db = {
        "province": f"sqlite:///{folder / 'province.db'}",
        "county": f"sqlite:///{folder / 'county.db'}",
    }
    return run_one(folder / "world", db, total=300, due=DUE)


def test_the_timed_sweep_records_one_escalation_per_due_ticket_after_reminders_on_time(
    tmp_path: Path,
) -> None:
    result = run_small(tmp_path)
    assert result["obligations"] == 300
    assert result["reminders_before"] == 3 * DUE  # handler, unit head, supervising unit
    assert result["recorded"] == DUE
    assert result["escalations_held"] == DUE
    assert gc.get_freeze_count() == 0  # what the run froze is given back to the collector


def test_kept_states_change_nothing_the_sweeps_record_and_spare_reading_tickets_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    original = EventLog.events_of_tickets

    def counted(log: EventLog, ticket_ids: Sequence[str]) -> Any:
        read.extend(ticket_ids)
        return original(log, ticket_ids)

    monkeypatch.setattr(EventLog, "events_of_tickets", counted)
    kept = run_small(tmp_path / "kept")
    read_with_kept_states = len(read)

    def none_kept(self: CommittedStates, ticket_ids: object) -> dict[str, CommittedState]:
        return {}  # the writer finds no kept state: every ticket is read and folded

    monkeypatch.setattr(CommittedStates, "held", none_kept)
    read.clear()
    afresh = run_small(tmp_path / "afresh")

    def outcome(result: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in result.items() if k != "seconds"}

    assert outcome(kept) == outcome(afresh)
    # Each of the four sweeps (three reminders, the escalation) read every due ticket back.
    assert len(read) - read_with_kept_states == 4 * DUE
