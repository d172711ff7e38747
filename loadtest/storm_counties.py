"""The simulated counties of a replication storm: real nodes with backlogs, reconnecting at once.

Why this exists: a replication storm (``hotline loadtest storm``, ``loadtest.storm``) needs many
counties that each hold a backlog of genuinely signed events and speak SyncService with a real
enrolled certificate, exactly as a county does when it comes back after a cut. Each simulated
county here is a node of the project built by the wiring function (``node.app.wiring``): its
backlog is registered at its own intake desk while its parent is unreachable, and its
reconnection is its own ``sync.client.ParentLink`` (the back-off on the parent's hint
included). Many counties run as asyncio tasks in a few worker processes.

The county codes are divisions of Lanzhou (6201xx) missing from the GB/T 2260 table, so each
county registers its own unit (``Roster.save_unit``) before its node is built.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
import uuid
from pathlib import Path
from threading import Barrier
from typing import Any

from core.officers import Role
from core.units import UnitLevel
from loadtest.harness import now_ms, offline_node
from node.app.blocking import BlockingPool
from node.app.levels import profile_of
from node.app.runtime import Node
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from node.desks.roster import Roster
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import credit_code, random_ticket
from node.storage.database import Database
from sync.errors import ReplicationError
from sync.log_store import EventLog

CITY = "620100"
FIRST_COUNTY = 31
"""The simulated counties are 620131, 620132, ...: none of them is in the GB/T 2260 table."""
MAX_COUNTIES = 99 - FIRST_COUNTY + 1


def county_codes(count: int) -> list[str]:
    """The unit codes of ``count`` simulated counties under the city."""
    if not 1 <= count <= MAX_COUNTIES:
        raise ValueError(f"a storm has 1 to {MAX_COUNTIES} counties, not {count}")
    return [f"6201{FIRST_COUNTY + i:02d}" for i in range(count)]


def _register_unit(folder: Path, unit: str) -> None:
    """Make the county's unit known in its own database before its node is built."""
    settings = NodeSettings(level=UnitLevel.COUNTY, unit=unit, data_dir=folder)
    db = Database.open(settings.database_url)
    blocking = BlockingPool(wait_limit=settings.wait_limit)
    try:
        Roster(db, unit, blocking).save_unit(unit, f"模拟县{unit}", UnitLevel.COUNTY, CITY)
    finally:
        blocking.close()
        db.close()


async def _register(node: Node, unit: str, events: int, seed: int) -> None:
    """``events`` complaints against businesses of the county itself (one signed event each)."""
    officer = f"{unit}-07"
    node.roster.save_officer(officer, "李强", unit, frozenset({Role.HANDLER}))
    rng = random.Random(seed)
    tickets = []
    for i in range(events):
        ticket = random_ticket(rng)
        business = dataclasses.replace(
            ticket.respondent, operating_region=unit, credit_code=credit_code(unit, 10_000 + i)
        )
        tickets.append(dataclasses.replace(ticket, respondent=business))
    await asyncio.gather(*(node.intake.register(uuid.uuid4().hex, t, officer) for t in tickets))


def _own_length(node: Node) -> int:
    """How many events the node's own chain holds."""
    with node.db.read() as conn:
        head = EventLog(conn).head(node.identity.node_id)
    return 0 if head is None else head.seq


def build_backlog(folder: Path, hierarchy: Hierarchy, unit: str, events: int) -> int:
    """Enrol a county in ``folder`` and register its backlog offline; its chain's length."""
    folder.mkdir(parents=True, exist_ok=True)
    hierarchy.enrol(folder, unit, now_ms())
    _register_unit(folder, unit)
    with offline_node(folder, hierarchy, unit) as county:
        asyncio.run(_register(county, unit, events, seed=int(unit)))
        return _own_length(county)


@dataclasses.dataclass
class Reconnection:
    """How one county's reconnection went: what it held, what the parent acknowledged."""

    unit: str
    node_id: str
    held: int
    """The length of the county's own chain."""
    acknowledged: int = 0
    """How far the parent holds that chain, from its answer to the county's last push."""
    pushed_back: int = 0
    """Rounds the parent refused as busy (RESOURCE_EXHAUSTED) before it took the backlog."""
    other_failures: int = 0
    seconds: float = 0.0
    error: str = ""


async def _reconnect(node: Node, deadline: float) -> Reconnection:
    """Run the county's link until the parent holds its whole chain, honouring push-back."""
    link = node.link
    assert link is not None, "a simulated county always has a parent"
    held = _own_length(node)
    result = Reconnection(node.identity.unit_code, node.identity.node_id, held)
    started = time.perf_counter()
    while time.monotonic() < deadline:
        try:
            await link.sync_once()
        except ReplicationError as exc:
            if exc.code != "RESOURCE_EXHAUSTED":
                result.other_failures += 1
                result.error = str(exc)
            await asyncio.sleep(link.backoff_delay())
            continue
        result.acknowledged = link.status.pushed_seq
        if result.acknowledged >= held:
            break
    result.pushed_back = link.status.pushed_back
    result.seconds = time.perf_counter() - started
    return result


async def _reconnect_all(
    folders: list[tuple[str, str]], parent: str, seconds: float, ready: Barrier | None
) -> list[Reconnection]:
    nodes = []
    for unit, folder in folders:
        settings = NodeSettings(
            level=UnitLevel.COUNTY,
            unit=unit,
            data_dir=Path(folder),
            parent=parent,
            sync_interval=3600,
        )
        node = build_node(settings, profile_of(UnitLevel.COUNTY))
        node.writer.start()
        nodes.append(node)
    try:
        if ready is not None:
            # Every worker's nodes are built before any county reconnects: the storm starts
            # at once for all of them, and the start-up of the worker processes (a second on
            # an idle machine, many on a busy one) is not inside it.
            await asyncio.get_running_loop().run_in_executor(None, ready.wait, seconds)
        deadline = time.monotonic() + seconds
        return list(await asyncio.gather(*(_reconnect(n, deadline) for n in nodes)))
    finally:
        for node in nodes:
            if node.link is not None:
                await node.link.close()
            node.writer.stop()
            node.verifier.close()
            node.blocking.close()
            node.db.close()


def reconnect_counties(
    folders: list[tuple[str, str]], parent: str, seconds: float, ready: Barrier | None = None
) -> list[dict[str, Any]]:
    """A worker process's share of the storm: its counties reconnect at once (as tasks), once
    every party of ``ready`` (the other workers and the storm's conductor) is ready."""
    results = asyncio.run(_reconnect_all(folders, parent, seconds, ready))
    return [dataclasses.asdict(r) for r in results]
