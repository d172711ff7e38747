"""Supervision from above on real nodes (issue 10, item 1): a dark county's overdue duty is
escalated by its city on time, counted once everywhere when the county returns, and voided
everywhere when the county turns out to have acted in time while cut off.

The province 620000, the city 620100 and the county Chengguan 620102 run in-process on a clock
the test moves by hand; each sweep and replication round runs when the test says so, so "cut
off" is simply a node that does not sync, and "dark" one that is taken down. The complaint is
received on Tuesday 2026-12-01 and due at the end of 12-10 (12-11 00:00); level 2 is three
working days later, 12-16 00:00. The rule book's grace is the default four hours.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.deadlines.sweep import DEFAULT_SUPERVISION_GRACE_MS
from core.ticket.escalation_history import counted_escalations
from core.ticket.state import TicketState
from core.ticket.vocabulary import EscalationOutcome
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import rules_pb2
from sync.codec import from_message
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.link_proxy import LinkProxy
from tests.helpers.tickets import register_and_route
from tests.helpers.world import World, spec, sweep

DUE = china("2026-12-11", 0)
LEVEL_2 = china("2026-12-16", 0)
GRACE = dt.timedelta(milliseconds=DEFAULT_SUPERVISION_GRACE_MS)
NODES = ("province", "city", "chengguan")
HANDLER = "620102-07"


def start_line(world: World, time: HandMovedTime, county_parent: str = "") -> None:
    """The province, the city and Chengguan on the hand-moved clock; Chengguan reaches the city
    at ``county_parent`` when given (a ``LinkProxy`` the test cuts)."""
    for name in ("province", "city"):
        world.start(spec(name), clock=Clock(_real=time))
    world.start(spec("chengguan"), clock=Clock(_real=time), parent_address=county_parent)


def route_the_gym_complaint(world: World) -> str:
    """The gym complaint, registered and routed at the province, held at Chengguan."""
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    return ticket_id


def start_with_a_routed_complaint(world: World) -> tuple[HandMovedTime, str]:
    """The line of nodes on a hand-moved clock and the gym complaint held at Chengguan."""
    time = HandMovedTime(china("2026-12-01", 10))
    start_line(world, time)
    return time, route_the_gym_complaint(world)


def seen_at(world: World, name: str, ticket_id: str) -> TicketState:
    with world.officer(name) as client:
        return from_message(TicketState, client.get(ticket_id))


def counted(state: TicketState) -> list[tuple[int, str]]:
    return [(r.level, r.to_unit) for r in counted_escalations(state)]


def escalated_to(client: NodeClient) -> list[str]:
    return [e.ticket_id for e in client.queue().escalated_to_us]


def test_a_dark_county_is_escalated_by_its_city_on_time_and_counted_once_when_it_returns(
    world: World,
) -> None:
    time, ticket_id = start_with_a_routed_complaint(world)
    world.take_down("chengguan")  # switched off before its first reminder: dark past its deadline
    city, province = world["city"], world["province"]

    time.set(DUE + GRACE - dt.timedelta(minutes=1))
    assert sweep(city) == 0  # the county's own escalation may still be on its way
    time.set(DUE + GRACE)
    assert sweep(city) == 1  # level 1, into the city's own queue, signed by the city's node
    assert sweep(province) == 0  # two levels above: it waits two grace periods
    world.sync("city")
    time.set(DUE + 3 * GRACE)
    assert sweep(province) == 0  # level 1 has reached it from the city
    with world.officer("city") as officer:
        assert escalated_to(officer) == [ticket_id]

    time.set(LEVEL_2 + GRACE)
    assert sweep(city) == 1  # level 2, into the province's queue
    world.sync("city")
    with world.officer("province") as centre:
        assert escalated_to(centre) == [ticket_id]
    with world.officer("city") as officer:
        city_node = officer.info().node_id

    # The county comes back. Its sweep leaves the late levels to the city, and tells nobody of
    # the reminders whose moments passed while it was off: they are history, as missed.
    county = world.bring_up("chengguan", clock=Clock(_real=time))
    time.set(LEVEL_2 + GRACE + dt.timedelta(minutes=5))
    assert sweep(county) == 3
    world.sync("chengguan", "city", "chengguan")
    assert sweep(county) == 0

    states = [seen_at(world, name, ticket_id) for name in NODES]
    assert states[0] == states[1] == states[2]  # every level's copy agrees
    state = states[0]
    assert counted(state) == [(1, "620100"), (2, "620000")]
    assert {r.origin_node for r in state.escalation_history} == {city_node}
    assert [(r.level.value, r.missed) for r in state.reminders_sent] == [
        ("handler", True),
        ("unit_head", True),
        ("supervising_unit", True),
    ]
    assert not state.in_conflict


def test_an_acceptance_taken_in_time_while_cut_off_voids_the_citys_escalation_everywhere(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    for name in ("province", "city"):
        world.start(spec(name), clock=Clock(_real=time))
    with LinkProxy("127.0.0.1", world["city"].peer_port) as link:
        world.start(spec("chengguan"), clock=Clock(_real=time), parent_address=link.address)
        ticket_id = route_the_gym_complaint(world)
        link.cut()  # Chengguan is cut off from here on; it accepts on the due day
        time.set(china("2026-12-10", 15))
        with world.officer("chengguan") as handler:
            handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))

        time.set(DUE + GRACE)
        assert sweep(world["city"]) == 1  # the city cannot know: it escalates
        world.sync("city")
        assert [e.level for e in seen_at(world, "province", ticket_id).escalations] == [1]
        with world.officer("city") as officer:
            assert escalated_to(officer) == [ticket_id]

        link.heal()
        world.sync("chengguan", "city", "chengguan")  # the backlog goes up, the escalation down
    for name in NODES:
        state = seen_at(world, name, ticket_id)
        assert state.escalations == (), name
        assert [r.outcome for r in state.escalation_history] == [EscalationOutcome.SUPERSEDED]
        assert counted(state) == [], name
        assert not state.in_conflict
    with world.officer("city") as officer:
        assert escalated_to(officer) == []
    assert sweep(world["city"]) == 0 and sweep(world["province"]) == 0

    # What an officer reads in `hotline show` on the county.
    capsys.readouterr()
    assert hotline(["show", ticket_id, *world["chengguan"].cli(HANDLER)]) == 0
    shown = capsys.readouterr().out
    tally = "counted: 0; not counted (superseded 已撤销, repeated 重复 or void 无效): 1"
    assert f"ESCALATIONS (督办) {tally}" in shown
    assert "TicketEscalated 督办(逾期升级)" in shown and "[superseded 已撤销(按时办理)]" in shown


def test_the_grace_is_the_one_the_province_publishes_in_its_rule_book(world: World) -> None:
    time, ticket_id = start_with_a_routed_complaint(world)
    with world.officer("province", 1) as supervisor:
        view = supervisor.amend_rules(rules_pb2.RuleAmendment(supervision_grace_minutes=60))
    assert view.rule_book.supervision_grace_minutes == 60
    world.sync("city")
    assert world["city"].node.deadlines.grace_ms == 3_600_000
    world.take_down("chengguan")
    time.set(DUE + dt.timedelta(minutes=59))
    assert sweep(world["city"]) == 0
    time.set(DUE + dt.timedelta(minutes=60))
    assert sweep(world["city"]) == 1
    assert counted(seen_at(world, "city", ticket_id)) == [(1, "620100")]


def test_a_grace_out_of_range_is_refused_naming_the_field(world: World) -> None:
    start_with_a_routed_complaint(world)
    with world.officer("province", 1) as supervisor:
        with pytest.raises(CallError) as refused:
            supervisor.amend_rules(rules_pb2.RuleAmendment(supervision_grace_minutes=20_000))
        assert refused.value.code == "INVALID_ARGUMENT"
        assert refused.value.message.startswith("supervision_grace_minutes:")
        assert supervisor.rules().rule_book.number == 0  # nothing published
