"""The duties view and the sweep (core.deadlines.duties, .sweep): properties on random ticket lives.

DESIGN.md rule 7: the obligation rows are a view of the ticket state, and a sweep turns due
rows into signed reminders and escalations. Whatever a ticket went through (routings, returns,
closures, 不满意 callbacks and re-handling, supervision orders to several units, extensions), the
rows must agree with who owes what (``core.ticket.duties``), one per duty (the table's key), and
a sweep must never ask twice: everything it records counts in the fold, and a second sweep at
the same moment records nothing. A looser "already recorded" key than the fold's would make
every sweep record an event the fold then ignores, for ever.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.deadlines import (
    DEFAULT_POLICY,
    HolidayTable,
    WorkingDayCalendar,
    china_date,
    end_of_day_ms,
    start_of_day_ms,
)
from core.deadlines.duties import owed_obligations
from core.deadlines.sweep import open_duties, steps_due
from core.errors import DomainError
from core.officers import Officer, Role
from core.ticket import commands as c
from core.ticket.decisions import decide
from core.ticket.duties import duty_owners, owes
from core.ticket.events import ReminderSent, TicketEscalated
from core.ticket.state import TicketState
from core.ticket.vocabulary import (
    Duty,
    Finding,
    MediationOutcome,
    RefusalGround,
    ReturnReason,
    Satisfaction,
    TicketKind,
    Track,
)
from core.units import HANDLING_LEVELS, level_of
from tests.helpers import domain
from tests.helpers.domain import (
    HANDLER,
    HEAD,
    HUB,
    HUB_SUPERVISOR,
    OTHER_HANDLER,
    OTHER_HEAD,
    STATION_OFFICER,
    History,
)

CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar())
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CITY_HEAD = domain.officer("620100-02", "钱进", "620100", Role.UNIT_HEAD, Role.SUPERVISOR)
HEAD_OF = {"620102": HEAD, "620103": OTHER_HEAD, "620100": CITY_HEAD}
TIMED = (Duty.DECIDE_ACCEPTANCE, Duty.VERIFY_REPORT, Duty.END_MEDIATION, Duty.CALLBACK)

FIXED_MOVES: list[tuple[Officer, c.TicketCommand]] = [
    (HUB, c.RouteTicket()),
    (HUB, c.RouteTicket(to_unit="620103")),
    (HANDLER, c.ReturnTicket(ReturnReason.ADDRESS_UNCLEAR, "地址不详")),
    (HANDLER, c.AcceptComplaint()),
    (OTHER_HANDLER, c.AcceptComplaint()),
    (HANDLER, c.RefuseComplaint(RefusalGround.TIME_BARRED, "超过三年")),
    (STATION_OFFICER, c.PauseMediation("送检")),
    (HANDLER, c.AssignToStation("620102001")),
    (HANDLER, c.ResumeMediation()),
    (HANDLER, c.PauseMediation("鉴定")),
    (HANDLER, c.EndMediation(MediationOutcome.AGREEMENT, agreement="退款")),
    (OTHER_HANDLER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=100)),
    (HANDLER, c.VerifyReport(Finding.SUBSTANTIATED, "现场检查")),
    (OTHER_HANDLER, c.VerifyReport(Finding.NOT_SUBSTANTIATED, "未发现问题")),
    (HANDLER, c.SubmitResult(Track.COMPLAINT, "已调解")),
    (HANDLER, c.SubmitResult(Track.REPORT, "已核查")),
    (OTHER_HANDLER, c.SubmitResult(Track.COMPLAINT, "已调解")),
    (OTHER_HANDLER, c.SubmitResult(Track.REPORT, "已核查")),
    (HEAD, c.ApproveResult(Track.COMPLAINT)),
    (HEAD, c.ApproveResult(Track.REPORT)),
    (OTHER_HEAD, c.ApproveResult(Track.COMPLAINT)),
    (OTHER_HEAD, c.ApproveResult(Track.REPORT)),
    (HEAD, c.RejectResult(Track.COMPLAINT, "材料不全")),
    (HUB, c.RecordCallback(Satisfaction.DISSATISFIED, "未退款")),
    (HUB, c.RecordCallback(Satisfaction.SATISFIED)),
    *[
        (officer, c.RequestExtension(duty, days, "需要更多时间"))
        for officer in (HANDLER, OTHER_HANDLER)
        for duty in (*TIMED, Duty.SUPERVISION_REPORT)
        for days in (2, 20)
    ],
    *[
        (HUB_SUPERVISOR, c.DecideExtension(duty, approved, note="" if approved else "不同意"))
        for duty in (*TIMED, Duty.SUPERVISION_REPORT)
        for approved in (True, False)
    ],
]


def moves(state: TicketState) -> list[tuple[Officer, c.TicketCommand]]:
    """The fixed moves, plus supervision orders (fresh ids) and the reports they call for."""
    next_id = f"DB-{len(state.supervision_orders) + 1}"
    orders: list[tuple[Officer, c.TicketCommand]] = [
        (HUB_SUPERVISOR, c.OrderSupervision(next_id, unit, days, "限期回复"))
        for unit in ("620102", "620103", "620100")
        for days in (2, 6)
    ]
    reports: list[tuple[Officer, c.TicketCommand]] = [
        (HEAD_OF[o.to_unit], c.ReportSupervision(o.order_id, "已办理"))
        for o in state.supervision_orders
        if not o.reported and o.to_unit in HEAD_OF
    ]
    return [*FIXED_MOVES, *orders, *reports]


def allowed(h: History) -> list[tuple[Officer, c.TicketCommand]]:
    state = h.state
    found = []
    for officer, command in moves(state):
        try:
            decide(state, command, officer, h.ctx)
        except DomainError:
            continue
        found.append((officer, command))
    return found


def sweeper(unit: str) -> Officer:
    return domain.officer(f"{unit}-sweep", "催办督办系统", unit)


def check_rows(state: TicketState) -> None:
    """The rows agree with who owes what, one per duty and owing unit."""
    assert state.registration is not None
    rows = open_duties(state, DEFAULT_POLICY, CALENDAR)
    keys = [(row.obligation.duty, row.obligation.unit_code) for row in rows]
    assert len(set(keys)) == len(keys)
    for duty, unit in keys:
        assert duty is not Duty.ODR_ANSWER
        assert owes(state, duty, unit), (duty, unit)
    by_duty = {
        row.obligation.duty: row.obligation
        for row in rows
        if row.obligation.duty is not Duty.SUPERVISION_REPORT
    }
    assert len(by_duty) == len([k for k in keys if k[0] is not Duty.SUPERVISION_REPORT])
    kind = state.registration.kind
    for duty in TIMED:
        owners = {
            u
            for u in duty_owners(state, duty)
            if duty is Duty.CALLBACK or level_of(u) in HANDLING_LEVELS
        }
        if owners and DEFAULT_POLICY.has_limit(duty, kind):
            assert duty in by_duty and by_duty[duty].unit_code in owners, duty
    reports = [
        ob
        for ob in owed_obligations(state, DEFAULT_POLICY, CALENDAR)
        if ob.duty is Duty.SUPERVISION_REPORT
    ]
    assert {ob.unit_code for ob in reports} == set(duty_owners(state, Duty.SUPERVISION_REPORT))
    assert {u for d, u in keys if d is Duty.SUPERVISION_REPORT} == {ob.unit_code for ob in reports}


def sweep_and_check(h: History) -> None:
    """Each owing unit sweeps: all it records counts, and a second sweep records nothing."""
    now = h.wall_ms
    before = h.state
    count = 0
    for row in open_duties(before, DEFAULT_POLICY, CALENDAR):
        events = steps_due(before, row, now, CALENDAR)
        h.record(sweeper(row.obligation.unit_code), *events)
        count += len(events)
    after = h.state
    counted = len(after.reminders_sent) - len(before.reminders_sent)
    counted += len(after.escalations) - len(before.escalations)
    assert counted == count  # every event the sweep recorded changed the state
    assert after.conflicts == before.conflicts
    for row in open_duties(after, DEFAULT_POLICY, CALENDAR):
        assert steps_due(after, row, now, CALENDAR) == []
        assert row.next_at_ms == 0 or row.next_at_ms > now


@st.composite
def lives(draw: st.DrawFn) -> History:
    """A ticket's life: commands ``decide`` allows, time passing, sweeps; checked throughout."""
    kind = draw(st.sampled_from([TicketKind.COMPLAINT, TicketKind.REPORT, TicketKind.COMPOSITE]))
    h = History.registered(HUB, domain.draft(kind, incident_region="620102"))
    for _ in range(draw(st.integers(1, 30))):
        h.advance(days=draw(st.sampled_from([0, 0, 1, 3, 8])))
        sweep_and_check(h)
        check_rows(h.state)
        found = allowed(h)
        if not found:
            break
        onward = [m for m in found if not isinstance(m[1], c.RouteTicket)]
        pool = onward if onward and draw(st.integers(0, 5)) > 0 else found
        officer, command = draw(st.sampled_from(pool))
        h.do(officer, command)
        check_rows(h.state)
    return h


@PROPERTY
@given(h=lives())
def test_rows_follow_the_owners_and_a_sweep_never_asks_twice(h: History) -> None:
    # The checks run at every step of the life; the end is checked once more after a month.
    h.advance(days=30)
    sweep_and_check(h)
    check_rows(h.state)


INSTANTS = st.integers(
    min_value=start_of_day_ms(date(2025, 1, 2)), max_value=end_of_day_ms(date(2026, 12, 20))
)


@settings(max_examples=40, deadline=None)
@given(closed_at=INSTANTS)
def test_a_callbacks_reminders_fall_on_working_days_before_its_due_date(closed_at: int) -> None:
    h = History.registered(HUB, domain.draft(), wall_ms=closed_at)
    steps: list[tuple[Officer, c.TicketCommand]] = [
        (HUB, c.RouteTicket()),
        (HANDLER, c.AcceptComplaint()),
        (HANDLER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=1)),
        (HANDLER, c.SubmitResult(Track.COMPLAINT, "已调解")),
        (HEAD, c.ApproveResult(Track.COMPLAINT)),
    ]
    for officer, command in steps:
        h.do(officer, command)
    (row,) = open_duties(h.state, DEFAULT_POLICY, CALENDAR)
    ob = row.obligation
    closed_on = china_date(closed_at)
    assert ob.due_date == CALENDAR.add_working_days(closed_on, 5)
    assert CALENDAR.working_days_between(closed_on, ob.due_date) == 5
    # Sweep every day from the closure to the due date: each reminder comes on a working day.
    day = closed_on
    while start_of_day_ms(day) < ob.due_ms:
        h.wall_ms = max(h.wall_ms, start_of_day_ms(day) + 1)
        recorded = []
        for duty in open_duties(h.state, DEFAULT_POLICY, CALENDAR):
            events = steps_due(h.state, duty, h.wall_ms, CALENDAR)
            h.record(sweeper(duty.obligation.unit_code), *events)
            recorded += events
        assert all(isinstance(e, ReminderSent) for e in recorded)
        if recorded:
            assert CALENDAR.is_working_day(day), day
        day = date.fromordinal(day.toordinal() + 1)
    assert len(h.state.reminders_sent) == 3
    h.wall_ms = ob.due_ms
    (row,) = open_duties(h.state, DEFAULT_POLICY, CALENDAR)
    assert steps_due(h.state, row, ob.due_ms, CALENDAR) == [
        TicketEscalated(Duty.CALLBACK, "620102", "620100", 1, ob.due_ms)
    ]
