"""A walk-in for another county reaches the competent county, which owes its deadline there.

Issue 10, item 2. A consumer walks into the Chengguan bureau (来访) to complain about a business
in Qilihe. Chengguan cannot decide on the complaint and does not dispatch: its node forwards
the ticket with the registration (转办), and replication carries it through the city to Qilihe,
whose queue owes the decision; Chengguan's owes nothing and keeps following its ticket. A
business in another city's county goes the same way, through the province.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from core.ticket.events import TicketForwarded
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import Channel, Duty, Respondent
from node.devnet.samples import NodeSpec, OfficerSpec, credit_code, demo_tickets
from node.edge.client import NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.codec import from_message, to_message
from tests.helpers.tickets import entries, ticket_state
from tests.helpers.world import World, spec

TIANSHUI = NodeSpec(
    "tianshui",
    spec("city").level,
    "620500",
    "province",
    (OfficerSpec("620500-01", "牛强", spec("city").officers[0].roles),),
)
"""天水市局: a second city of Gansu, for a walk-in across cities."""

QINZHOU = NodeSpec(
    "qinzhou",
    spec("qilihe").level,
    "620502",
    "tianshui",
    (OfficerSpec("620502-05", "石磊", spec("qilihe").officers[0].roles),),
)
"""秦州区局, a county of Tianshui."""

BAKERY = Respondent(
    "天水麦香烘焙坊",
    credit_code("620502", 8008),
    address="秦州区民主西路18号",
    operating_region="620502",
)


def walk_in(label: str, respondent: Respondent | None = None) -> intake_pb2.NewTicket:
    """The demo ticket ``label`` as a visit (来访), optionally against another business."""
    command = replace(dict(demo_tickets())[label], channel=Channel.VISIT)
    if respondent is not None:
        command = replace(command, respondent=respondent)
    return to_message(command, intake_pb2.NewTicket)


def register(client: NodeClient, ticket: intake_pb2.NewTicket) -> str:
    """Register ``ticket`` at the client's node; its id."""
    return client.register(uuid.uuid4().hex, ticket).ticket_id


def decisions_owed(client: NodeClient, ticket_id: str) -> list[str]:
    """The units that owe a decision on the ticket in the client's unit's queue."""
    return [
        e.unit_code
        for e in entries(client.queue())
        if e.ticket_id == ticket_id and e.duty == Duty.DECIDE_ACCEPTANCE.value
    ]


def copies(world: World, ticket_id: str, *names: str) -> dict[str, TicketState]:
    """The ticket as each named node holds it."""
    found = {}
    for name in names:
        with world.officer(name) as client:
            found[name] = from_message(TicketState, client.get(ticket_id))
    return found


def test_a_walk_in_at_chengguan_against_a_qilihe_business_ends_at_qilihe(world: World) -> None:
    world.start_all("province", "city", "chengguan", "qilihe")
    with world.officer("chengguan") as chengguan:
        ticket_id = register(chengguan, walk_in("school"))  # 七里河区的培训学校
        at_registration = ticket_state(chengguan, ticket_id)
    assert (at_registration.status, at_registration.holder_unit) == (
        TicketStatus.ROUTED,
        "620103",
    )

    world.sync("chengguan", "qilihe", "city")

    with world.officer("qilihe") as qilihe, world.officer("chengguan") as chengguan:
        assert decisions_owed(qilihe, ticket_id) == ["620103"]
        assert decisions_owed(chengguan, ticket_id) == []
        history = [e.event_type for e in qilihe.history(ticket_id).entries]
    assert history == ["TicketRegistered", TicketForwarded.__name__]
    held = copies(world, ticket_id, "chengguan", "city", "qilihe", "province")
    assert held["qilihe"].holder_unit == "620103"
    assert all(state == held["qilihe"] for state in held.values()), held

    with world.officer("qilihe") as qilihe:
        qilihe.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    world.sync("qilihe", "city", "chengguan")
    held = copies(world, ticket_id, "chengguan", "city", "qilihe", "province")
    assert held["chengguan"].status is TicketStatus.IN_HANDLING  # it follows its walk-in
    assert all(state == held["qilihe"] for state in held.values()), held


def test_a_walk_in_at_a_station_reaches_the_competent_county(world: World) -> None:
    world.start_all("province", "city", "chengguan", "qilihe", "station")
    with world.officer("station") as station:
        ticket_id = register(station, walk_in("school"))

    world.sync("station", "chengguan", "qilihe", "city")

    with world.officer("qilihe") as qilihe, world.officer("chengguan") as chengguan:
        assert decisions_owed(qilihe, ticket_id) == ["620103"]
        assert decisions_owed(chengguan, ticket_id) == []
    held = copies(world, ticket_id, "station", "chengguan", "city", "qilihe", "province")
    assert held["qilihe"].holder_unit == "620103"
    assert held["qilihe"].assigned_station == ""
    assert all(state == held["qilihe"] for state in held.values()), held


def test_a_walk_in_for_a_county_of_another_city_reaches_it_through_the_province(
    world: World,
) -> None:
    world.start_all("province", "city", "chengguan")
    world.start(TIANSHUI)
    world.start(QINZHOU)
    with world.officer("chengguan") as chengguan:
        ticket_id = register(chengguan, walk_in("gym", BAKERY))

    world.sync("chengguan", "city", "tianshui", "qinzhou")

    with world.officer("qinzhou") as qinzhou, world.officer("chengguan") as chengguan:
        assert decisions_owed(qinzhou, ticket_id) == ["620502"]
        assert decisions_owed(chengguan, ticket_id) == []
    held = copies(world, ticket_id, "chengguan", "city", "province", "tianshui", "qinzhou")
    assert (held["qinzhou"].holder_unit, held["qinzhou"].last_router_unit) == (
        "620502",
        "620000",
    )
    assert all(state == held["qinzhou"] for state in held.values()), held
