"""``Schedules`` remembers reminder and escalation times and never gives a stale answer.

A sweep asks the same questions of every ticket due on one day, and the projection asks them
again for each ticket it just swept; ``Schedules`` keeps the answers, keyed by what they depend
on. These properties compare it, call after call (so most answers come from its memory), with
the functions it remembers, and check that a calendar it was not made for is refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.deadlines import (
    DEFAULT_POLICY,
    DEFAULT_REMINDER_POINTS,
    Duty,
    HolidayTable,
    Obligation,
    ReminderLevel,
    ReminderPoint,
    WorkingDayCalendar,
    end_of_day_ms,
    escalation_times,
    open_obligation,
    pause,
    reminder_times,
    start_of_day_ms,
)
from core.deadlines.escalation import Schedules
from core.deadlines.rulebook import RuleBook, parse_holiday_year
from core.deadlines.sweep import open_duties, steps_due
from core.ticket.vocabulary import TicketKind
from tests.helpers.domain import routed

CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar())
INSTANTS = st.integers(
    min_value=start_of_day_ms(date(2025, 12, 1)), max_value=end_of_day_ms(date(2027, 2, 28))
)
CLOSE_INSTANTS = st.builds(
    lambda day, minute: start_of_day_ms(day) + minute * 60_000,
    st.sampled_from([date(2026, 9, 28), date(2026, 9, 30), date(2026, 12, 31), date(2027, 1, 4)]),
    st.integers(min_value=0, max_value=24 * 60 - 1),
)
"""Starts on a few days (around holidays), so that many obligations share a due time."""
UNITS = st.sampled_from(["620000", "620100", "620102", "620102001"])
POINTS = st.sampled_from(
    [
        DEFAULT_REMINDER_POINTS,
        (ReminderPoint(ReminderLevel.HANDLER, 5), ReminderPoint(ReminderLevel.UNIT_HEAD, 0)),
    ]
)
OBLIGATIONS = st.builds(
    lambda started, days, unit, paused: (lambda ob: pause(ob, started + 1) if paused else ob)(
        open_obligation(
            ticket_id="T1",
            duty=Duty.DECIDE_ACCEPTANCE,
            kind=TicketKind.COMPLAINT,
            unit_code=unit,
            started_ms=started,
            policy=DEFAULT_POLICY,
            calendar=CALENDAR,
            days=days,
        )
    ),
    INSTANTS | CLOSE_INSTANTS,
    st.integers(min_value=1, max_value=8),
    UNITS,
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(
    obligations=st.lists(OBLIGATIONS, min_size=1, max_size=12),
    points=POINTS,
    period=st.integers(min_value=1, max_value=5),
    limit=st.integers(min_value=1, max_value=8),
)
def test_remembered_times_are_the_times_counted_afresh(
    obligations: list[Obligation], points: tuple[ReminderPoint, ...], period: int, limit: int
) -> None:
    # A small ``limit`` empties the memory now and then: answers stay right through that too.
    schedules = Schedules(CALENDAR, limit=limit)
    for ob in obligations * 2:  # every question asked twice: the second from memory
        assert schedules.reminder_times(ob, points) == reminder_times(ob, points, CALENDAR)
        assert schedules.escalation_times(ob, period) == escalation_times(ob, period, CALENDAR)


@given(started=INSTANTS, later=st.integers(min_value=1, max_value=6 * 86_400_000))
def test_two_starts_with_one_due_time_share_an_entry_but_not_their_reminders(
    started: int, later: int
) -> None:
    # The same due date from two starts: the later start leaves out the points before it.
    early = open_obligation(
        ticket_id="T1",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=started,
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
        days=7,
    )
    late = open_obligation(
        ticket_id="T2",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=min(early.due_ms - 1, started + later),
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
        days=1,
    )
    late = replace(late, due_ms=early.due_ms)
    schedules = Schedules(CALENDAR)
    for ob in (early, late, early, late):
        assert schedules.reminder_times(ob, DEFAULT_REMINDER_POINTS) == reminder_times(
            ob, DEFAULT_REMINDER_POINTS, CALENDAR
        )


def test_open_duties_and_steps_are_the_same_with_and_without_schedules() -> None:
    state = routed().state
    schedules = Schedules(CALENDAR)
    plain = open_duties(state, DEFAULT_POLICY, CALENDAR)
    assert open_duties(state, DEFAULT_POLICY, CALENDAR, schedules=schedules) == plain
    assert open_duties(state, DEFAULT_POLICY, CALENDAR, schedules=schedules) == plain
    (duty,) = plain
    for now in (duty.obligation.due_ms - 86_400_000, duty.obligation.due_ms + 1):
        assert steps_due(state, duty, now, CALENDAR, schedules=schedules) == steps_due(
            state, duty, now, CALENDAR
        )


def test_schedules_made_for_another_calendar_are_refused() -> None:
    # A loaded holiday year makes a new calendar: answers counted on the old one are stale.
    year = parse_holiday_year(2026, ["2026-03-17", "2026-03-18"], ["2026-03-21"])
    book = RuleBook("620000").with_holiday_year(year, 0)
    newer = WorkingDayCalendar(book.holiday_table(HolidayTable.from_chinese_calendar()))
    with pytest.raises(ValueError, match="another calendar"):
        open_duties(routed().state, DEFAULT_POLICY, newer, schedules=Schedules(CALENDAR))
