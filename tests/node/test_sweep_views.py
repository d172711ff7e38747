"""After sweeps, every view a node keeps equals the same view rebuilt from its log.

The sweep writes its views the fast way: many rows per statement (on PostgreSQL by ``COPY``
once a transaction holds enough of them), reminder and escalation times from ``Schedules``,
and no signals row rewritten when a step leaves it as it was. None of that may show: after
a sweep of reminders and one of escalations over a few dozen tickets, the tickets, signals and
obligations tables must be exactly what ``TicketProjection.rebuild`` derives from the log.
The rule book's calendar can change under a node; its remembered schedules must follow.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import Connection, select

from core.deadlines.rulebook import RuleBook, parse_holiday_year
from core.deadlines.sweep import open_duties
from node.app.clock import Clock
from node.app.runtime import Node
from node.devnet.samples import demo_tickets
from node.storage.tables import obligations, ticket_signals, tickets
from node.views.obligations import default_rules
from node.views.tickets import TicketProjection
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message
from sync.statements import COPY_FROM
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.domain import routed
from tests.helpers.world import World, spec, sweep

COUNT = COPY_FROM + 4
"""Tickets swept in one writer transaction: enough for the bulk path on PostgreSQL."""


def views(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
    """The views' rows, but the signals' storing order (a rebuild numbers its rows anew)."""
    return {
        table.name: sorted(
            tuple(r)
            for r in conn.execute(select(*(c for c in table.columns if c.name != "change_seq")))
        )
        for table in (tickets, ticket_signals, obligations)
    }


def test_after_sweeps_every_view_equals_a_rebuild_from_the_log(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=Clock(_real=time))
    gym = dict(demo_tickets())["gym"]
    ids = []
    with world.officer("province") as centre:
        for n in range(COUNT):
            one = replace(
                gym,
                consumer=replace(gym.consumer, phone=f"139{n:08d}"),
                facts=f"{gym.facts}（第{n}位会员）",
            )
            ticket_id = centre.register(
                uuid.uuid4().hex, to_message(one, intake_pb2.NewTicket)
            ).ticket_id
            centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
            ids.append(ticket_id)
    world.sync("city", "chengguan")
    county = world["chengguan"]
    time.set(china("2026-12-08", 1))
    assert sweep(county) == COUNT  # the handler is reminded of each
    time.set(china("2026-12-11", 1))
    # Each climbs to the city; the two reminders whose moments went unswept are missed.
    assert sweep(county) == 3 * COUNT

    live = live_equals_rebuilt(county.node)
    assert len(live["obligations"]) == COUNT
    escalated_to = [c.name for c in obligations.columns].index("escalated_to")
    assert {r[escalated_to] for r in live["obligations"]} == {"620100"}  # the city
    # A step that does change a signals row (the status) after the sweeps: rewritten.
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ids[0]))
    live = live_equals_rebuilt(county.node)
    statuses = {r[0]: r[2] for r in live["ticket_signals"]}
    assert statuses[ids[0]] == "in_handling" and statuses[ids[1]] == "routed"


def live_equals_rebuilt(node: Node) -> dict[str, list[tuple[object, ...]]]:
    """The node's views, checked against a rebuild from its log (which leaves them as they
    are when they agree)."""
    projection = node.writer._project
    assert isinstance(projection, TicketProjection)
    with node.db.read() as conn:
        live = views(conn)
        assert projection.differences(conn) == []
    with node.db.write() as conn:
        projection.rebuild(conn)
    with node.db.read() as conn:
        assert views(conn) == live
    return live


def test_the_rules_remember_schedules_on_their_current_calendar_only() -> None:
    rules = default_rules()
    state = routed().state  # received Monday 2026-03-16: due at the end of 03-25
    first = rules.schedules
    before = rules.duties(state)
    assert rules.schedules is first and rules.duties(state) == before
    # The province loads 2026 with 03-17/18 as rest days and Saturday 03-21 as a workday.
    year = parse_holiday_year(2026, ["2026-03-17", "2026-03-18"], ["2026-03-21"])
    rules.adopt(RuleBook("620000").with_holiday_year(year, 0), rules.calendar.table)
    assert rules.schedules is not first and rules.schedules.calendar is rules.calendar
    after = rules.duties(state)
    assert after == open_duties(state, rules.policy, rules.calendar)
    assert after[0].obligation.due_ms > before[0].obligation.due_ms
    assert after[0].next_at_ms != before[0].next_at_ms
