"""Replication batches are cut by bytes as well as by count, so a backlog of the heaviest
events still travels within what a node receives (``sync.batch_limits``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.devnet.hierarchy import Hierarchy
from node.edge.client import NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.batch_limits import BATCH_MESSAGE_LIMIT, by_size
from sync.codec import to_message
from sync.log_store import EventLog
from tests.helpers.heavy import heaviest_registration
from tests.helpers.world import InProcessNode, World

HEAVY = 230
"""Heaviest registrations of a backlog: about 17.7 MB, more than one message may hold."""


def test_runs_are_cut_at_the_budget_in_order_and_an_item_too_big_travels_alone() -> None:
    sizes = [3, 4, 2, 9, 1, 1, 5]
    runs = list(by_size(sizes, lambda s: s, budget=6))
    assert runs == [[3], [4, 2], [9], [1, 1], [5]]
    assert [s for run in runs for s in run] == sizes
    assert list(by_size([], len)) == []


@pytest.fixture
def sqlite_world(tmp_path: Path, hierarchy: Hierarchy) -> Iterator[World]:
    """A world on SQLite only: batches are cut before any database sees them, and a backlog of
    the heaviest events is costly enough to build once."""
    counter = iter(range(100))
    world = World(
        tmp_path, lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}", hierarchy
    )
    try:
        yield world
    finally:
        world.stop()


def register_heavy(client: NodeClient, count: int, *, route: bool) -> None:
    for n in range(count):
        ticket = to_message(heaviest_registration(f"-{n:04d}"), intake_pb2.NewTicket)
        ticket_id = client.register(uuid.uuid4().hex, ticket, timeout=60).ticket_id
        if route:
            client.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))


def held(node: InProcessNode) -> int:
    with node.node.db.read() as conn:
        return EventLog(conn).count_events()


def test_a_backlog_heavier_than_a_message_is_pulled_and_pushed_in_batches(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    world.start_line()
    assert HEAVY * 77_000 > BATCH_MESSAGE_LIMIT
    # Downward: the province's feed to the city, then the city's to the county.
    with world.officer("province") as centre:
        register_heavy(centre, HEAVY, route=True)
    world.sync("city", "chengguan")
    with world.officer("chengguan") as handler:
        assert len(handler.list_tickets(page_size=500)) == HEAVY
    # Upward: the county's own walk-ins pushed to the city.
    before = held(world["city"])
    with world.officer("chengguan") as handler:
        register_heavy(handler, HEAVY, route=False)
    world.sync("chengguan")
    assert held(world["city"]) >= before + HEAVY
