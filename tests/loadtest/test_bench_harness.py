"""What the benchmarks stand on: percentiles by nearest rank, failed calls counted by code, a
scratch folder that never outlives its run, an offline node that keeps what it registered and
stops its writer and pools when the benchmark is done with it."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from core.officers import Role
from loadtest.harness import UNREACHABLE_PARENT, offline_node, scratch_folder
from loadtest.measuring import PhaseResult, percentile
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import random_ticket
from sync.log_store import EventLog

COUNTY = "620102"


def test_percentiles_are_taken_by_nearest_rank() -> None:
    ordered = [float(n) for n in range(1, 11)]
    assert percentile(ordered, 50) == 5.0
    assert percentile(ordered, 90) == 9.0
    assert percentile(ordered, 91) == 10.0
    assert percentile(ordered, 100) == 10.0
    assert percentile(ordered, 0) == 1.0
    assert percentile([], 99) == 0.0


def test_a_phase_counts_failed_calls_by_code_and_rates_only_the_successful_ones() -> None:
    phase = PhaseResult("peak", calls=30, elapsed=2.0, latencies=[0.001, 0.003, 0.002])
    phase.failed("DEADLINE_EXCEEDED")
    phase.failed("UNAVAILABLE")
    phase.failed("DEADLINE_EXCEEDED")
    assert phase.errors == 3
    assert phase.error_codes.most_common(1) == [("DEADLINE_EXCEEDED", 2)]
    assert phase.rate == 15.0
    assert phase.ms(50) == 2.0
    assert "errors: DEADLINE_EXCEEDED x2, UNAVAILABLE x1" in phase.summary()


def test_the_scratch_folder_is_removed_when_the_run_fails() -> None:
    kept: list[Path] = []
    with pytest.raises(RuntimeError), scratch_folder("unit") as root:
        kept.append(root)
        (root / "node.db").write_bytes(b"x")
        raise RuntimeError("the benchmark broke")
    assert kept[0].name.startswith("hotline-bench-unit-")
    assert not kept[0].exists()


def test_an_offline_node_keeps_what_it_registered_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    hierarchy = Hierarchy.throwaway(tmp_path / "pki")
    folder = tmp_path / "county"
    with offline_node(folder, hierarchy, COUNTY) as county:
        assert county.settings.parent == UNREACHABLE_PARENT
        county.roster.save_officer("620102-07", "李强", COUNTY, frozenset({Role.HANDLER}))
        rng = random.Random(315)

        async def register_three() -> None:
            for n in range(3):
                await county.intake.register(f"request-{n:04d}", random_ticket(rng), "620102-07")

        asyncio.run(register_three())
        node_id = county.identity.node_id
    assert county.writer.stopping
    with pytest.raises(RuntimeError, match="shutdown"):
        county.blocking.executor.submit(print)
    with offline_node(folder, hierarchy, COUNTY) as again, again.db.read() as conn:
        log = EventLog(conn)
        head, held = log.head(node_id), log.count_events()
        tickets = log.all_ticket_ids()
    assert len(tickets) == 3  # some were forwarded at once (转办): more events than tickets
    assert head is not None and head.seq == held
