"""Deadlines at work on real nodes: reminders, escalation up the levels, the queue.

The nodes run on a clock the test moves by hand (DESIGN.md rule 6), so a month of deadlines
takes a moment; each sweep is run when the test says so.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.deadlines.china_time import CHINA_TZ
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, ReminderLevel
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.edge.client import CallError
from node.views.obligations import default_rules
from proto.hotline.v1 import casework_pb2 as cw
from sync.codec import enum_number, from_message
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.tickets import register_and_route
from tests.helpers.world import World, spec, sweep


def test_a_complaint_not_accepted_in_7_working_days_is_reminded_then_climbs_to_the_province(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    time = HandMovedTime(
        china("2026-12-01", 10)
    )  # a Tuesday, within the test certificates' validity
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    county = world["chengguan"]

    def state() -> TicketState:
        with world.officer("chengguan") as handler:
            return from_message(TicketState, handler.get(ticket_id))

    # Received 12-01; counting starts 12-02: 2, 3, 4, 7, 8, 9, 10 -> due at the end of 12-10.
    with world.officer("chengguan") as handler:
        (entry,) = handler.queue().due_soon or handler.queue().later
    assert entry.ticket_id == ticket_id and entry.duty == "decide_acceptance"
    assert dt.datetime.fromtimestamp(entry.due_ms / 1000, CHINA_TZ) == china("2026-12-11", 0)

    # The county sweeps within the hour of each moment (a node sweeps every 30 s): on time.
    time.set(china("2026-12-07", 23))
    assert sweep(county) == 0  # nothing due yet
    time.set(china("2026-12-08", 1))
    assert sweep(county) == 1
    assert [r.level for r in state().reminders_sent] == [ReminderLevel.HANDLER]
    assert sweep(county) == 0  # a second sweep asks for nothing twice
    for day in ("2026-12-09", "2026-12-10"):
        time.set(china(day, 1))
        assert sweep(county) == 1
    assert [(r.level, r.missed) for r in state().reminders_sent] == [
        (ReminderLevel.HANDLER, False),
        (ReminderLevel.UNIT_HEAD, False),
        (ReminderLevel.SUPERVISING_UNIT, False),
    ]

    time.set(china("2026-12-11", 1))  # overdue: into the city's supervision queue
    assert sweep(county) == 1
    assert [(e.level, e.to_unit) for e in state().escalations] == [(1, "620100")]
    time.set(china("2026-12-16", 1))  # three working days later, still not accepted
    assert sweep(county) == 1
    assert [(e.level, e.to_unit) for e in state().escalations] == [
        (1, "620100"),
        (2, "620000"),
    ]
    assert sweep(county) == 0

    world.sync("chengguan", "city")
    with world.officer("province") as centre:
        at_province = from_message(TicketState, centre.get(ticket_id))
    assert [(e.duty, e.level) for e in at_province.escalations] == [
        (Duty.DECIDE_ACCEPTANCE, 1),
        (Duty.DECIDE_ACCEPTANCE, 2),
    ]
    with world.officer("city") as city:
        escalated = city.queue().escalated_to_us
    assert [(e.ticket_id, e.escalation_level) for e in escalated] == [(ticket_id, 2)]
    with world.officer("province") as centre:
        assert [e.ticket_id for e in centre.queue().escalated_to_us] == [ticket_id]
    capsys.readouterr()
    assert hotline(["queue", *world["chengguan"].cli("620102-07")]) == 0
    printed = capsys.readouterr().out
    assert "OVERDUE: 1" in printed and f"{ticket_id}  decide_acceptance" in printed
    assert "escalated 2x to 620000" in printed

    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        queue = handler.queue()
    assert state().escalations == ()
    assert not queue.overdue  # the acceptance ends the duty (mediation is not tracked yet)


def test_a_county_offline_past_its_deadline_escalates_locally_and_the_province_sees_it_once(
    world: World,
) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    world.take_down("city")  # the county's link is down for the whole deadline
    county = world["chengguan"]
    for day in ("2026-12-08", "2026-12-10", "2026-12-11", "2026-12-16", "2026-12-17"):
        time.set(china(day, 1))  # within the hour: the county's own escalations are on time
        sweep(county)
    with world["chengguan"].client() as system:
        assert system.sync_now().error  # still offline
    with world.officer("chengguan") as handler:
        local = from_message(TicketState, handler.get(ticket_id))
    assert [e.level for e in local.escalations] == [1, 2]

    world.bring_up("city")
    world.sync("chengguan", "city")
    with world.officer("province") as centre:
        seen = from_message(TicketState, centre.get(ticket_id))
    assert [(e.level, e.to_unit, e.from_unit) for e in seen.escalations] == [
        (1, "620100", "620102"),
        (2, "620000", "620102"),
    ]
    assert not seen.in_conflict


def test_an_approved_extension_moves_the_deadline_at_the_county(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    duty = enum_number(Duty.DECIDE_ACCEPTANCE)
    with world.officer("chengguan") as handler:
        handler.step(
            "RequestExtension",
            cw.RequestExtensionRequest(
                ticket_id=ticket_id, duty=duty, days=3, reason="商家负责人出差，需补充材料"
            ),
        )
    world.sync("chengguan", "city")
    with world.officer("province", 1) as supervisor:
        supervisor.step(
            "DecideExtension",
            cw.DecideExtensionRequest(ticket_id=ticket_id, duty=duty, approved=True),
        )
    world.sync("city", "chengguan")
    with world.officer("chengguan") as handler:
        (entry,) = [*handler.queue().due_soon, *handler.queue().later]
    # 7 WD from 12-01 end on 12-10; three more (11, 14, 15) end on 12-15.
    assert dt.datetime.fromtimestamp(entry.due_ms / 1000, CHINA_TZ) == china("2026-12-16", 0)


def test_a_paused_mediation_clock_moves_the_mediation_deadline(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")

    def mediation_due() -> dt.date:
        with world.officer("chengguan") as handler:
            queue = handler.queue()
        (entry,) = [e for e in (*queue.due_soon, *queue.later) if e.duty == "end_mediation"]
        return dt.datetime.fromtimestamp(entry.due_ms / 1000 - 1, CHINA_TZ).date()

    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        before = mediation_due()
        time.set(china("2026-12-03"))  # a Thursday: the goods go for testing
        handler.step("PauseMediation", cw.PauseMediationRequest(ticket_id=ticket_id, reason="送检"))
        time.set(china("2026-12-08"))  # the following Tuesday: the report is back
        handler.step("ResumeMediation", cw.ResumeMediationRequest(ticket_id=ticket_id, note="合格"))
    calendar = default_rules().calendar
    # The clock stood still over 12-04, 12-07 and 12-08: three working days given back.
    assert mediation_due() == calendar.add_working_days(before, 3)


def test_an_extension_beyond_the_tables_cap_is_refused_naming_the_days(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "expired")  # complaint and report (composite)
    world.sync("city", "chengguan")
    duty = enum_number(Duty.VERIFY_REPORT)
    with world.officer("chengguan") as handler:
        handler.step(
            "RequestExtension",
            cw.RequestExtensionRequest(
                ticket_id=ticket_id, duty=duty, days=20, reason="需联合公安部门核查"
            ),
        )
    world.sync("chengguan", "city")
    with world.officer("province", 1) as supervisor:
        with pytest.raises(CallError) as refused:
            supervisor.step(
                "DecideExtension",
                cw.DecideExtensionRequest(ticket_id=ticket_id, duty=duty, approved=True),
            )
        assert refused.value.code == "INVALID_ARGUMENT" and refused.value.message.startswith(
            "days: the time-limit table leaves 15 working day(s)"
        )
        supervisor.step(  # DOMAIN.md §5: 15 WD, +15 with approval
            "DecideExtension",
            cw.DecideExtensionRequest(ticket_id=ticket_id, duty=duty, approved=True, days=15),
        )


def test_a_sweep_repeated_after_a_restart_asks_for_nothing_twice(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    time.set(china("2026-12-11", 1))  # overdue: one escalation is owed
    assert sweep(world["chengguan"]) == 4  # and the three reminders nobody was told (missed)
    world.take_down("chengguan")  # e.g. killed right after the sweep committed
    county = world.bring_up("chengguan", clock=Clock(_real=time))
    assert sweep(county) == 0  # the rows are derived from the state: nothing is owed again
    with world.officer("chengguan") as handler:
        escalations = from_message(TicketState, handler.get(ticket_id)).escalations
    assert [(e.level, e.to_unit) for e in escalations] == [(1, "620100")]
