"""Supervision from above on real node processes, on the accelerated drill clock (issue 10).

``test_deadline_drill`` shows a county that runs, cut off or not, escalating its own overdue
duties. Here the county does not run: its node is switched off (a power cut, a laptop in a
drawer) before its deadline, and the levels above must still put its overdue work in their
queues on time (DOMAIN.md §6). And a county that acted in time while cut off must not be
counted as late once its link returns.

The Gansu line as in ``test_deadline_drill``: the province 620000, the city 620100 and the
county Chengguan 620102 as ``hotline serve`` processes on the same drill clock, a drill day
per real second from 2026-12-01 10:00 China time. The province publishes a grace of two drill
days (``tests.helpers.drill.publish_grace``). The gym complaint is due at 12-11 00:00; level 2
(the province) is due at 12-16 00:00. The city records each level one grace period after its
instant (12-13, 12-18), the province two (12-20 for level 2) when the city is dark too.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core import hlc
from core.deadlines.china_time import CHINA_TZ
from core.ticket.escalation_history import counted_escalations
from core.ticket.state import TicketState
from core.ticket.vocabulary import EscalationOutcome
from node.devnet.processes import LocalNetwork
from node.devnet.samples import GANSU_WORLD
from node.edge.client import NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from tests.helpers.drill import (
    CITY_OFFICER,
    DRILL_GRACE_MINUTES,
    GANSU_DRILL_START,
    HANDLER,
    Drill,
    add_county_behind,
    publish_grace,
    route_gym_complaint_before_the_drill,
)
from tests.helpers.link_proxy import LinkProxy
from tests.helpers.tickets import ticket_state
from tests.helpers.waiting import wait_until

DRILL_START = GANSU_DRILL_START
SETUP_SECONDS = 40.0
"""Real seconds to the drill's anchor: three nodes up, the grace published, the complaint
routed (about 6 s idle; room for a busy machine, as in ``test_deadline_drill``)."""
LATE = 3.0
"""Real seconds (drill days) a wait may run past the drill instant it waits for."""
CATCH_UP = 30.0
"""Real seconds a returning node may take to catch up (a failing round waits for its
connection deadline before it says so)."""
GRACE = dt.timedelta(minutes=DRILL_GRACE_MINUTES)
COUNTY, CITY, PROVINCE = "620102", "620100", "620000"
CENTRE = "620000-01"


def china(day: str, hour: int = 0) -> dt.datetime:
    """``hour`` o'clock on ``day``, China time."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA_TZ)


DUE = china("2026-12-11")
LEVEL_2 = china("2026-12-16")


@pytest.fixture
def drill(network: LocalNetwork) -> Drill:
    """A drill clock anchored ``SETUP_SECONDS`` from now, given to every node of ``network``."""
    clock = Drill(
        start=DRILL_START, anchor=time.time() + SETUP_SECONDS, sweep_interval=0.1, late=LATE
    )
    network.node_args = clock.node_args()
    return clock


def when(hlc_value: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(hlc.to_millis(hlc_value) / 1000, CHINA_TZ)


def levels(client: NodeClient, ticket_id: str) -> list[int]:
    return [e.level for e in ticket_state(client, ticket_id).escalations]


def escalated_to(client: NodeClient) -> list[str]:
    return [e.ticket_id for e in client.queue().escalated_to_us]


def assert_recorded_within_a_drill_day_of(at_hlc: int, moment: dt.datetime) -> None:
    """On time: in the sweep after ``moment``, allowing a busy machine its ``LATE`` seconds."""
    assert moment <= when(at_hlc) < moment + dt.timedelta(days=LATE), when(at_hlc)


@pytest.mark.processes
def test_a_dark_county_is_escalated_from_above_on_time_and_counted_once_when_it_returns(
    network: LocalNetwork, drill: Drill
) -> None:
    """Chengguan's node is off from before the drill begins. The city puts the overdue
    acceptance in its own queue one grace period after the deadline; then the city goes dark
    too, and the province puts it in its queue two grace periods after level 2 fell due. When
    both come back, every node shows exactly one escalation per level, none repeated, and the
    county's three reminders, whose moments passed while it was off, are history as missed:
    nobody was told late."""
    network.start_world(GANSU_WORLD, only={"province", "city", "chengguan"})
    publish_grace(network)
    ticket_id = route_gym_complaint_before_the_drill(network, drill)
    network["chengguan"].stop()

    with network.client("city", CITY_OFFICER) as city, network.client("province", CENTRE) as centre:
        city_node, province_node = city.info().node_id, centre.info().node_id
        drill.wait_for(
            "the city has escalated level 1", lambda: levels(city, ticket_id) == [1], by=DUE + GRACE
        )
        (level_1,) = ticket_state(city, ticket_id).escalations
        assert (level_1.to_unit, level_1.origin_node) == (CITY, city_node)
        assert_recorded_within_a_drill_day_of(level_1.escalated_hlc, DUE + GRACE)
        assert escalated_to(city) == [ticket_id]
        drill.wait_for(
            "the province holds the city's level 1",
            lambda: levels(centre, ticket_id) == [1],
            by=DUE + GRACE,
        )
    network["city"].stop()  # dark as well, before level 2 falls due

    with network.client("province", CENTRE) as centre:
        drill.wait_for(
            "the province has escalated level 2",
            lambda: levels(centre, ticket_id) == [1, 2],
            by=LEVEL_2 + 2 * GRACE,
        )
        level_2 = ticket_state(centre, ticket_id).escalations[1]
        assert (level_2.to_unit, level_2.origin_node) == (PROVINCE, province_node)
        assert_recorded_within_a_drill_day_of(level_2.escalated_hlc, LEVEL_2 + 2 * GRACE)
        assert escalated_to(centre) == [ticket_id]

    drill.sleep_until(LEVEL_2 + 3 * GRACE)  # both come back well after their windows closed
    network["city"].start()
    network["chengguan"].start()
    back = time.time()
    wait_until(
        "every node holds the county's missed reminders",
        lambda: all(
            len(state.reminders_sent) == 3 for state in states_everywhere(network, ticket_id)
        ),
        until=back + CATCH_UP,
    )
    network.settle()
    states = states_everywhere(network, ticket_id)
    assert states[0] == states[1] == states[2]  # every level's copy agrees
    state = states[0]
    assert [(r.level, r.to_unit, r.origin_node) for r in counted_escalations(state)] == [
        (1, CITY, city_node),
        (2, PROVINCE, province_node),
    ]
    assert len(state.escalation_history) == 2  # nobody recorded a level twice
    assert [r.missed for r in state.reminders_sent] == [True, True, True]
    for reminder in state.reminders_sent:
        assert when(reminder.sent_hlc) > LEVEL_2 + 3 * GRACE  # recorded on return, told to nobody
    assert not state.in_conflict


def states_everywhere(network: LocalNetwork, ticket_id: str) -> list[TicketState]:
    """The ticket as the province, the city and the county hold it."""
    found = []
    for name, officer in (("province", CENTRE), ("city", CITY_OFFICER), ("chengguan", HANDLER)):
        with network.client(name, officer) as client:
            found.append(ticket_state(client, ticket_id))
    return found


@pytest.mark.processes
def test_an_acceptance_taken_in_time_while_cut_off_voids_the_escalation_from_above_everywhere(
    network: LocalNetwork, drill: Drill
) -> None:
    """Chengguan's link is cut before the drill begins; its handler accepts the complaint on
    12-09, in time. The city, not hearing of it, escalates one grace period after the
    deadline and the ticket sits in its queue. When the link returns, the acceptance goes up,
    and on every node the city's escalation is superseded: out of the queue, not counted."""
    network.start_world(GANSU_WORLD, only={"province", "city"})
    with LinkProxy("127.0.0.1", network["city"].peer_port) as link:
        add_county_behind(network, link)
        publish_grace(network)
        ticket_id = route_gym_complaint_before_the_drill(network, drill)
        link.cut()

        with network.client("chengguan", HANDLER) as handler:
            drill.sleep_until(china("2026-12-09", 10))
            handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        with network.client("city", CITY_OFFICER) as city:
            drill.wait_for(
                "the city has escalated the acceptance it never heard of",
                lambda: escalated_to(city) == [ticket_id],
                by=DUE + GRACE,
            )
        link.heal()
        healed = time.time()
        with network.client("chengguan") as system:  # its system administrator
            wait_until(
                "the county's link works again",
                lambda: not system.sync_now().error,
                until=healed + CATCH_UP,
            )
        network.settle()
        states = states_everywhere(network, ticket_id)
        for state in states:
            assert state.escalations == ()
            assert [r.outcome for r in state.escalation_history] == [EscalationOutcome.SUPERSEDED]
            assert counted_escalations(state) == ()
            assert not state.in_conflict
        assert states[0] == states[1] == states[2]
        with network.client("city", CITY_OFFICER) as city:
            assert escalated_to(city) == []
