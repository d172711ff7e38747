"""The later duties on real nodes: supervision reports and callbacks (DOMAIN.md §5-§6).

A supervision order (跟踪督办) from the province puts a report duty, with the order's own
deadline, in the ordered unit's queue; unreported, it is reminded and then climbs the levels
like any other duty. A closed complaint owes a callback (回访); a 不满意 callback sends it back
for re-handling, and the next closure owes a second callback. The nodes run on a hand-moved
clock in October 2026, inside the test certificates' validity (``Hierarchy.throwaway``).
"""

from __future__ import annotations

import pytest

from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, MediationOutcome, Satisfaction, Track
from node.app.clock import Clock
from node.cli.main import main as hotline
from proto.hotline.v1 import casework_pb2 as cw
from sync.codec import enum_number, from_message
from tests.helpers.clock import HandMovedTime, china, end_of
from tests.helpers.tickets import entries, register_and_route
from tests.helpers.world import World, sweep


def state_at(world: World, name: str, ticket_id: str) -> TicketState:
    with world.officer(name) as officer:
        return from_message(TicketState, officer.get(ticket_id))


def test_a_supervision_order_is_in_the_ordered_units_queue_and_climbs_when_unreported(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    time = HandMovedTime(china("2026-10-19"))  # Monday
    world.start_all("province", "city", "chengguan", clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    world.sync("chengguan", "city")
    with world.officer("province", 1) as supervisor:  # 刘洋, the province's supervisor
        supervisor.step(
            "OrderSupervision",
            cw.OrderSupervisionRequest(
                ticket_id=ticket_id,
                order_id="DB-2026-1019",
                to_unit="620102",
                days=3,
                instructions="群众反映强烈，三个工作日内书面报告处理情况",
            ),
        )
    world.sync("city", "chengguan")
    county = world["chengguan"]

    # The order's own 3 working days: 10-20, 21, 22 -> due at the end of Thursday 10-22.
    with world.officer("chengguan") as handler:
        queue = handler.queue()
    (report,) = [e for e in queue.due_soon if e.duty == "supervision_report"]
    assert (report.ticket_id, report.unit_code) == (ticket_id, "620102")
    assert (report.due_ms, report.working_days_left) == (end_of("2026-10-22"), 3)
    assert [e.duty for e in queue.later] == ["end_mediation"]  # 45 WD from acceptance

    for day, recorded in [
        ("2026-10-19", 0),
        ("2026-10-20", 1),  # the handler, two working days ahead
        ("2026-10-21", 1),  # the unit head
        ("2026-10-22", 1),  # the supervising unit, on the due day
    ]:
        time.set(china(day, 10))
        assert sweep(county) == recorded, day
    time.set(china("2026-10-23", 0, 1))  # overdue: the city's queue
    assert sweep(county) == 1
    time.set(china("2026-10-27", 23, 59))
    assert sweep(county) == 0
    time.set(china("2026-10-28", 0, 1))  # 23, 26, 27 passed: the province's
    assert sweep(county) == 1
    assert sweep(county) == 0
    escalations = state_at(world, "chengguan", ticket_id).escalations
    assert [(e.duty, e.level, e.to_unit) for e in escalations] == [
        (Duty.SUPERVISION_REPORT, 1, "620100"),
        (Duty.SUPERVISION_REPORT, 2, "620000"),
    ]

    capsys.readouterr()
    assert hotline(["queue", *county.cli("620102-07")]) == 0
    printed = capsys.readouterr().out
    assert "OVERDUE: 1" in printed
    assert f"{ticket_id}  supervision_report" in printed
    assert "escalated 2x to 620000" in printed

    world.sync("chengguan", "city")
    for name in ("city", "province"):
        with world.officer(name) as officer:
            above = officer.queue().escalated_to_us
        assert [(e.ticket_id, e.duty, e.escalation_level) for e in above] == [
            (ticket_id, "supervision_report", 2)
        ], name

    with world.officer("chengguan", 1) as head:  # 赵敏, the unit head, reports in writing
        head.step(
            "ReportSupervision",
            cw.ReportSupervisionRequest(
                ticket_id=ticket_id, order_id="DB-2026-1019", report="已约谈经营者，制定退款方案"
            ),
        )
        queue = head.queue()
    assert [e.duty for e in entries(queue)] == ["end_mediation"]
    world.sync("chengguan", "city")
    at_province = state_at(world, "province", ticket_id)
    assert at_province.escalations == ()
    assert at_province.supervision_orders[0].reported
    with world.officer("province") as centre:
        assert list(centre.queue().escalated_to_us) == []


def test_a_dissatisfied_callback_brings_re_handling_then_a_second_callback_on_the_nodes(
    world: World,
) -> None:
    time = HandMovedTime(china("2026-10-19"))  # Monday
    world.start_all("province", "city", "chengguan", clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")

    def handle_and_close(agreement: str) -> None:
        complaint = enum_number(Track.COMPLAINT)
        with world.officer("chengguan") as handler:
            handler.step(
                "EndMediation",
                cw.EndMediationRequest(
                    ticket_id=ticket_id,
                    outcome=enum_number(MediationOutcome.AGREEMENT),
                    agreement=agreement,
                ),
            )
            handler.step(
                "SubmitResult",
                cw.SubmitResultRequest(ticket_id=ticket_id, track=complaint, summary=agreement),
            )
        with world.officer("chengguan", 1) as head:
            head.step(
                "ApproveResult", cw.ApproveResultRequest(ticket_id=ticket_id, track=complaint)
            )
        world.sync("chengguan", "city")

    def callback(satisfaction: Satisfaction, note: str) -> None:
        with world.officer("province") as centre:  # the 12315 centre calls the consumer
            centre.step(
                "RecordCallback",
                cw.RecordCallbackRequest(
                    ticket_id=ticket_id, satisfaction=enum_number(satisfaction), note=note
                ),
            )
        world.sync("city", "chengguan")

    def owed() -> list[tuple[str, int]]:
        with world.officer("chengguan") as handler:
            return [(e.duty, e.due_ms) for e in entries(handler.queue())]

    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    handle_and_close("商家同意退还2000元")
    # Closed Monday 10-19: callback within 5 working days, 20, 21, 22, 23, 26.
    assert owed() == [("callback", end_of("2026-10-26"))]

    time.set(china("2026-10-21"))
    callback(Satisfaction.DISSATISFIED, "商家未按约定退款")
    assert [duty for duty, _ in owed()] == ["end_mediation"]  # back for re-handling (回炉重办)

    time.set(china("2026-10-22", 16))  # re-handled and closed again on Thursday 10-22
    handle_and_close("商家已全额退款")
    # A second callback, counted from the second closure: 23, 26, 27, 28, 29.
    assert owed() == [("callback", end_of("2026-10-29"))]

    county = world["chengguan"]
    time.set(china("2026-10-27", 10))
    assert sweep(county) == 1  # the handler's reminder of the second callback
    time.set(china("2026-10-30", 0, 1))
    # Overdue: escalated to the city; the unit head's and the city's reminders, whose moments
    # passed unswept, are history as missed (nobody told late).
    assert sweep(county) == 3
    escalations = state_at(world, "chengguan", ticket_id).escalations
    assert [(e.duty, e.level, e.due_ms) for e in escalations] == [
        (Duty.CALLBACK, 1, end_of("2026-10-29"))
    ]

    world.sync("chengguan", "city")
    callback(Satisfaction.SATISFIED, "已收到退款，满意")
    assert owed() == []
    final = state_at(world, "chengguan", ticket_id)
    assert final.escalations == () and not final.awaiting_callback
    assert [c.satisfaction for c in final.callbacks] == [
        Satisfaction.DISSATISFIED,
        Satisfaction.SATISFIED,
    ]
