"""Replication between levels: tickets flow down to whoever must act, signed results flow up.

Nodes run in-process over real gRPC; replication rounds are triggered explicitly so each test
controls exactly when a link is up.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from core.ticket.state import Stage, TicketState, TicketStatus
from core.ticket.vocabulary import MediationOutcome, Track
from node.devnet.samples import demo_tickets
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync import schema
from sync.codec import enum_number, from_message, to_message
from sync.log_store import EventLog
from tests.helpers.tickets import register_and_route, register_many, ticket_state
from tests.helpers.world import InProcessNode, World, chain_held, spec


def event_ids(node: InProcessNode) -> list[str]:
    with node.node.db.read() as conn:
        return list(conn.execute(select(schema.events.c.event_id)).scalars())


def test_a_routed_ticket_reaches_the_county_through_the_city(world: World) -> None:
    world.start_line()
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
        at_province = centre.get(ticket_id)
    world.sync("city", "chengguan")
    with world.officer("chengguan") as county:
        at_county = county.get(ticket_id)
    assert at_county == at_province
    assert from_message(TicketState, at_county).status is TicketStatus.ROUTED


def test_a_county_that_was_down_catches_up_without_losing_or_duplicating(world: World) -> None:
    world.start_line()
    world.take_down("chengguan")
    with world.officer("province") as centre:
        ids = [
            i for i in register_many(centre, 30) if ticket_state(centre, i).holder_unit == "620102"
        ]
    world.sync("city")
    assert len(ids) >= 5
    county = world.bring_up("chengguan")
    world.sync("chengguan")
    with world.officer("chengguan") as handler:
        for ticket_id in ids:
            handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    world.sync("chengguan", "city", "chengguan")
    held = event_ids(county)
    assert len(held) == len(set(held))
    with world.officer("province") as centre, world.officer("chengguan") as handler:
        for ticket_id in ids:
            assert handler.get(ticket_id) == centre.get(ticket_id)
            assert ticket_state(handler, ticket_id).status is TicketStatus.IN_HANDLING
    world.sync("chengguan", "chengguan")
    assert sorted(event_ids(county)) == sorted(held)


def test_a_county_keeps_working_while_its_parent_is_down(world: World) -> None:
    world.start_line()
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "fridge")
    world.sync("city", "chengguan")
    world.take_down("city")
    with world.officer("chengguan", 0) as handler, world.officer("chengguan", 1) as head:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        handler.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=ticket_id, outcome=enum_number(MediationOutcome.SETTLED)
            ),
        )
        handler.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=ticket_id, track=enum_number(Track.COMPLAINT), summary="商家同意换货"
            ),
        )
        head.step(
            "ApproveResult",
            cw.ApproveResultRequest(ticket_id=ticket_id, track=enum_number(Track.COMPLAINT)),
        )
        with world["chengguan"].client() as system:  # its system administrator
            report = system.sync_now()
        assert report.error
        closed_at_county = handler.get(ticket_id)
    world.bring_up("city")
    world.sync("chengguan", "city")
    with world.officer("province") as centre:
        assert centre.get(ticket_id) == closed_at_county
    assert from_message(TicketState, closed_at_county).status is TicketStatus.CLOSED


def test_a_county_never_receives_another_countys_tickets(world: World) -> None:
    for name in ("province", "city", "chengguan", "qilihe"):
        world.start(spec(name))
    with world.officer("province") as centre:
        ids = register_many(centre, 24, seed=11)
        holders = {i: ticket_state(centre, i).holder_unit for i in ids}
    world.sync("city", "chengguan", "qilihe")
    for name, unit in (("chengguan", "620102"), ("qilihe", "620103")):
        with world.officer(name) as county:
            held = {t.ticket_id for t in county.list_tickets()}
        assert held == {i for i, h in holders.items() if h == unit}
        with world[name].node.db.read() as conn:
            tickets_in_log = set(EventLog(conn).all_ticket_ids())
        assert tickets_in_log == held


def test_a_station_result_flows_up_and_every_level_agrees(world: World) -> None:
    for name in ("province", "city", "chengguan", "station"):
        world.start(spec(name))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        handler.step(
            "AssignToStation",
            cw.AssignToStationRequest(ticket_id=ticket_id, station_code="620102001"),
        )
    world.sync("station")
    with world.officer("station") as station:
        station.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=ticket_id,
                outcome=enum_number(MediationOutcome.AGREEMENT),
                agreement="退还余额3000元",
                amount_recovered_fen=300000,
            ),
        )
        station.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=ticket_id, track=enum_number(Track.COMPLAINT), summary="现场调解成功"
            ),
        )
    world.sync("station")
    with world.officer("chengguan", 1) as head:
        head.step(
            "ApproveResult",
            cw.ApproveResultRequest(ticket_id=ticket_id, track=enum_number(Track.COMPLAINT)),
        )
    world.sync("chengguan", "city", "station")
    copies = {}
    for name in ("province", "city", "chengguan", "station"):
        with world.officer(name) as client:
            copies[name] = client.get(ticket_id)
    assert len({c.SerializeToString(deterministic=True) for c in copies.values()}) == 1
    final = from_message(TicketState, copies["province"])
    complaint = final.track(Track.COMPLAINT)
    assert final.status is TicketStatus.CLOSED and complaint is not None
    assert complaint.stage is Stage.CLOSED and complaint.result is not None
    assert complaint.result.handler_id == "620102001-03"
    assert complaint.result.handling_unit == "620102"


def test_the_parent_holds_each_child_chain_exactly(world: World) -> None:
    world.start_line()
    with world.officer("chengguan") as handler:
        for label in ("gym", "fridge", "expired"):
            ticket = to_message(dict(demo_tickets())[label], intake_pb2.NewTicket)
            handler.register(uuid.uuid4().hex, ticket)
    world.sync("chengguan", "city")
    county_node = world["chengguan"].node
    with county_node.db.read() as conn:
        own = EventLog(conn).head(county_node.identity.node_id)
    for name in ("city", "province"):
        head, count = chain_held(world[name], county_node.identity.node_id)
        assert own is not None and head == own
        assert count == own.seq


def test_a_node_whose_parent_does_not_answer_stops_without_waiting_out_the_grace(
    world: World,
) -> None:
    # Nothing listens on port 9: the county's first round waits (up to its connect timeout
    # of 3 s) for a parent that never answers. It has nothing to finish, so a stop with a
    # grace of 5 s ends at once instead of waiting the grace out.
    county = world.start(spec("chengguan"), parent_address="127.0.0.1:9")
    link = county.node.link
    assert link is not None
    time.sleep(0.3)
    assert not link.exchanging
    started = time.perf_counter()
    county.run(county.node.stop(grace=5.0))
    assert time.perf_counter() - started < 1.0
