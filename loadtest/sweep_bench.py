"""``hotline bench sweep``: one escalation sweep over 200,000 open obligations.

Why this exists: deadlines are rows and the scheduler only sweeps (DESIGN.md rule 7), which is
only true if a sweep over a province's worth of open tickets costs little when few of them are
due. One run, on SQLite and then on PostgreSQL:

1. a province node (620000) registers ``due`` complaints against a Chengguan business and routes
   them to the county; the county node (620102) takes in those signed events exactly as it
   would from its parent's feed (signatures checked, chain and authority checks, projection),
   so each gets a real "decide acceptance" obligation;
2. ``obligations - due`` further open obligations are added to the county's obligations view
   with deadlines months away (rows only: they are what a sweep must not touch); on
   PostgreSQL the table is then analysed, as autovacuum would have done on a table that grew
   to that size over months (without statistics the planner scans it for every delete);
3. the county's sweep runs, untimed, at each moment the due tickets' reminders are owed, as a
   running node's would, so they are told on time (a reminder first recorded after the due
   time is recorded as missed, and would triple the timed sweep's events);
4. the county's clock is set to an hour after the due time, within the rule book's grace (past
   it, a county whose parent watches it leaves the escalation to its city and records
   nothing), and one sweep is timed: it finds the due rows through the index, folds each
   ticket, records and signs one escalation per ticket, and refreshes the projection and the
   obligations, in writer transactions.

The last line is JSON with the seconds for each database. Target: under one second each, with
one escalation held per due ticket (``as_specified``: otherwise the run measured something
else).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, insert, select

from core.deadlines.china_time import CHINA_TZ
from core.officers import Role
from core.ticket.commands import RouteTicket
from loadtest.harness import last_line, machine, offline_node, say, scratch_folder
from node.app.clock import Clock
from node.app.runtime import Node
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import demo_tickets
from node.storage.tables import obligations
from sync import schema
from sync.ingest import CheckedEvent, ingest_feed
from sync.log_store import EventLog
from sync.reasons import Refusal, Refused
from sync.verification import verify_all

PROVINCE, COUNTY = "620000", "620102"
OPERATOR, HANDLER = "620000-01", "620102-07"
START = dt.datetime(2026, 12, 1, 10, tzinfo=CHINA_TZ)  # a Tuesday; due at the end of 12-10
SWEEP_AT = dt.datetime(2026, 12, 11, 1, tzinfo=CHINA_TZ)


class _Time:
    def __init__(self, when: dt.datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


async def _dispatch(province: Node, count: int) -> list[str]:
    province.roster.save_officer(
        OPERATOR, "王芳", PROVINCE, frozenset({Role.OPERATOR, Role.DISPATCHER})
    )
    gym = dict(demo_tickets())["gym"]
    ids: list[str] = []
    for start in range(0, count, 250):
        batch = [
            replace(
                gym,
                consumer=replace(gym.consumer, phone=f"139{n:08d}"),
                facts=f"{gym.facts}（第{n}位会员）",
            )
            for n in range(start, min(count, start + 250))
        ]
        registered = await asyncio.gather(
            *(province.intake.register(uuid.uuid4().hex, t, OPERATOR) for t in batch)
        )
        await asyncio.gather(
            *(province.casework.act(r.ticket_id, RouteTicket(), OPERATOR) for r in registered)
        )
        ids.extend(r.ticket_id for r in registered)
    return ids


def _hand_down(province: Node, county: Node) -> None:
    """The county takes in the province's events as from its parent's feed."""
    with province.db.read() as conn:
        events = EventLog(conn).chain_after(province.identity.node_id, 0, 10**9)
    credentials = province.identity.credentials
    assert credentials is not None
    county.trust.add_node(credentials.certificate.certificate)  # as a feed batch would carry it
    key = credentials.certificate.event_public_key
    for start in range(0, len(events), 1000):
        chunk = events[start : start + 1000]
        verdicts = verify_all([(key, e.signature, e.envelope) for e in chunk])
        checked = [
            CheckedEvent(e, None if ok else Refused(Refusal.BAD_SIGNATURE))
            for e, ok in zip(chunk, verdicts, strict=True)
        ]
        county.writer.call(
            partial(
                ingest_feed, checked=checked, peer="bench", certificates=[credentials.certificate]
            )
        )


def _pad(county: Node, count: int) -> None:
    """Open obligations that are not due: rows of the view, as many as asked."""
    far = int((START + dt.timedelta(days=90)).timestamp() * 1000)
    rows = [
        {
            "ticket_id": f"bench-{n:07d}",
            "duty": "decide_acceptance",
            "unit_code": COUNTY,
            "started_ms": far - 10**9,
            "due_ms": far,
            "policy_version": "default-2026",
            "next_at_ms": far - 2 * 86_400_000,
            "escalate_at_ms": far,
            "escalation_level": 0,
            "escalated_to": "",
        }
        for n in range(count)
    ]
    with county.db.write() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(obligations), rows[start : start + 10_000])
    if county.db.backend == "postgresql":
        # A node's table grows to this size over months, with autovacuum keeping the planner's
        # statistics; loaded in one go, it has none, and PostgreSQL would plan each batch's
        # delete of a few hundred rows as a scan of all 200,000.
        with county.db.write() as conn:
            conn.exec_driver_sql("ANALYZE obligations")


def _remind_on_time(county: Node, time_: _Time) -> int:
    """Run the sweeps a running node makes before the due time, each at the next moment a
    reminder is owed; returns how many events they recorded."""
    sweep = county.jobs.jobs["deadlines"]
    until = int(SWEEP_AT.timestamp() * 1000)
    recorded = 0
    while True:
        with county.db.read() as conn:
            next_ms = conn.execute(
                select(func.min(obligations.c.next_at_ms)).where(
                    obligations.c.next_at_ms < obligations.c.due_ms,
                    obligations.c.next_at_ms <= until,
                )
            ).scalar_one()
        if next_ms is None:
            return recorded
        time_.now = next_ms / 1000
        recorded += asyncio.run(sweep.run_once())


def _count(county: Node) -> int:
    # Counted by the database: reading 200,000 rows into Python just before the timed sweep
    # would leave it to pay for collecting them.
    with county.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(obligations)).scalar_one())


@contextmanager
def _start_up_frozen() -> Iterator[None]:
    """What the nodes' start-up made, out of the collector's way while the block runs.

    A started node does this (``Node.start``: ``gc.freeze``); the benchmark's nodes are built
    without being started, and without it a full collection during the timed sweep walks some
    100,000 start-up objects (60-120 ms, in about one sweep of two), which no running node
    pays. Undone after, since the next database's nodes are built in this same process.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_one(folder: Path, db_for: dict[str, str], total: int, due: int) -> dict[str, Any]:
    """Build the world on one database kind and time one sweep."""
    hierarchy = Hierarchy.throwaway(folder / "pki")
    time_ = _Time(START)

    def node(name: str, unit: str) -> AbstractContextManager[Node]:
        clock = Clock(_real=time_)  # moved by hand: reminder moments, then the due time passed
        return offline_node(folder / name, hierarchy, unit, db=db_for[name], clock=clock)

    with (
        node("province", PROVINCE) as province,
        node("county", COUNTY) as county,
        _start_up_frozen(),
    ):
        county.roster.save_officer(HANDLER, "李强", COUNTY, frozenset({Role.HANDLER}))
        asyncio.run(_dispatch(province, due))
        _hand_down(province, county)
        _pad(county, total - due)
        reminded = _remind_on_time(county, time_)
        held = _count(county)
        time_.now = SWEEP_AT.timestamp()
        started = time.perf_counter()
        recorded = asyncio.run(county.jobs.jobs["deadlines"].run_once())
        seconds = time.perf_counter() - started
        with county.db.read() as conn:
            escalations = conn.execute(
                select(schema.events.c.event_id).where(
                    schema.events.c.event_type == "hotline.v1.TicketEscalated"
                )
            ).all()
        return {
            "obligations": held,
            "due": due,
            "reminders_before": reminded,
            "recorded": recorded,
            "escalations_held": len(escalations),
            "seconds": round(seconds, 3),
            "database": county.db.backend,
        }


def _postgres_urls(admin: str, names: list[str]) -> dict[str, str]:
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.replace("postgresql://", "postgresql+psycopg://")
    return {n.rsplit("_", 1)[-1]: f"{base}/{n}" for n in names}


def _drop(admin: str, names: list[str]) -> None:
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_sweep_bench(*, obligations_total: int = 200_000, due: int = 2_000, pg: str = "") -> int:
    """Run on SQLite, then on PostgreSQL at ``pg``; print a summary and a JSON line."""
    results: dict[str, Any] = {"benchmark": "sweep", "obligations": obligations_total, "due": due}
    with scratch_folder("sweep") as root:
        sqlite = {
            "province": f"sqlite:///{root / 'sqlite-province.db'}",
            "county": f"sqlite:///{root / 'sqlite-county.db'}",
        }
        results["sqlite"] = run_one(root / "sqlite", sqlite, obligations_total, due)
        say(f"SQLite: {results['sqlite']}")
        admin = pg or os.environ.get("HOTLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
        names = [f"hotline_bench_sweep_{uuid.uuid4().hex[:8]}_{n}" for n in ("province", "county")]
        try:
            urls = _postgres_urls(admin, names)
        except psycopg.Error as exc:
            results["postgresql"] = {"skipped": str(exc).strip().splitlines()[0]}
        else:
            try:
                results["postgresql"] = run_one(root / "pg", urls, obligations_total, due)
            finally:
                _drop(admin, names)
        say(f"PostgreSQL: {results['postgresql']}")
    seconds = [r["seconds"] for r in (results["sqlite"], results["postgresql"]) if "seconds" in r]
    results["as_specified"] = all(
        r.get("recorded") == r.get("escalations_held") == due
        for r in (results["sqlite"], results["postgresql"])
        if "seconds" in r
    )
    results["targets_met"] = (
        len(seconds) == 2 and all(s < 1.0 for s in seconds) and results["as_specified"]
    )
    results["machine"] = machine()
    last_line(results)
    return 0
