"""The million-ticket bench's parts: a preload that registers genuine, distinct tickets
through the node's own writer, and half-rate latency cut into windows by when calls were
due, each with the node's size beside it, so a stall shows when it happened."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from core.officers import Officer, Role
from core.units import UnitLevel
from loadtest.call_loops import settle_heap
from loadtest.harness import offline_node
from loadtest.measuring import PhaseResult, StoreSample, windows
from loadtest.preload import fill
from node.devnet.hierarchy import Hierarchy
from node.storage.tables import ticket_fingerprints, ticket_requests
from sync.log_store import EventLog

HUB = "620000"


def test_half_rate_latency_is_cut_into_windows_by_when_each_call_was_due() -> None:
    phase = PhaseResult("half", target_rate=10.0)
    phase.arrivals = [(0.1, 0.004), (2.0, 0.006), (4.9, 0.002), (5.0, 0.300), (9.5, 0.010)]
    phase.samples = [
        StoreSample(0.0, 99.0, 60.0, 3.0, server_cpu=10.0, machine_cpu=20.0),
        StoreSample(5.0, 100.0, 60.0, 4.0, server_cpu=12.5, machine_cpu=27.5),
        StoreSample(10.0, 101.0, 61.0, 0.5, server_cpu=17.5, machine_cpu=32.5),
    ]
    first, second = windows(phase, 5.0)
    assert (first.start, first.calls, first.p50_ms, first.max_ms) == (0.0, 3, 4.0, 6.0)
    assert (second.start, second.calls, second.max_ms) == (5.0, 2, 300.0)
    assert first.sample is not None and first.sample.wal_mib == 4.0
    assert second.sample is not None and second.sample.rss_mib == 101.0
    assert second.fields()["p99_ms"] == 300.0
    # The node's CPU and everyone else's over each window, as shares of one core.
    assert (first.server_cpu_share, first.other_cpu_share) == (0.5, 1.0)
    assert (second.server_cpu_share, second.other_cpu_share) == (1.0, 0.0)
    assert "wal" in second.line()
    assert windows(phase, 0.0) == []


def test_a_window_with_no_answer_is_shown_empty_not_skipped() -> None:
    phase = PhaseResult("half", target_rate=1.0, arrivals=[(0.5, 0.01), (11.0, 0.02)])
    assert [w.calls for w in windows(phase, 5.0)] == [1, 0, 1]


def test_the_preload_registers_distinct_tickets_through_the_nodes_writer(tmp_path: Path) -> None:
    hierarchy = Hierarchy.throwaway(tmp_path / "pki")
    officer = Officer("620000-01", "王芳", HUB, UnitLevel.PROVINCE, frozenset({Role.OPERATOR}))
    with offline_node(tmp_path / "hub", hierarchy, HUB) as hub:
        done = asyncio.run(fill(hub, 60, officer, seed=7))
        with hub.db.read() as conn:
            log = EventLog(conn)
            tickets = len(log.all_ticket_ids())
            head = log.head(hub.identity.node_id)
            requests = conn.scalar(select(func.count()).select_from(ticket_requests))
            matters = conn.scalar(select(func.count()).select_from(ticket_fingerprints))
    assert done.tickets == 60 and done.rate > 0
    assert tickets == requests == 60
    assert matters == 60  # no two linked as the same matter
    assert head is not None and head.seq >= 60  # signed, chained events


def test_the_client_settles_its_heap_before_a_phase_so_no_full_collection_walks_it() -> None:
    held = [{"ticket": n} for n in range(1000)]  # what a client holds: tracked containers
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(held)
        tracked = {id(o) for o in gc.get_objects()}
        assert not any(id(o) in tracked for o in held)  # a later collection skips them
    finally:
        gc.unfreeze()


def test_the_gc_probe_times_each_collection_of_a_process_it_is_put_in(tmp_path: Path) -> None:
    probe = Path(__file__).resolve().parents[2] / "loadtest" / "gc_probe"
    env = {**os.environ, "PYTHONPATH": str(probe), "HOTLINE_GC_PROBE_DIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-c", "import gc; gc.collect(); gc.collect(0)"], env=env, check=True
    )
    (written,) = tmp_path.glob("gc-*.json")
    record = json.loads(written.read_text(encoding="utf-8"))
    generations = [generation for generation, _wall, _cpu in record["collections"]]
    assert generations[-2:] == [2, 0]
    assert all(wall >= 0 and cpu >= 0 for _g, wall, cpu in record["collections"])
