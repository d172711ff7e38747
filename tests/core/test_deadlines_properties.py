"""Properties of working-day counting and obligations (core.deadlines), in known and unknown years.

Dates run from 2003 (before the package's data) to 2031 (after it), so the weekend-only
fallback is exercised too. The counting is checked against a day-by-day count.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.deadlines import (
    DEFAULT_POLICY,
    DEFAULT_REMINDER_POINTS,
    Duty,
    HolidayTable,
    WorkingDayCalendar,
    end_of_day_ms,
    escalation_times,
    extend,
    open_obligation,
    overdue_level,
    pause,
    reminder_times,
    resume,
    start_of_day_ms,
)
from core.ticket.vocabulary import TicketKind

CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar())
DATES = st.dates(min_value=date(2003, 1, 1), max_value=date(2031, 12, 31))
COUNTS = st.integers(min_value=0, max_value=400)
INSTANTS = st.integers(
    min_value=start_of_day_ms(date(2025, 1, 1)), max_value=end_of_day_ms(date(2027, 6, 30))
)


def days_after(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(1, count + 1)]


@given(start=DATES, n=COUNTS, m=COUNTS)
def test_add_working_days_is_monotonic_in_the_count(start: date, n: int, m: int) -> None:
    low, high = sorted((n, m))
    assert CALENDAR.add_working_days(start, low) <= CALENDAR.add_working_days(start, high)


@given(a=DATES, b=DATES, n=COUNTS)
def test_add_working_days_is_monotonic_in_the_start(a: date, b: date, n: int) -> None:
    early, late = sorted((a, b))
    assert CALENDAR.add_working_days(early, n) <= CALENDAR.add_working_days(late, n)


@given(start=DATES, n=COUNTS)
def test_working_days_between_undoes_add_working_days(start: date, n: int) -> None:
    assert CALENDAR.working_days_between(start, CALENDAR.add_working_days(start, n)) == n


@given(start=DATES, n=st.integers(min_value=1, max_value=400))
def test_the_result_is_always_a_working_day(start: date, n: int) -> None:
    assert CALENDAR.is_working_day(CALENDAR.add_working_days(start, n))
    assert CALENDAR.is_working_day(CALENDAR.add_working_days(start, -n))


@given(start=DATES, n=st.integers(min_value=1, max_value=60))
def test_the_result_is_the_nth_working_day_counted_one_by_one(start: date, n: int) -> None:
    due = CALENDAR.add_working_days(start, n)
    span = days_after(start, (due - start).days)
    assert [d for d in span if CALENDAR.is_working_day(d)][-1] == due
    assert sum(CALENDAR.is_working_day(d) for d in span) == n
    before = CALENDAR.add_working_days(start, -n)
    back = days_after(before - timedelta(days=1), (start - before).days)  # [before, start)
    assert sum(CALENDAR.is_working_day(d) for d in back) == n


@given(start=DATES, length=st.integers(min_value=0, max_value=120))
def test_working_days_between_matches_a_day_by_day_count(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    expected = sum(CALENDAR.is_working_day(d) for d in days_after(start, length))
    assert CALENDAR.working_days_between(start, end) == expected
    assert CALENDAR.working_days_between(end, start) == -expected


@given(
    started=INSTANTS,
    pause_after=st.integers(min_value=0, max_value=40 * 86_400_000),
    pause_for=st.integers(min_value=0, max_value=40 * 86_400_000),
    extension=st.integers(min_value=1, max_value=30),
)
def test_pauses_and_extensions_never_bring_the_deadline_forward(
    started: int, pause_after: int, pause_for: int, extension: int
) -> None:
    ob = open_obligation(
        ticket_id="T1",
        duty=Duty.END_MEDIATION,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=started,
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
    )
    paused_at = started + pause_after
    resumed = resume(pause(ob, paused_at), paused_at + pause_for, CALENDAR)
    assert resumed.due_ms >= ob.due_ms
    assert resumed.paused_ms == pause_for
    extended = extend(resumed, extension, paused_at + pause_for, CALENDAR)
    assert extended.due_ms > resumed.due_ms
    assert extended.due_date == CALENDAR.add_working_days(
        ob.start_date, 45 + resumed.paused_working_days + extension
    )


@given(started=INSTANTS, days=st.integers(min_value=1, max_value=45), now=INSTANTS)
def test_reminders_precede_the_due_time_and_escalation_follows_it(
    started: int, days: int, now: int
) -> None:
    ob = open_obligation(
        ticket_id="T1",
        duty=Duty.SUPERVISION_REPORT,
        kind=TicketKind.COMPLAINT,
        unit_code="620102001",
        started_ms=started,
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
        days=days,
    )
    reminders = reminder_times(ob, DEFAULT_REMINDER_POINTS, CALENDAR)
    times = [r.at_ms for r in reminders]
    assert times == sorted(times)
    assert all(started < t < ob.due_ms for t in times)
    escalations = escalation_times(ob, 3, CALENDAR)
    assert len(escalations) == 3
    assert escalations[0] == ob.due_ms
    assert list(escalations) == sorted(set(escalations))
    assert overdue_level(ob, now, 3, CALENDAR) == sum(t <= now for t in escalations)
