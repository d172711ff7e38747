"""Which duties a ticket owes, from when, and what a sweep records (core.deadlines.duties, .sweep).

DOMAIN.md §5-§6: a callback (回访) is owed for every closed complaint, and a 不满意 callback sends
the ticket back for re-handling followed by a second callback; a supervision order (跟踪督办) is
owed by its unit within the order's own deadline. Each spec walks a ticket through real
commands on the hand-driven clock of ``tests.helpers.domain`` and runs the sweep each owing unit's
node would run, signed by that unit's sweep officer.

Dates use the real 2026 calendar: Monday 2026-03-16 is the world's "now"; Qingming is
2026-04-04..06 (Saturday to Monday, no make-up workday).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from core import hlc
from core.deadlines import (
    CHINA_TZ,
    DEFAULT_LIMITS,
    DEFAULT_POLICY,
    HolidayTable,
    TimeLimit,
    TimeLimitPolicy,
    WorkingDayCalendar,
)
from core.deadlines.sweep import OpenDuty, open_duties, steps_due
from core.errors import StepNotAllowed
from core.officers import Officer, Role
from core.ticket import commands as c
from core.ticket.duties import duty_owners, owes
from core.ticket.events import DomainEvent, ReminderSent, TicketEscalated
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import (
    Duty,
    MediationOutcome,
    RefusalGround,
    ReminderLevel,
    ReturnReason,
    Satisfaction,
    TicketKind,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HEAD, HUB, HUB_SUPERVISOR, History

CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar([2025, 2026, 2027]))
CITY_HEAD = domain.officer("620100-02", "钱进", "620100", Role.UNIT_HEAD, Role.SUPERVISOR)
COUNTY, CITY, PROVINCE = "620102", "620100", "620000"


def china_ms(month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch milliseconds of a wall-clock time in China in 2026."""
    return int(datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).timestamp() * 1000)


def sweeper(unit: str) -> Officer:
    """The system officer a unit's node records its sweep's reminders and escalations as."""
    return domain.officer(f"{unit}-sweep", "催办督办系统", unit)


def at(h: History, month: int, day: int, hour: int = 9) -> int:
    """Move the history's clock to a time in China (forward only) and return it."""
    h.wall_ms = max(h.wall_ms, china_ms(month, day, hour))
    return h.wall_ms


def duties(state: TicketState, policy: TimeLimitPolicy = DEFAULT_POLICY) -> dict[Duty, OpenDuty]:
    """The open duties by duty, where one unit owes each (several units may each owe a
    supervision report: the obligations table has a row per ticket, duty and unit)."""
    found = open_duties(state, policy, CALENDAR)
    by_duty = {d.obligation.duty: d for d in found}
    assert len(by_duty) == len(found), "two units owe one duty"
    return by_duty


SWEEP_GRACE_MS = 5 * 86_400_000
"""These histories sweep once every few days, so a reminder counts as told on time up to five
days after its moment, if its duty is not due yet (real nodes sweep every 30 s:
``test_supervision_from_above`` specifies missed reminders with the default grace)."""


def sweep(h: History) -> list[DomainEvent]:
    """Every owing unit's sweep at the history's clock; returns what they recorded."""
    state = h.state
    recorded: list[DomainEvent] = []
    for duty in open_duties(state, DEFAULT_POLICY, CALENDAR):
        events = steps_due(state, duty, h.wall_ms, CALENDAR, grace_ms=SWEEP_GRACE_MS)
        h.record(sweeper(duty.obligation.unit_code), *events)
        recorded += events
    return recorded


def reminded(
    duty: Duty, level: ReminderLevel, due: int, unit: str = COUNTY, *, missed: bool = False
) -> ReminderSent:
    return ReminderSent(duty=duty, level=level, unit_code=unit, due_ms=due, missed=missed)


def missed(duty: Duty, due: int, unit: str = COUNTY, *levels: ReminderLevel) -> list[ReminderSent]:
    """The reminders of ``levels`` (all three if none) recorded as missed: the sweep came only
    once the duty was due, too late to tell anyone."""
    return [reminded(duty, level, due, unit, missed=True) for level in levels or ReminderLevel]


def escalated(duty: Duty, level: int, due: int, unit: str = COUNTY) -> TicketEscalated:
    to = {(COUNTY, 1): CITY, (COUNTY, 2): PROVINCE, (CITY, 1): PROVINCE}[(unit, level)]
    return TicketEscalated(duty=duty, from_unit=unit, to_unit=to, level=level, due_ms=due)


# Callback (回访) ---------------------------------------------------------------------------


def test_a_closed_complaint_owes_a_callback_within_5_working_days() -> None:
    h = domain.closed_complaint()  # closed by Chengguan's head on Monday 2026-03-16
    state = h.state
    (callback,) = duties(state).values()
    ob = callback.obligation
    assert (ob.duty, ob.unit_code, ob.limit_days) == (Duty.CALLBACK, COUNTY, 5)
    assert ob.policy_version == DEFAULT_POLICY.version
    assert ob.started_ms == hlc.to_millis(state.closed_hlc)
    # Counting starts the day after closure: 17, 18, 19, 20, 23.
    assert ob.due_date == date(2026, 3, 23)
    assert callback.next_at_ms == china_ms(3, 19)  # the handler, two working days ahead

    at(h, 3, 18, 23)
    assert sweep(h) == []
    at(h, 3, 20)
    due = china_ms(3, 24)
    assert sweep(h) == [
        reminded(Duty.CALLBACK, ReminderLevel.HANDLER, due),
        reminded(Duty.CALLBACK, ReminderLevel.UNIT_HEAD, due),
    ]
    at(h, 3, 24)
    assert sweep(h) == [
        *missed(Duty.CALLBACK, due, COUNTY, ReminderLevel.SUPERVISING_UNIT),
        escalated(Duty.CALLBACK, 1, due),
    ]
    assert sweep(h) == []  # a second sweep asks for nothing twice
    at(h, 3, 27)  # three working days later (24, 25, 26): the province
    assert sweep(h) == [escalated(Duty.CALLBACK, 2, due)]
    assert [(e.duty, e.level) for e in h.state.escalations] == [
        (Duty.CALLBACK, 1),
        (Duty.CALLBACK, 2),
    ]

    done = h.do(HUB, c.RecordCallback(Satisfaction.SATISFIED, "已退款，满意"))
    assert duties(done) == {}
    assert done.escalations == ()


def test_an_unsatisfied_callback_reopens_handling_and_a_second_callback_is_owed() -> None:
    h = domain.closed_complaint()  # closed Monday 2026-03-16: callback due 03-23
    first_due = china_ms(3, 24)
    at(h, 3, 24)
    assert sweep(h) == [*missed(Duty.CALLBACK, first_due), escalated(Duty.CALLBACK, 1, first_due)]

    reopened = h.do(HUB, c.RecordCallback(Satisfaction.DISSATISFIED, "商家未退款"))
    assert reopened.status is TicketStatus.IN_HANDLING
    assert reopened.escalations == ()  # the callback ended the overdue duty
    assert Duty.CALLBACK not in duties(reopened)
    assert duty_owners(reopened, Duty.CALLBACK) == frozenset()
    assert Duty.END_MEDIATION in duties(reopened)  # re-handling (回炉重办) is mediation again

    at(h, 4, 2, 15)  # re-handled and closed again on Thursday 2026-04-02
    h.do(HANDLER, c.EndMediation(MediationOutcome.AGREEMENT, agreement="全额退款"))
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "重新调解，达成协议"))
    closed_again = h.do(HEAD, c.ApproveResult(Track.COMPLAINT, "同意办结"))
    (second,) = duties(closed_again).values()
    ob = second.obligation
    assert (ob.duty, ob.unit_code, ob.start_date) == (Duty.CALLBACK, COUNTY, date(2026, 4, 2))
    # 04-03, then Qingming (04-04..06), 04-07, 08, 09, 10.
    assert ob.due_date == date(2026, 4, 10)
    # A fresh deadline is reminded afresh: the handler two working days ahead.
    assert second.next_at_ms == china_ms(4, 8)

    second_due = china_ms(4, 11)
    at(h, 4, 8)
    assert sweep(h) == [reminded(Duty.CALLBACK, ReminderLevel.HANDLER, second_due)]
    at(h, 4, 13)  # overdue again: the first escalation ended, this one counts anew
    assert sweep(h) == [
        *missed(
            Duty.CALLBACK,
            second_due,
            COUNTY,
            ReminderLevel.UNIT_HEAD,
            ReminderLevel.SUPERVISING_UNIT,
        ),
        escalated(Duty.CALLBACK, 1, second_due),
    ]
    assert [(e.level, e.due_ms) for e in h.state.escalations] == [(1, second_due)]

    final = h.do(HUB, c.RecordCallback(Satisfaction.SATISFIED, "二次回访，满意"))
    assert duties(final) == {} and final.escalations == ()
    # The first round was first swept after its due time: its reminders are history as missed
    # (nobody was told); the second round's reminders stay as history too, told or missed.
    assert [(r.due_ms, r.missed) for r in final.reminders_sent] == [
        (first_due, True),
        (first_due, True),
        (first_due, True),
        (second_due, False),
        (second_due, True),
        (second_due, True),
    ]


def test_a_mediation_reopened_for_re_handling_is_counted_from_the_reopening() -> None:
    h = domain.closed_complaint()  # accepted and closed on Monday 2026-03-16
    at(h, 6, 1)  # the callback comes months later (a Monday) and the consumer is unsatisfied
    reopened = h.do(HUB, c.RecordCallback(Satisfaction.DISSATISFIED, "商家未退款"))
    ob = duties(reopened)[Duty.END_MEDIATION].obligation
    assert ob.start_date == date(2026, 6, 1)
    assert ob.due_date == CALENDAR.add_working_days(date(2026, 6, 1), 45)
    assert sweep(h) == []  # not overdue from the first acceptance


def test_a_refused_complaint_owes_its_callback_from_the_refusal() -> None:
    h = domain.routed()
    at(h, 3, 18, 10)
    state = h.do(HANDLER, c.RefuseComplaint(RefusalGround.TIME_BARRED, "知道权益受损已超过三年"))
    (callback,) = duties(state).values()
    # 19, 20, 23, 24, 25.
    assert (callback.obligation.duty, callback.obligation.due_date) == (
        Duty.CALLBACK,
        date(2026, 3, 25),
    )


def test_a_callback_is_timed_only_for_the_kinds_the_table_times() -> None:
    h = domain.verified_report()
    h.do(HANDLER, c.SubmitResult(Track.REPORT, "已核查，立案查处"))
    closed = h.do(HEAD, c.ApproveResult(Track.REPORT))
    assert closed.status is TicketStatus.CLOSED and closed.awaiting_callback
    # Owed (a callback may be recorded and asked more time for) but the default table gives
    # reports no callback limit: no row, no reminder.
    assert owes(closed, Duty.CALLBACK, COUNTY)
    assert duties(closed) == {}
    timed = replace(
        DEFAULT_POLICY,
        version="gansu-2026-callbacks",
        limits=(*DEFAULT_LIMITS, TimeLimit(Duty.CALLBACK, TicketKind.REPORT, 10)),
    )
    ob = duties(closed, timed)[Duty.CALLBACK].obligation
    assert (ob.limit_days, ob.policy_version, ob.due_date) == (
        10,
        "gansu-2026-callbacks",
        date(2026, 3, 30),
    )


def test_the_callback_takes_the_table_chosen_for_its_closure_time() -> None:
    campaign = DEFAULT_POLICY.compressed(3)
    asked: list[int] = []

    def choose(state: TicketState, started_ms: int) -> TimeLimitPolicy:
        asked.append(started_ms)
        return campaign if started_ms >= china_ms(3, 16) else DEFAULT_POLICY

    h = domain.closed_complaint()
    state = h.state
    (callback,) = open_duties(state, choose, CALENDAR)
    assert asked == [hlc.to_millis(state.closed_hlc)]  # asked for the closure's time
    assert (callback.obligation.policy_version, callback.obligation.due_date) == (
        campaign.version,
        date(2026, 3, 19),
    )


# Supervision orders (跟踪督办) -------------------------------------------------------------


def test_a_supervision_order_is_owed_by_its_unit_by_its_own_deadline() -> None:
    h = domain.accepted()  # Chengguan mediates from Monday 2026-03-16
    state = h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-1", COUNTY, 5, "群众反映强烈，限期回复"))
    report = duties(state)[Duty.SUPERVISION_REPORT]
    ob = report.obligation
    assert (ob.unit_code, ob.limit_days, ob.policy_version) == (COUNTY, 5, DEFAULT_POLICY.version)
    assert ob.due_date == date(2026, 3, 23)  # 17, 18, 19, 20, 23
    assert report.next_at_ms == china_ms(3, 19)

    due = china_ms(3, 24)
    at(h, 3, 23)
    assert sweep(h) == [
        reminded(Duty.SUPERVISION_REPORT, ReminderLevel.HANDLER, due),
        reminded(Duty.SUPERVISION_REPORT, ReminderLevel.UNIT_HEAD, due),
        reminded(Duty.SUPERVISION_REPORT, ReminderLevel.SUPERVISING_UNIT, due),
    ]
    at(h, 3, 24)
    assert sweep(h) == [escalated(Duty.SUPERVISION_REPORT, 1, due)]
    at(h, 3, 27)
    assert sweep(h) == [escalated(Duty.SUPERVISION_REPORT, 2, due)]
    assert sweep(h) == []

    reported = h.do(HEAD, c.ReportSupervision("DB-1", "已约谈商家，三日内退款"))
    assert Duty.SUPERVISION_REPORT not in duties(reported)
    assert reported.escalations == ()
    assert Duty.END_MEDIATION in duties(reported)  # the ticket's own duties go on


def test_each_ordered_unit_owes_its_own_report_and_escalates_on_its_own_account() -> None:
    h = domain.accepted()
    h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-1", COUNTY, 5, "限期回复"))
    state = h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-2", CITY, 2, "市局督促县局"))
    rows = {
        d.obligation.unit_code: d.obligation.due_date
        for d in open_duties(state, DEFAULT_POLICY, CALENDAR)
        if d.obligation.duty is Duty.SUPERVISION_REPORT
    }
    assert rows == {COUNTY: date(2026, 3, 23), CITY: date(2026, 3, 18)}
    # Both overdue: the city's report climbs to the province and no further, the county's to
    # the city; neither is the other's.
    at(h, 3, 25)
    city_due, county_due = china_ms(3, 19), china_ms(3, 24)
    assert sweep(h) == [
        *missed(Duty.SUPERVISION_REPORT, city_due, CITY, *list(ReminderLevel)[1:]),
        escalated(Duty.SUPERVISION_REPORT, 1, city_due, CITY),
        *missed(Duty.SUPERVISION_REPORT, county_due),
        escalated(Duty.SUPERVISION_REPORT, 1, county_due),
    ]
    state = h.do(CITY_HEAD, c.ReportSupervision("DB-2", "已督促城关区局"))
    (row,) = [
        d.obligation
        for d in open_duties(state, DEFAULT_POLICY, CALENDAR)
        if d.obligation.duty is Duty.SUPERVISION_REPORT
    ]
    assert (row.unit_code, row.due_date) == (COUNTY, date(2026, 3, 23))
    assert sweep(h) == []  # the county's escalation is recorded already


def test_one_units_two_orders_are_owed_in_the_order_they_fall_due() -> None:
    h = domain.accepted()
    h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-1", COUNTY, 10, "全面整改"))
    state = h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-2", COUNTY, 3, "先行回复"))
    row = duties(state)[Duty.SUPERVISION_REPORT].obligation
    assert row.due_date == date(2026, 3, 19)  # DB-2: 17, 18, 19
    state = h.do(HEAD, c.ReportSupervision("DB-2", "已先行回复"))
    row = duties(state)[Duty.SUPERVISION_REPORT].obligation
    assert row.due_date == date(2026, 3, 30)  # DB-1: 17..20, 23..27, 30
    state = h.do(HEAD, c.ReportSupervision("DB-1", "整改完成"))
    assert Duty.SUPERVISION_REPORT not in duties(state)


def test_an_approved_extension_moves_the_orders_its_unit_owed_when_it_asked() -> None:
    h = domain.accepted()
    h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-1", COUNTY, 5, "限期回复"))
    h.do(HANDLER, c.RequestExtension(Duty.SUPERVISION_REPORT, 2, "商家负责人出差"))
    state = h.do(HUB_SUPERVISOR, c.DecideExtension(Duty.SUPERVISION_REPORT, True))
    row = duties(state)[Duty.SUPERVISION_REPORT].obligation
    assert (row.extension_days, row.due_date) == (2, date(2026, 3, 25))
    h.do(HEAD, c.ReportSupervision("DB-1", "已回复"))
    at(h, 3, 17)
    state = h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-2", COUNTY, 5, "再次督办"))
    row = duties(state)[Duty.SUPERVISION_REPORT].obligation
    assert (row.extension_days, row.due_date) == (0, date(2026, 3, 24))  # 18..20, 23, 24


def test_a_unit_ordered_to_report_records_its_own_overdue_report_after_the_ticket_left() -> None:
    # The province orders Lanzhou city to report; Chengguan then returns the ticket to the
    # province. The city still owes its report, and its node's sweep escalates it.
    h = domain.routed()
    h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-1", CITY, 2, "市局督促"))
    state = h.do(HANDLER, c.ReturnTicket(ReturnReason.ADDRESS_UNCLEAR, "地址不详"))
    assert state.holder_unit == PROVINCE and CITY not in state.units_involved
    at(h, 3, 19)  # due at the end of 03-18
    due = china_ms(3, 19)
    assert sweep(h) == [
        *missed(Duty.SUPERVISION_REPORT, due, CITY, *list(ReminderLevel)[1:]),
        escalated(Duty.SUPERVISION_REPORT, 1, due, CITY),
    ]
    state = h.state
    assert state.conflicts == ()
    assert [(e.duty, e.from_unit) for e in state.escalations] == [(Duty.SUPERVISION_REPORT, CITY)]
    assert sweep(h) == []


# The other duties, and what is owed by nobody ----------------------------------------------


def test_an_extension_granted_beyond_the_tables_cap_adds_the_cap_only() -> None:
    # Reports: +15 WD in all (DOMAIN.md §5). A decision granting 20 is a signed fact and must
    # not stop the node from counting; the table's cap bounds what it adds.
    h = domain.routed(domain.draft(TicketKind.REPORT, incident_region=COUNTY))
    h.do(HANDLER, c.RequestExtension(Duty.VERIFY_REPORT, 20, "需调取外地证据"))
    state = h.do(HUB_SUPERVISOR, c.DecideExtension(Duty.VERIFY_REPORT, True))
    assert state.extensions[-1].days == 20
    ob = duties(state)[Duty.VERIFY_REPORT].obligation
    assert (ob.limit_days, ob.extension_days) == (15, 15)
    # 30 WD from Monday 03-16: 17..20, 23..27, 30, 31, 04-01..03, 07..10 (Qingming),
    # 13..17, 20..24, 27, 28.
    assert ob.due_date == date(2026, 4, 28)


def test_a_complaint_registered_at_a_county_owes_its_decision_from_registration() -> None:
    h = History.registered(HANDLER, domain.draft())  # a walk-in at Chengguan
    state = h.state
    assert state.status is TicketStatus.REGISTERED and state.holder_unit == COUNTY
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == {COUNTY}
    ob = duties(state)[Duty.DECIDE_ACCEPTANCE].obligation
    assert (ob.unit_code, ob.due_date) == (COUNTY, date(2026, 3, 25))  # 17..20, 23..25


def test_a_ticket_waiting_at_the_hub_owes_no_decision_until_it_reaches_a_handling_unit() -> None:
    h = History.registered(HUB, domain.draft())
    state = h.state
    assert state.holder_unit == PROVINCE
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == frozenset()  # the hub dispatches
    assert duties(state) == {}
    at(h, 3, 17, 15)  # dispatched the next day: Chengguan's count starts then
    routed = h.do(HUB, c.RouteTicket())
    assert duty_owners(routed, Duty.DECIDE_ACCEPTANCE) == {COUNTY}
    assert duties(routed)[Duty.DECIDE_ACCEPTANCE].obligation.due_date == date(2026, 3, 26)


def test_nobody_owes_an_odr_answer_until_odr_disputes_exist() -> None:
    h = domain.routed()
    assert duty_owners(h.state, Duty.ODR_ANSWER) == frozenset()
    with pytest.raises(StepNotAllowed, match="owes no odr_answer"):
        h.do(HANDLER, c.RequestExtension(Duty.ODR_ANSWER, 3, "企业未答复"))
    assert Duty.ODR_ANSWER not in duties(h.state)
