"""`sync status` drains: once a child has pulled everything, no feed counter stays above zero.

The parent's feed also carries, for the unit holding a ticket, the events that unit recorded
itself (the child pushed them up and has them already), and events kept only as evidence. The
child never pulls those, so a count that included them stood still after every round.
"""

from __future__ import annotations

import uuid

from core.ticket.commands import AcceptComplaint
from node.devnet.samples import demo_tickets
from proto.hotline.v1 import admin_pb2, intake_pb2
from proto.hotline.v1 import casework_pb2 as cw
from sync.codec import to_message
from tests.helpers.world import World, spec


def parent_peer(status: admin_pb2.SyncStatus) -> admin_pb2.PeerLag:
    return next(p for p in status.peers if p.role == "parent")


def child_peer(status: admin_pb2.SyncStatus, node_id: str) -> admin_pb2.PeerLag:
    return next(p for p in status.peers if p.role == "child" and p.node_id == node_id)


def test_sync_status_drains_after_the_county_pushes_its_own_steps_and_pulls_nothing(
    world: World,
) -> None:
    for name in ("province", "city", "chengguan"):
        world.start(spec(name))
    with world.officer("province") as centre:
        ticket = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
        ticket_id = centre.register(uuid.uuid4().hex, ticket).ticket_id
        centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    world.sync("city", "chengguan")
    with world.officer("chengguan") as county:
        request = to_message(AcceptComplaint(note="受理"), cw.AcceptComplaintRequest)
        request.ticket_id = ticket_id
        county.step("AcceptComplaint", request)
    # Up to the city (which feeds the holder its own step), then a round that pulls nothing.
    world.sync("chengguan", "chengguan")
    with world["chengguan"].client() as county_admin:
        assert county_admin.sync_now().pulled == 0
        county_status = county_admin.sync_status()
    assert parent_peer(county_status).unpulled_events == 0
    with world["city"].client() as city_admin:
        city_status = city_admin.sync_status()
    county_id = world["chengguan"].node.identity.node_id
    assert child_peer(city_status, county_id).unpulled_events == 0
