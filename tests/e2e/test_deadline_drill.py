"""The deadline drill on real node processes: reminders and escalation on an accelerated clock.

Issue #4 is done when real nodes on an accelerated clock show that a complaint nobody accepts
is reminded at each level and climbs county -> city -> province, and that a county cut off
during its deadline escalates on its own and the province sees that once the link is back.
``tests/node/test_deadlines.py`` specifies the same in one process with a hand-moved clock;
here the province 620000, the city 620100 (Lanzhou) and the county 620102 (Chengguan) are
``hotline serve`` processes that only share what a real drill shares: the drill clock flags
(docs/drills.md) and the network.

The drill clock runs at 86,400x, one drill day per real second, from 2026-12-01 10:00 China
time (a Tuesday, inside the test certificates' validity). Its anchor is a real instant
``SETUP_SECONDS`` after the test begins; until then the clock stands at 10:00, so every node
is up and the complaint registered and routed at 10:00 sharp however long start-up took. The
county sweeps every 0.1 real s (2.4 drill hours), ten sweeps a drill day.

The dates, as in the in-process specification: received Tuesday 12-01; counting starts 12-02;
7 working days (2, 3, 4, 7, 8, 9, 10) end with 12-10, so the complaint is due at 24:00 on 12-10
(12-11 00:00). The handler is reminded from 12-08 00:00 (2 working days before the due day),
the unit head from 12-09, the supervising unit from 12-10. Overdue at 12-11 00:00, it enters the
city's supervision queue (level 1); three more working days (11, 14, 15) later, at 12-16 00:00,
the province's (level 2), and climbs no further.

No fixed sleeps: a test lets the drill clock reach an instant, or polls until something holds
with a deadline (in drill time where the drill decides it); every process is killed at the end
by the ``network`` fixture (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core import hlc
from core.deadlines.china_time import CHINA_TZ
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, ReminderLevel
from node.cli.main import main as hotline
from node.devnet.processes import LocalNetwork
from node.devnet.samples import GANSU_WORLD
from node.edge.client import NodeClient
from tests.helpers.drill import (
    DRILL_GRACE_MINUTES,
    GANSU_DRILL_START,
    Drill,
    add_county_behind,
    publish_grace,
    route_gym_complaint_before_the_drill,
    signed_steps,
)
from tests.helpers.link_proxy import LinkProxy
from tests.helpers.tickets import ticket_state
from tests.helpers.waiting import wait_until

DRILL_START = GANSU_DRILL_START
SETUP_SECONDS = 45.0
"""Real seconds from the test's start to the drill's anchor: time to bring up three nodes,
publish the supervision grace and register a complaint, about 7 s on an idle 2-core machine.
In the parallel suite on PostgreSQL it once took more than 25 s next to the other lanes
(``tests/helpers/lanes.py``); the rest is room for a machine that is busier still. Idle set-up
time costs the drills' lane, not the run's other workers."""
SWEEP_INTERVAL = 0.1
"""Real seconds between a node's sweeps: 2.4 drill hours."""
LATE = 3.0
"""Real seconds (drill days) a wait may run past the drill instant it waits for: a slow sweep
or replication round on a busy machine."""
CATCH_UP = 30.0
"""Real seconds a healed link may take to carry the county's backlog up: a failing round waits
for its connection deadline (3 s) before it says so."""

GRACE = dt.timedelta(minutes=DRILL_GRACE_MINUTES)
"""The grace of supervision from above the drill publishes: two drill days."""
CENTRE = "620000-01"
HANDLER = "620102-07"
CITY = "620100-01"
COUNTY = "620102"


def china(day: str, hour: int = 0) -> dt.datetime:
    """``hour`` o'clock on ``day``, China time."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA_TZ)


def china_ms(day: str, hour: int = 0) -> int:
    return int(china(day, hour).timestamp() * 1000)


DUE_MS = china_ms("2026-12-11")
"""End of 12-10, the seventh working day after receipt."""
REMINDED_FROM = {
    ReminderLevel.HANDLER: china_ms("2026-12-08"),
    ReminderLevel.UNIT_HEAD: china_ms("2026-12-09"),
    ReminderLevel.SUPERVISING_UNIT: china_ms("2026-12-10"),
}
ESCALATED = {
    1: ("620100", DUE_MS, china_ms("2026-12-16")),
    2: ("620000", china_ms("2026-12-16"), china_ms("2026-12-19")),
}
"""Escalation level -> (the unit whose supervision queue it enters, from when, and before when:
the next level's time, or for the province the end of a further three working days)."""


@pytest.fixture
def drill(network: LocalNetwork) -> Drill:
    """A drill clock anchored ``SETUP_SECONDS`` from now, given to every node of ``network``."""
    clock = Drill(
        start=DRILL_START,
        anchor=time.time() + SETUP_SECONDS,
        sweep_interval=SWEEP_INTERVAL,
        late=LATE,
    )
    network.node_args = clock.node_args()
    return clock


def when(hlc_value: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(hlc.to_millis(hlc_value) / 1000, CHINA_TZ)


def register_before_the_drill_begins(network: LocalNetwork, drill: Drill) -> str:
    """Publish the drill's grace, register and route the gym complaint at the province; it
    reaches the county, owing its acceptance by ``DUE_MS``."""
    publish_grace(network)
    ticket_id = route_gym_complaint_before_the_drill(network, drill)
    with network.client("chengguan", HANDLER) as handler:
        queue = handler.queue()
    (entry,) = [*queue.due_soon, *queue.later]
    assert (entry.ticket_id, entry.duty, entry.due_ms) == (ticket_id, "decide_acceptance", DUE_MS)
    return ticket_id


def assert_reminded_at_each_level_before_the_deadline(seen: TicketState) -> None:
    assert [r.level for r in seen.reminders_sent] == list(REMINDED_FROM)
    for reminder in seen.reminders_sent:
        sent = hlc.to_millis(reminder.sent_hlc)
        assert (reminder.duty, reminder.unit_code, reminder.due_ms) == (
            Duty.DECIDE_ACCEPTANCE,
            COUNTY,
            DUE_MS,
        )
        assert REMINDED_FROM[reminder.level] <= sent < DUE_MS, (reminder.level, when(sent))


def assert_climbed_once_per_level_from_the_county(
    centre: NodeClient, ticket_id: str, county_node: str
) -> None:
    """The province's log holds one escalation per level, signed by the county's node."""
    steps = signed_steps(centre, ticket_id, "TicketEscalated")
    assert [
        (origin, step["level"], step["toUnit"], step["fromUnit"]) for origin, step in steps
    ] == [(county_node, level, unit, COUNTY) for level, (unit, _, _) in ESCALATED.items()]
    seen = ticket_state(centre, ticket_id)
    assert_escalated_on_time(seen, county_node)
    assert not seen.in_conflict


def assert_escalated_on_time(seen: TicketState, county_node: str) -> None:
    """Level 1 to the city from the due time, level 2 to the province three WD later."""
    assert [(e.level, e.to_unit, e.from_unit, e.origin_node) for e in seen.escalations] == [
        (level, unit, COUNTY, county_node) for level, (unit, _, _) in ESCALATED.items()
    ]
    for escalation in seen.escalations:
        _, start, before = ESCALATED[escalation.level]
        at = hlc.to_millis(escalation.escalated_hlc)
        assert start <= at < before, (escalation.level, when(escalation.escalated_hlc))


@pytest.mark.processes
def test_an_unaccepted_complaint_is_reminded_at_three_levels_then_climbs_to_the_province(
    network: LocalNetwork, drill: Drill, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nobody at Chengguan accepts the complaint. Its sweep reminds the handler, the unit head
    and the supervising unit before 24:00 on 12-10, puts the ticket in the city's supervision
    queue at the deadline and in the province's three working days later, and no higher. The
    province holds each reminder and each escalation level once, signed by the county, and
    every queue and copy agrees."""
    network.start_world(GANSU_WORLD, only={"province", "city", "chengguan"})
    ticket_id = register_before_the_drill_begins(network, drill)
    with network.client("chengguan", HANDLER) as handler:
        county_node = handler.info().node_id
        drill.wait_for(
            "the county has escalated to the city and then to the province",
            lambda: len(ticket_state(handler, ticket_id).escalations) == 2,
            by=china("2026-12-16"),
        )
    # Three more working days (16, 17, 18): a third level would be due now; there is none.
    drill.sleep_until(china("2026-12-19", 6))
    network.settle()

    with network.client("province", CENTRE) as centre:
        seen = ticket_state(centre, ticket_id)
        assert_reminded_at_each_level_before_the_deadline(seen)
        reminders = signed_steps(centre, ticket_id, "ReminderSent")
        assert len(reminders) == 3 and {origin for origin, _ in reminders} == {county_node}
        assert_climbed_once_per_level_from_the_county(centre, ticket_id, county_node)
        assert [e.ticket_id for e in centre.queue().escalated_to_us] == [ticket_id]
    with network.client("city", CITY) as city:
        escalated = city.queue().escalated_to_us
    assert [(e.ticket_id, e.escalation_level) for e in escalated] == [(ticket_id, 2)]
    with (
        network.client("chengguan", HANDLER) as handler,
        network.client("province", CENTRE) as centre,
    ):
        assert handler.get(ticket_id) == centre.get(ticket_id)  # every level's copy agrees

    capsys.readouterr()
    assert hotline(["queue", *network["chengguan"].cli(HANDLER)]) == 0
    printed = capsys.readouterr().out
    assert "OVERDUE: 1" in printed and f"{ticket_id}  decide_acceptance" in printed
    assert "escalated 2x to 620000" in printed


@pytest.mark.processes
def test_a_county_cut_off_past_its_deadline_escalates_locally_the_city_too_and_one_counts(
    network: LocalNetwork, drill: Drill
) -> None:
    """Chengguan's link to the city is cut before the drill begins and stays cut while its
    deadline passes. The county reminds and escalates on its own, and `hotline sync status`
    shows the events waiting to go up; the city, not hearing of it, escalates too once the
    grace has passed (supervision from above), so the province's queue has the ticket on time.
    Once the link heals, every node holds both records of each level and counts one: the
    city's, which the fold puts first (the higher level), the county's kept as a repeat."""
    network.start_world(GANSU_WORLD, only={"province", "city"})
    with LinkProxy("127.0.0.1", network["city"].peer_port) as link:
        add_county_behind(network, link)
        ticket_id = register_before_the_drill_begins(network, drill)
        link.cut()  # before the drill begins: the whole deadline passes offline

        with (
            network.client("chengguan", HANDLER) as handler,
            network.client("province", CENTRE) as centre,
            network.client("city", CITY) as city,
            network.client("chengguan") as system,  # its system administrator
        ):
            county_node, city_node = handler.info().node_id, city.info().node_id
            drill.wait_for(
                "the cut-off county has escalated to the city and then to the province",
                lambda: len(ticket_state(handler, ticket_id).escalations) == 2,
                by=china("2026-12-16"),
            )
            local = ticket_state(handler, ticket_id)
            assert_reminded_at_each_level_before_the_deadline(local)
            assert_escalated_on_time(local, county_node)
            # What `hotline sync status` shows on the county: the parent cannot be reached and
            # its reminders and escalations wait to go up.
            (parent,) = [p for p in system.sync_status().peers if p.role == "parent"]
            assert parent.last_error and parent.failures > 0
            assert parent.unsent_events >= 5  # 3 reminders, 2 escalations
            drill.wait_for(
                "the city has escalated both levels from above",
                lambda: len(ticket_state(centre, ticket_id).escalations) == 2,
                by=china("2026-12-16") + GRACE,
            )
            above = ticket_state(centre, ticket_id)
            assert above.reminders_sent == ()  # the county's: still below the cut
            assert {e.origin_node for e in above.escalations} == {city_node}

            link.heal()
            # The county's link backs off while cut (up to ~45 s); an operator would run
            # `hotline sync now` on the county rather than wait, and so does the test.
            healed = time.time()
            wait_until(
                "the county's link works again",
                lambda: not system.sync_now().error,
                until=healed + CATCH_UP,
            )
            wait_until(
                "the province holds the county's reminders",
                lambda: len(ticket_state(centre, ticket_id).reminders_sent) == 3,
                until=healed + CATCH_UP,
            )
            network.settle()
            seen = ticket_state(centre, ticket_id)
            assert_reminded_at_each_level_before_the_deadline(seen)
            assert sorted(
                (r.level, r.origin_node, r.outcome.value) for r in seen.escalation_history
            ) == [
                (1, city_node, "standing"),
                (1, county_node, "repeated"),
                (2, city_node, "standing"),
                (2, county_node, "repeated"),
            ]
            assert not seen.in_conflict
            assert handler.get(ticket_id) == centre.get(ticket_id)
