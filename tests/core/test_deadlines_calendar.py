"""The working-day calendar and its holiday table (core.deadlines): DOMAIN.md §5 counting rules.

The 2026 facts come from the real ``chinese-calendar`` data: Mid-Autumn 2026-09-25..27,
National Day 2026-10-01..07, make-up workdays Sunday 2026-09-20 and Saturday 2026-10-10.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from core.deadlines import (
    CHINA_TZ,
    DEFAULT_POLICY,
    AdminYears,
    Duty,
    HolidayTable,
    Obligation,
    WorkingDayCalendar,
    YearHolidays,
    china_date,
    end_of_day_ms,
    extend,
    open_obligation,
    package_years,
    recompute_due,
    start_of_day_ms,
)
from core.errors import InvalidInput
from core.ticket.vocabulary import TicketKind

PACKAGE = HolidayTable.from_chinese_calendar()
CALENDAR = WorkingDayCalendar(PACKAGE)


def china_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch milliseconds of a wall-clock time in China."""
    return int(datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ).timestamp() * 1000)


def decide_by(received_ms: int, calendar: WorkingDayCalendar = CALENDAR) -> date:
    """The due date of the 7-WD acceptance decision for a complaint received at ``received_ms``."""
    return open_obligation(
        ticket_id="T1",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=received_ms,
        policy=DEFAULT_POLICY,
        calendar=calendar,
    ).due_date


def test_counting_starts_the_day_after_receipt() -> None:
    # Received on Friday 2026-03-13: Friday does not count; 16, 17, 18, 19, 20, 23, 24.
    assert CALENDAR.add_working_days(date(2026, 3, 13), 7) == date(2026, 3, 24)
    assert decide_by(china_ms(2026, 3, 13, 16, 0)) == date(2026, 3, 24)
    # Received on Saturday: Sunday is not a working day either, Monday is the first.
    assert CALENDAR.add_working_days(date(2026, 3, 14), 1) == date(2026, 3, 16)
    # The receipt date is the date in China: 00:10 on Friday in Beijing is Thursday in UTC.
    assert decide_by(china_ms(2026, 3, 13, 0, 10)) == date(2026, 3, 24)
    assert decide_by(china_ms(2026, 3, 12, 23, 50)) == date(2026, 3, 23)


def test_the_due_time_is_the_end_of_the_due_date_in_china() -> None:
    ob = open_obligation(
        ticket_id="T1",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=china_ms(2026, 3, 13, 16, 0),
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
    )
    assert ob.due_ms == china_ms(2026, 3, 25)  # 24:00 on 2026-03-24, Beijing time
    assert end_of_day_ms(date(2026, 3, 24)) == china_ms(2026, 3, 25)
    assert start_of_day_ms(date(2026, 3, 24)) == china_ms(2026, 3, 24)
    assert china_date(ob.due_ms - 1) == date(2026, 3, 24)
    assert china_date(ob.due_ms) == date(2026, 3, 25)


def test_national_day_holiday_2026_shifts_the_deadline() -> None:
    golden_week = [date(2026, 10, d) for d in range(1, 8)]
    assert not any(CALENDAR.is_working_day(d) for d in golden_week)
    assert not CALENDAR.is_working_day(date(2026, 9, 25))  # Mid-Autumn, a Friday
    assert CALENDAR.is_working_day(date(2026, 9, 30))
    # Received Wednesday 2026-09-30: 10-08 Thu, 10-09 Fri, 10-10 Sat (make-up), 10-12 Mon,
    # 10-13, 10-14, 10-15.
    assert decide_by(china_ms(2026, 9, 30, 10, 0)) == date(2026, 10, 15)
    # Counting weekends only, the same complaint would be due on 2026-10-09.
    weekends_only = WorkingDayCalendar(HolidayTable())
    assert decide_by(china_ms(2026, 9, 30, 10, 0), weekends_only) == date(2026, 10, 9)
    assert CALENDAR.working_days_between(date(2026, 9, 30), date(2026, 10, 15)) == 7


def test_a_make_up_workday_counts() -> None:
    assert CALENDAR.is_working_day(date(2026, 9, 20))  # a Sunday worked for National Day
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # a Saturday worked for National Day
    assert not CALENDAR.is_working_day(date(2026, 10, 11))  # the Sunday after it is not
    assert CALENDAR.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert CALENDAR.add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)
    assert CALENDAR.working_days_between(date(2026, 10, 9), date(2026, 10, 12)) == 2


def test_an_unknown_year_falls_back_to_weekends_and_is_reported() -> None:
    assert 2026 in PACKAGE.known_years
    assert 2030 not in PACKAGE.known_years
    assert HolidayTable.from_chinese_calendar([2026, 2030]).known_years == {2026}
    assert PACKAGE.unknown_years_in(date(2026, 12, 1), date(2028, 1, 5)) == (2027, 2028)
    # 2030-09-30 is a Monday; its National Day is unknown, so only weekends are skipped.
    received = china_ms(2030, 9, 30, 10, 0)
    ob = open_obligation(
        ticket_id="T1",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=received,
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
    )
    assert ob.due_date == date(2030, 10, 9)
    assert ob.unknown_years == (2030,)
    assert CALENDAR.is_working_day(date(2030, 10, 1))  # a Tuesday: no data, so a working day
    # A count that only runs into an unknown year reports that year, not the known one.
    into_2027 = open_obligation(
        ticket_id="T2",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=china_ms(2026, 12, 28, 9, 0),
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
    )
    assert into_2027.unknown_years == (2027,)


def test_a_known_year_reports_nothing_unknown() -> None:
    ob = open_obligation(
        ticket_id="T1",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=china_ms(2026, 9, 30, 10, 0),
        policy=DEFAULT_POLICY,
        calendar=CALENDAR,
    )
    assert ob.unknown_years == ()
    assert package_years() >= set(range(2004, 2027))


def acceptance(received_ms: int, calendar: WorkingDayCalendar = CALENDAR) -> Obligation:
    """The 7-WD acceptance decision of a complaint received at ``received_ms``."""
    return open_obligation(
        ticket_id="T1",
        duty=Duty.DECIDE_ACCEPTANCE,
        kind=TicketKind.COMPLAINT,
        unit_code="620102",
        started_ms=received_ms,
        policy=DEFAULT_POLICY,
        calendar=calendar,
    )


def test_a_complaint_of_new_year_s_eve_is_provisional_until_the_new_year_is_loaded() -> None:
    assert 2027 not in package_years()  # the installed package stops at 2026
    # Thursday 2026-12-31; weekends only: Fri 01-01 (1), 01-04..01-08 (2-6), Mon 01-11 (7).
    guessed = acceptance(china_ms(2026, 12, 31, 10, 0))
    assert guessed.due_date == date(2027, 1, 11)
    assert guessed.provisional and guessed.unknown_years == (2027,)
    # 1-3 January 2027 loaded as rest days: 01-04..01-08 (1-5), 01-11 (6), 01-12 (7).
    loaded = WorkingDayCalendar(
        PACKAGE.merged({2027: (["2027-01-01", "2027-01-02", "2027-01-03"], [])})
    )
    final = recompute_due(guessed, loaded)
    assert final.due_date == date(2027, 1, 12)
    assert not final.provisional and final.unknown_years == ()
    assert final == acceptance(china_ms(2026, 12, 31, 10, 0), loaded)


def test_only_the_days_counted_make_a_deadline_provisional() -> None:
    # Due on the last day of a known year: 12-23, 24, 25, 28, 29, 30, 31. Final.
    last_day = acceptance(china_ms(2026, 12, 22, 10, 0))
    assert last_day.due_date == date(2026, 12, 31) and not last_day.provisional
    # Received on the last day of an unknown year, counted in a known one only: the day of
    # receipt never counts, so the guess about 2027 changes nothing.
    knows_2028 = WorkingDayCalendar(PACKAGE.merged({2028: ([], [])}))
    assert CALENDAR.unknown_years_in(date(2027, 12, 31), date(2028, 1, 11)) == (2027, 2028)
    assert CALENDAR.guessed_years(date(2027, 12, 31), date(2028, 1, 11)) == (2028,)
    assert knows_2028.guessed_years(date(2027, 12, 31), date(2028, 1, 11)) == ()
    assert not acceptance(china_ms(2027, 12, 31, 10, 0), knows_2028).provisional
    assert knows_2028.guessed_years(date(2026, 12, 31), date(2026, 12, 31)) == ()
    # An extension that carries the count into an unknown year makes the date a guess.
    in_time = acceptance(china_ms(2026, 12, 10, 10, 0))
    assert in_time.due_date == date(2026, 12, 21) and not in_time.provisional
    extended = extend(in_time, 10, china_ms(2026, 12, 15), CALENDAR)
    # 17 WD from 12-10: 12-11 (1), 12-14..12-31 (2-15), Fri 01-01 (16), Mon 01-04 (17).
    assert extended.due_date == date(2027, 1, 4) and extended.unknown_years == (2027,)
    assert extended.provisional


def test_an_administrator_table_overrides_the_package() -> None:
    # A correction for 2026: 2026-10-09 becomes a rest day and 2026-10-10 is not worked after
    # all; and a new year, 2027, with 2027-01-01 a rest day and Sunday 2027-01-03 worked.
    admin: AdminYears = {
        2026: ([*(f"2026-10-0{d}" for d in range(1, 10))], []),
        2027: ([date(2027, 1, 1)], ["2027-01-03"]),
    }
    merged = PACKAGE.merged(admin)
    calendar = WorkingDayCalendar(merged)
    assert 2027 in merged.known_years
    assert not calendar.is_working_day(date(2026, 10, 9))
    assert not calendar.is_working_day(date(2026, 10, 10))
    # The whole year was replaced: the package's Mid-Autumn rest day is gone with it.
    assert calendar.is_working_day(date(2026, 9, 25))
    # Received 2026-09-30: 10-12, 13, 14, 15, 16, 19, 20.
    assert decide_by(china_ms(2026, 9, 30, 10, 0), calendar) == date(2026, 10, 20)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 3))
    assert merged.unknown_years_in(date(2026, 12, 28), date(2027, 1, 8)) == ()
    # Years the administrator did not touch still come from the package.
    assert merged.for_year(2025) == PACKAGE.for_year(2025)
    assert PACKAGE.for_year(2027) is None  # the package's own table is unchanged


def test_an_administrator_table_is_checked() -> None:
    with pytest.raises(InvalidInput) as bad_date:
        HolidayTable.from_mapping({2027: (["2027-02-30"], [])})
    assert bad_date.value.field == "holidays.2027.rest_days"
    with pytest.raises(InvalidInput):
        HolidayTable.from_mapping({2027: (["2026-10-01"], [])})  # not in 2027
    with pytest.raises(InvalidInput):
        HolidayTable.from_mapping({2027: (["2027-01-02"], ["2027-01-02"])})  # both
    with pytest.raises(InvalidInput):
        HolidayTable((YearHolidays(2027), YearHolidays(2027)))


def test_counting_back_lands_on_a_working_day_before_the_holiday() -> None:
    assert CALENDAR.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert CALENDAR.add_working_days(date(2026, 10, 12), -1) == date(2026, 10, 10)
    assert CALENDAR.add_working_days(date(2026, 3, 16), 0) == date(2026, 3, 16)


def test_working_days_between_counts_the_end_and_not_the_start() -> None:
    assert CALENDAR.working_days_between(date(2026, 3, 13), date(2026, 3, 13)) == 0
    assert CALENDAR.working_days_between(date(2026, 3, 13), date(2026, 3, 16)) == 1
    assert CALENDAR.working_days_between(date(2026, 3, 16), date(2026, 3, 13)) == -1
    # 2026: 261 weekdays, 19 of them rest days, plus 6 make-up weekend days.
    year = CALENDAR.working_days_between(date(2025, 12, 31), date(2026, 12, 31))
    assert year == 261 - 19 + 6
    assert year == sum(
        CALENDAR.is_working_day(date(2026, 1, 1) + timedelta(days=i)) for i in range(365)
    )
