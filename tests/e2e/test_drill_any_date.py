"""Drills on any date, on real processes: `hotline pki` drill hierarchies and start-up refusals.

Issue 10, item 4: a drill whose clock started before its certificates' issue time failed with
a PERMISSION_DENIED that only `hotline sync status` showed, while the province went on
registering events that could never replicate. Here the province 620000, the city 620100 and
the county 620102 are enrolled with `hotline pki` in a drill hierarchy valid from 2026-09-30
(made today, whatever today is) and run as ``hotline serve`` processes on a drill clock that
starts on 2026-09-30 10:00 China time, at 86,400x (a drill day each real second).

The dates: received Wednesday 09-30; the National Day holidays (10-01 to 10-07) do not count
and Saturday 10-10 is a make-up workday, so seven working days (10-08, 09, 10, 12, 13, 14, 15)
end with 10-15 and the complaint is overdue at 10-16 00:00: into the city's supervision queue.

A node whose certificate does not hold on its clock now refuses to start, in one line.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import hlc
from core.deadlines.china_time import CHINA_TZ
from node.cli.main import main as hotline
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import LocalNetwork
from node.devnet.samples import GANSU_WORLD
from tests.helpers.drill import Drill
from tests.helpers.tickets import register_and_route, ticket_state

DRILL_START = dt.datetime(2026, 9, 30, 10, 0, tzinfo=CHINA_TZ)
SETUP_SECONDS = 20.0
"""Real seconds from the nodes' enrolment to the drill's anchor: three nodes come up and a
complaint is registered at 10:00 sharp (about 6 s on an idle 2-core machine)."""
LATE = 3.0
"""Real seconds (drill days) a wait may run past the drill instant it waits for."""

LINE = ("province", "city", "chengguan")
UNITS = {"province": "620000", "city": "620100", "chengguan": "620102"}
CENTRE, CITY, HANDLER = "620000-01", "620100-01", "620102-07"


def china(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA_TZ)


DUE_MS = int(china("2026-10-16").timestamp() * 1000)
"""The end of 10-15, the seventh working day after receipt."""


def pki(*argv: str) -> None:
    """Run ``hotline pki argv`` in-process (it only writes files), expecting success."""
    assert hotline(["pki", *argv]) == 0, argv


def enrol_drill_line(base: Path, valid_from: str) -> Path:
    """A drill hierarchy valid from ``valid_from`` and the three nodes of the line enrolled in
    it, as an administrator would with `hotline pki`; returns the hierarchy's folder."""
    secure = base / "secure"
    pki("init-root", "--dir", str(secure / "root"), "--drill", "--valid-from", valid_from)
    pki("init-ca", "--root", str(secure / "root"), "--province", "620000",
        "--dir", str(secure / "ca-620000"))  # fmt: skip
    for name, unit in UNITS.items():
        request, bundle = str(base / f"{name}.csr"), str(base / f"{name}.pem")
        data_dir = str(base / name)
        pki("request", "--data-dir", data_dir, "--unit", unit, "--out", request)
        pki("issue", "--ca", str(secure / "ca-620000"), "--request", request, "--out", bundle)
        pki("install", "--data-dir", data_dir, "--unit", unit, "--bundle", bundle)
    return secure


@pytest.fixture
def drill_line(tmp_path: Path) -> Iterator[tuple[LocalNetwork, Drill]]:
    """The line enrolled with `hotline pki` in a drill hierarchy valid from the drill's day,
    not yet started; every process is killed at the end."""
    enrol_drill_line(tmp_path, "2026-09-30")
    # Enrolled already: the network's hierarchy is only opened, never asked to enrol.
    network = LocalNetwork(
        tmp_path,
        sync_interval=0.3,
        hierarchy=Hierarchy.open(tmp_path / "secure", int(time.time() * 1000)),
    )
    drill = Drill(
        start=DRILL_START, anchor=time.time() + SETUP_SECONDS, sweep_interval=0.1, late=LATE
    )
    network.node_args = drill.node_args()
    try:
        yield network, drill
    finally:
        for node in network.nodes.values():
            node.kill()


@pytest.mark.processes
def test_a_drill_on_2026_09_30_with_hotline_pki_enrolled_nodes_replicates_and_escalates(
    drill_line: tuple[LocalNetwork, Drill],
) -> None:
    """Registered at the province on 09-30, the complaint reaches the county; nobody accepts
    it, and at 10-16 00:00 on the drill clock it is escalated into the city's queue. Every
    node counts every other's events: no link reports an error."""
    network, drill = drill_line
    network.start_world(GANSU_WORLD, only=set(LINE))

    with network.client("province", CENTRE) as centre:
        ticket_id = register_and_route(centre, "gym")
        registered = ticket_state(centre, ticket_id)
    assert registered.holder_unit == "620102"
    assert dt.datetime.fromtimestamp(hlc.to_millis(registered.registered_hlc) / 1000, CHINA_TZ) == (
        DRILL_START
    ), f"set-up took longer than {SETUP_SECONDS}s: the drill had begun"

    with network.client("chengguan", HANDLER) as handler:
        drill.wait_for(
            "the county holds the complaint routed at the province",
            lambda: any(t.ticket_id == ticket_id for t in handler.list_tickets()),
            by=china("2026-10-01"),
        )
        (entry,) = [*handler.queue().due_soon, *handler.queue().later]
        assert (entry.ticket_id, entry.duty, entry.due_ms) == (
            ticket_id,
            "decide_acceptance",
            DUE_MS,
        )

    with network.client("city", CITY) as city:
        drill.wait_for(
            "the city's supervision queue holds the overdue complaint",
            lambda: [e.ticket_id for e in city.queue().escalated_to_us] == [ticket_id],
            by=china("2026-10-16"),
        )
        seen = ticket_state(city, ticket_id)
        (escalation,) = seen.escalations
        assert (escalation.level, escalation.to_unit, escalation.from_unit) == (
            1,
            "620100",
            "620102",
        )
        at = hlc.to_millis(escalation.escalated_hlc)
        assert DUE_MS <= at < DUE_MS + 86_400_000, "escalated on the drill clock's 10-16"
    for name in LINE[1:]:
        with network.client(name) as client:
            (parent,) = [p for p in client.sync_status().peers if p.role == "parent"]
            assert not parent.last_error, (name, parent.last_error)


def serve(data_dir: Path, unit: str, level: str, *clock: str) -> subprocess.CompletedProcess[str]:
    """``hotline serve`` of an enrolled node in ``data_dir``, expected to stop at once."""
    return subprocess.run(
        [sys.executable, "-m", "node", "serve", "--level", level, "--unit", unit,
         "--data-dir", str(data_dir), "--parent", "127.0.0.1:9", *clock],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.processes
def test_hotline_serve_refuses_a_certificate_that_does_not_hold_on_its_clock_in_one_line(
    tmp_path: Path,
) -> None:
    """A county enrolled today (a production certificate) on a clock set to 2026-09-30; and a
    county of a drill hierarchy on real time. Each stops before opening its database, with
    one line naming why, and exit status 2."""
    pki("init-root", "--dir", str(tmp_path / "root"))
    pki("init-ca", "--root", str(tmp_path / "root"), "--province", "620000",
        "--dir", str(tmp_path / "ca"))  # fmt: skip
    county = tmp_path / "county"
    pki("request", "--data-dir", str(county), "--unit", "620102", "--out", str(tmp_path / "c"))
    pki("issue", "--ca", str(tmp_path / "ca"), "--request", str(tmp_path / "c"),
        "--out", str(tmp_path / "c.pem"))  # fmt: skip
    pki("install", "--data-dir", str(county), "--unit", "620102",
        "--bundle", str(tmp_path / "c.pem"))  # fmt: skip

    early = serve(county, "620102", "county", "--clock-start", "2026-09-30T10:00+08:00")
    assert early.returncode == 2, early
    (line,) = early.stderr.strip().splitlines()
    assert line.startswith("hotline: the node's certificate is valid from "), line
    assert "not at 2026-09-30 10:00 +08:00 on the node's clock" in line
    assert "hotline pki init-root --drill --valid-from DATE" in line
    assert not (county / "node.db").exists()

    drill = enrol_drill_line(tmp_path / "drill", "2026-09-01")
    real_time = serve(drill.parent / "chengguan", "620102", "county")
    assert real_time.returncode == 2, real_time
    assert real_time.stderr.strip().splitlines() == [
        "hotline: the node's certificate is a drill hierarchy's (valid from 2026-09-01 00:00 "
        "+08:00): it serves only on a drill clock (--clock-start, --clock-speed or "
        "--clock-offset, docs/drills.md)"
    ]
    assert not (drill.parent / "chengguan" / "node.db").exists()
