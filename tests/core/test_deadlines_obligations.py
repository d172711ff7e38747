"""Obligations, the policy table, reminders and escalation (core.deadlines): DOMAIN.md §5-§6.

Dates use the real 2026 calendar: Qingming 2026-04-04..06, Labour Day 2026-05-01..05 with
Saturday 2026-05-09 worked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from core.deadlines import (
    CHINA_TZ,
    DEFAULT_POLICY,
    DEFAULT_REMINDER_POINTS,
    Duty,
    HolidayTable,
    Obligation,
    Reminder,
    ReminderLevel,
    ReminderPoint,
    TimeLimit,
    TimeLimitPolicy,
    WorkingDayCalendar,
    escalation_times,
    extend,
    is_overdue,
    levels_to_province,
    open_obligation,
    overdue_level,
    pause,
    policy_in_force,
    reminder_times,
    resume,
)
from core.errors import InvalidInput, StepNotAllowed
from core.ticket.vocabulary import TicketKind

CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar([2025, 2026]))
COUNTY = "620102"  # Chengguan district, Lanzhou


def china_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch milliseconds of a wall-clock time in China."""
    return int(datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ).timestamp() * 1000)


def obligation(
    duty: Duty = Duty.DECIDE_ACCEPTANCE,
    started_ms: int = china_ms(2026, 3, 13, 16, 0),  # a Friday
    kind: TicketKind = TicketKind.COMPLAINT,
    unit_code: str = COUNTY,
    policy: TimeLimitPolicy = DEFAULT_POLICY,
    days: int | None = None,
) -> Obligation:
    return open_obligation(
        ticket_id="T1",
        duty=duty,
        kind=kind,
        unit_code=unit_code,
        started_ms=started_ms,
        policy=policy,
        calendar=CALENDAR,
        days=days,
    )


def test_the_default_policy_carries_the_domain_limits() -> None:
    limits = {
        (duty, kind): DEFAULT_POLICY.limit_for(duty, kind).days
        for duty, kind in [
            (Duty.DECIDE_ACCEPTANCE, TicketKind.COMPLAINT),
            (Duty.END_MEDIATION, TicketKind.COMPLAINT),
            (Duty.VERIFY_REPORT, TicketKind.REPORT),
            (Duty.ODR_ANSWER, TicketKind.COMPLAINT),
            (Duty.DECIDE_ACCEPTANCE, TicketKind.COMPOSITE),
            (Duty.VERIFY_REPORT, TicketKind.COMPOSITE),
        ]
    }
    assert list(limits.values()) == [7, 45, 15, 10, 7, 15]
    assert DEFAULT_POLICY.limit_for(Duty.VERIFY_REPORT, TicketKind.REPORT).max_extension_days == 15
    with pytest.raises(InvalidInput):
        DEFAULT_POLICY.limit_for(Duty.END_MEDIATION, TicketKind.REPORT)


def test_an_obligation_records_its_limit_and_policy_version() -> None:
    ob = obligation()
    assert (ob.limit_days, ob.policy_version) == (7, DEFAULT_POLICY.version)
    assert ob.start_date == date(2026, 3, 13)
    assert ob.due_date == date(2026, 3, 24)


def test_a_paused_clock_moves_the_deadline() -> None:
    # Mediation accepted Monday 2026-03-02: 45 WD run to Friday 2026-05-08 (Qingming and
    # Labour Day skipped, Saturday 2026-05-09 not yet reached).
    ob = obligation(Duty.END_MEDIATION, started_ms=china_ms(2026, 3, 2, 9, 0))
    assert ob.due_date == date(2026, 5, 8)
    # Testing from Tuesday 03-10 10:00 to Monday 03-16 15:00: the working days in (10th, 16th],
    # 11, 12, 13 and 16, are given back.
    paused = pause(ob, china_ms(2026, 3, 10, 10, 0))
    assert paused.is_paused
    assert paused.due_ms == ob.due_ms
    running = resume(paused, china_ms(2026, 3, 16, 15, 0), CALENDAR)
    assert running.paused_working_days == 4
    assert running.paused_ms == china_ms(2026, 3, 16, 15, 0) - china_ms(2026, 3, 10, 10, 0)
    # 05-09 (make-up Saturday), 05-11, 05-12, 05-13.
    assert running.due_date == date(2026, 5, 13)
    # Same view, counted the other way: the days left at the pause, counted after resumption.
    used = CALENDAR.working_days_between(date(2026, 3, 2), date(2026, 3, 10))
    assert CALENDAR.add_working_days(date(2026, 3, 16), 45 - used) == running.due_date


def test_a_pause_within_one_day_gives_nothing_and_a_weekend_pause_gives_one_day() -> None:
    ob = obligation(Duty.END_MEDIATION, started_ms=china_ms(2026, 3, 2, 9, 0))
    same_day = resume(pause(ob, china_ms(2026, 3, 4, 9, 0)), china_ms(2026, 3, 4, 17, 0), CALENDAR)
    assert same_day.due_ms == ob.due_ms
    weekend = resume(pause(ob, china_ms(2026, 3, 6, 9, 0)), china_ms(2026, 3, 9, 9, 0), CALENDAR)
    assert weekend.paused_working_days == 1
    assert weekend.due_date == date(2026, 5, 9)


def test_a_paused_obligation_is_not_overdue_and_sends_nothing() -> None:
    ob = pause(obligation(), china_ms(2026, 3, 20, 9, 0))
    later = china_ms(2026, 6, 1)
    assert not is_overdue(ob, later)
    assert overdue_level(ob, later, 5, CALENDAR) == 0
    assert reminder_times(ob, DEFAULT_REMINDER_POINTS, CALENDAR) == ()
    assert escalation_times(ob, 5, CALENDAR) == ()


def test_pause_and_resume_must_alternate() -> None:
    ob = obligation(Duty.END_MEDIATION)
    with pytest.raises(StepNotAllowed):
        resume(ob, china_ms(2026, 3, 20), CALENDAR)
    paused = pause(ob, china_ms(2026, 3, 20))
    with pytest.raises(StepNotAllowed):
        pause(paused, china_ms(2026, 3, 21))
    with pytest.raises(InvalidInput):
        resume(paused, china_ms(2026, 3, 19), CALENDAR)


def test_an_approved_extension_moves_the_deadline() -> None:
    # A report received Monday 2026-03-02: verify by Monday 03-23 (15 WD).
    ob = obligation(
        Duty.VERIFY_REPORT, started_ms=china_ms(2026, 3, 2, 9, 0), kind=TicketKind.REPORT
    )
    assert ob.due_date == date(2026, 3, 23)
    # +15 WD approved on 03-20: 03-24..27, 30, 31, 04-01..03, 07..10 (Qingming), 13, 14.
    extended = extend(ob, 15, china_ms(2026, 3, 20, 11, 0), CALENDAR)
    assert extended.due_date == date(2026, 4, 14)
    assert (extended.extension_days, extended.last_extended_ms) == (15, china_ms(2026, 3, 20, 11))
    # The policy allows +15 WD for reports in all (DOMAIN.md §5).
    with pytest.raises(StepNotAllowed):
        extend(extended, 1, china_ms(2026, 4, 1), CALENDAR)
    with pytest.raises(InvalidInput):
        extend(ob, 0, china_ms(2026, 3, 20), CALENDAR)


def test_an_extension_after_a_pause_adds_to_both() -> None:
    ob = obligation(Duty.END_MEDIATION, started_ms=china_ms(2026, 3, 2, 9, 0))
    running = resume(pause(ob, china_ms(2026, 3, 10, 10)), china_ms(2026, 3, 16, 15), CALENDAR)
    extended = extend(running, 2, china_ms(2026, 4, 1), CALENDAR)
    assert extended.counted_days == 45 + 4 + 2
    assert extended.due_date == date(2026, 5, 15)


def test_a_campaign_compresses_limits_for_new_obligations_only() -> None:
    before = obligation()  # opened under the ordinary table: 7 WD
    campaign = DEFAULT_POLICY.compressed()
    assert campaign.version == f"{DEFAULT_POLICY.version}+campaign3"
    assert campaign.limit_for(Duty.END_MEDIATION, TicketKind.COMPLAINT).days == 3
    during = obligation(policy=campaign)
    # Friday 2026-03-13 + 3 WD = Wednesday 03-18; the older obligation keeps its 03-24.
    assert (during.due_date, during.policy_version) == (date(2026, 3, 18), campaign.version)
    assert (before.due_date, before.policy_version) == (date(2026, 3, 24), DEFAULT_POLICY.version)
    # Switching the campaign off: new obligations get the ordinary table again.
    assert obligation().due_date == date(2026, 3, 24)
    with pytest.raises(InvalidInput):
        DEFAULT_POLICY.compressed(0)


def test_a_new_policy_version_applies_from_its_effective_time() -> None:
    revised = replace(
        DEFAULT_POLICY,
        version="gansu-2026-2",
        effective_from_ms=china_ms(2026, 6, 1),
        limits=(TimeLimit(Duty.DECIDE_ACCEPTANCE, TicketKind.COMPLAINT, 5),),
    )
    tables = [revised, DEFAULT_POLICY]
    assert policy_in_force(tables, china_ms(2026, 5, 31, 23, 59)) is DEFAULT_POLICY
    assert policy_in_force(tables, china_ms(2026, 6, 1)) is revised
    old = obligation(policy=policy_in_force(tables, china_ms(2026, 5, 29, 10)))
    assert old.limit_days == 7
    with pytest.raises(InvalidInput):
        policy_in_force([revised], china_ms(2026, 1, 1))


def test_a_supervision_order_sets_its_own_limit() -> None:
    with pytest.raises(InvalidInput):
        obligation(Duty.SUPERVISION_REPORT)
    ob = obligation(Duty.SUPERVISION_REPORT, days=10)
    assert (ob.limit_days, ob.max_extension_days) == (10, None)
    assert ob.due_date == date(2026, 3, 27)


def test_reminders_come_before_the_due_time_in_order() -> None:
    ob = obligation()  # due at the end of Tuesday 2026-03-24
    points = tuple(reversed(DEFAULT_REMINDER_POINTS))
    assert reminder_times(ob, points, CALENDAR) == (
        Reminder(ReminderLevel.HANDLER, china_ms(2026, 3, 20)),  # Friday: 2 WD left after it
        Reminder(ReminderLevel.UNIT_HEAD, china_ms(2026, 3, 23)),
        Reminder(ReminderLevel.SUPERVISING_UNIT, china_ms(2026, 3, 24)),  # the due day
    )
    # Across National Day: due Thursday 2026-10-08, one working day before is 09-30.
    golden = obligation(started_ms=china_ms(2026, 9, 29, 9, 0), days=2)
    assert golden.due_date == date(2026, 10, 8)
    one_before = (ReminderPoint(ReminderLevel.UNIT_HEAD, 1),)
    assert reminder_times(golden, one_before, CALENDAR) == (
        Reminder(ReminderLevel.UNIT_HEAD, china_ms(2026, 9, 30)),
    )


def test_reminders_before_the_start_are_left_out() -> None:
    short = obligation(days=1)  # received Friday 16:00, due Monday 2026-03-16
    reminders = reminder_times(short, DEFAULT_REMINDER_POINTS, CALENDAR)
    assert reminders == (Reminder(ReminderLevel.SUPERVISING_UNIT, china_ms(2026, 3, 16)),)


def test_overdue_climbs_one_level_per_period_up_to_the_province() -> None:
    ob = obligation()  # Chengguan county; due at the end of Tuesday 2026-03-24
    period = 5
    assert overdue_level(ob, ob.due_ms - 1, period, CALENDAR) == 0
    assert not is_overdue(ob, ob.due_ms - 1)
    assert overdue_level(ob, ob.due_ms, period, CALENDAR) == 1  # Lanzhou's queue
    # 5 WD after the due date: 25, 26, 27, 30, 31 -> the province from 04-01 00:00.
    assert overdue_level(ob, china_ms(2026, 3, 31, 23, 59), period, CALENDAR) == 1
    assert overdue_level(ob, china_ms(2026, 4, 1), period, CALENDAR) == 2  # Gansu
    # A county climbs no higher than its province, however long it waits.
    assert overdue_level(ob, china_ms(2026, 12, 31), period, CALENDAR) == 2
    assert escalation_times(ob, period, CALENDAR) == (ob.due_ms, china_ms(2026, 4, 1))
    # A station climbs three levels; the third period skips Qingming (04-06) -> after 04-08.
    station = replace(ob, unit_code="620102001")
    assert escalation_times(station, period, CALENDAR)[2] == china_ms(2026, 4, 9)
    assert overdue_level(station, china_ms(2026, 12, 31), period, CALENDAR) == 3
    # A city climbs once; a province's own duty is overdue but has nowhere to climb.
    assert overdue_level(replace(ob, unit_code="620100"), china_ms(2026, 12, 31), 5, CALENDAR) == 1
    province = replace(ob, unit_code="620000")
    assert overdue_level(province, china_ms(2026, 12, 31), period, CALENDAR) == 0
    assert is_overdue(province, china_ms(2026, 12, 31))
    assert [levels_to_province(c) for c in ("100000", "620000", "620100", COUNTY)] == [0, 0, 1, 2]
    with pytest.raises(InvalidInput):
        overdue_level(ob, ob.due_ms, 0, CALENDAR)


def test_an_obligation_needs_a_unit_and_a_positive_limit() -> None:
    with pytest.raises(InvalidInput):
        obligation(unit_code="")
    with pytest.raises(InvalidInput):
        obligation(days=0)
