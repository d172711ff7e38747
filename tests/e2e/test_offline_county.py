"""A county process killed mid-work comes back and catches up; nothing is lost or doubled."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import create_engine, text

from core.ticket.state import TicketState
from node.devnet.processes import LocalNetwork
from node.devnet.samples import GANSU_WORLD, random_ticket
from node.storage.database import normalize_url
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.codec import from_message, to_message


def event_ids(net: LocalNetwork, name: str) -> list[str]:
    node = net[name]
    url = normalize_url(node.db_url or f"sqlite:///{node.data_dir / 'node.db'}")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT event_id FROM events"))]
    finally:
        engine.dispose()


@pytest.mark.processes
def test_a_killed_county_catches_up_without_losing_or_duplicating(network: LocalNetwork) -> None:
    network.start_world(GANSU_WORLD, only={"province", "city", "chengguan"})
    rng = random.Random(3)
    with network.client("province", "620000-01") as centre:
        first = []
        for _ in range(10):
            ticket_id = centre.register(
                uuid.uuid4().hex, to_message(random_ticket(rng), intake_pb2.NewTicket)
            ).ticket_id
            centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
            first.append(ticket_id)
    network.settle()
    network["chengguan"].kill()  # SIGKILL: no goodbye
    with network.client("province", "620000-01") as centre:
        later = []
        for _ in range(15):
            ticket_id = centre.register(
                uuid.uuid4().hex, to_message(random_ticket(rng), intake_pb2.NewTicket)
            ).ticket_id
            centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
            later.append(ticket_id)
    network["chengguan"].start()
    network.settle()
    with (
        network.client("province", "620000-01") as centre,
        network.client("chengguan", "620102-07") as handler,
    ):
        mine = [
            t
            for t in first + later
            if from_message(TicketState, centre.get(t)).holder_unit == "620102"
        ]
        for ticket_id in mine:
            handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    network.settle()
    with (
        network.client("province", "620000-01") as centre,
        network.client("chengguan", "620102-07") as handler,
    ):
        for ticket_id in mine:
            assert handler.get(ticket_id) == centre.get(ticket_id)
    county = event_ids(network, "chengguan")
    assert len(county) == len(set(county))
    assert set(county) <= set(event_ids(network, "province"))
