"""Holidays and make-up workdays shift deadlines on real nodes (issue 4, DOMAIN.md §5).

The 2026 schedule of the State Council, as the ``chinese-calendar`` package and
``core.deadlines.holidays`` carry it, around the National Day holiday (国庆节, Golden Week):

* 2026-09-25..27 (Friday to Sunday): Mid-Autumn Festival (中秋节), rest days;
* 2026-10-01..07 (Thursday to Wednesday): National Day, rest days;
* Saturday 2026-10-10: a make-up working day (调休上班);
* Sunday 2026-09-20 is the other make-up day, before any date used here.

The dates below are written out by hand from that schedule, so the tests fail if the calendar
logic (or its data) breaks: counting weekends only, or forgetting the make-up Saturday, gives
other dates. The nodes run on a clock the test moves by hand (DESIGN.md rule 6).

Certificates: a node's events count only if its certificate was valid at the event's time; the
test hierarchy (``Hierarchy.throwaway``) dates its certificates from 2026-01-01 for ten years,
so a scenario in September 2026 runs inside their validity whatever the real date.
"""

from __future__ import annotations

import datetime as dt

from core import hlc
from core.deadlines.china_time import china_date
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, ReminderLevel
from node.app.clock import Clock
from sync.codec import from_message
from tests.helpers.clock import HandMovedTime, china, end_of
from tests.helpers.tickets import entries, register_and_route
from tests.helpers.world import World, sweep


def test_a_complaint_received_before_national_day_is_due_after_it_counting_the_make_up_saturday(
    world: World,
) -> None:
    time = HandMovedTime(china("2026-09-28", 10))  # Monday, after Mid-Autumn, before Golden Week
    world.start_all("province", "city", "chengguan", clock=Clock(_real=time))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    county = world["chengguan"]

    def state() -> TicketState:
        with world.officer("chengguan") as handler:
            return from_message(TicketState, handler.get(ticket_id))

    # Received Monday 09-28; counting starts the day after. 7 working days:
    #   09-29 Tue (1), 09-30 Wed (2),
    #   10-01..10-07 National Day: rest,
    #   10-08 Thu (3), 10-09 Fri (4), 10-10 Sat: make-up working day (5),
    #   10-11 Sun: rest, 10-12 Mon (6), 10-13 Tue (7) -> due at the end of Tuesday 10-13.
    # (Weekends only would say Wednesday 10-07; without the make-up day, Wednesday 10-14.)
    with world.officer("chengguan") as handler:
        (entry,) = entries(handler.queue())
    assert (entry.ticket_id, entry.duty) == (ticket_id, "decide_acceptance")
    assert entry.due_ms == end_of("2026-10-13")
    assert entry.working_days_left == 7

    # Reminders: the handler two working days before the due date, i.e. on the make-up
    # Saturday 10-10; the unit head one before (Monday 10-12); the supervising unit on the
    # due day. Nothing during the holiday, nothing on Sunday 10-11.
    time.set(china("2026-10-05", 12))  # mid-holiday
    assert sweep(county) == 0
    time.set(china("2026-10-09", 23, 59))
    assert sweep(county) == 0
    time.set(china("2026-10-10", 0, 1))  # the make-up Saturday has begun
    assert sweep(county) == 1
    time.set(china("2026-10-11", 12))  # Sunday: a rest day
    assert sweep(county) == 0
    time.set(china("2026-10-12"))
    assert sweep(county) == 1
    time.set(china("2026-10-13"))
    assert sweep(county) == 1
    reminders = state().reminders_sent
    assert [(r.level, china_date(hlc.to_millis(r.sent_hlc))) for r in reminders] == [
        (ReminderLevel.HANDLER, dt.date(2026, 10, 10)),  # make-up working day
        (ReminderLevel.UNIT_HEAD, dt.date(2026, 10, 12)),
        (ReminderLevel.SUPERVISING_UNIT, dt.date(2026, 10, 13)),
    ]
    assert {r.due_ms for r in reminders} == {end_of("2026-10-13")}

    # Overdue from 24:00 on 10-13: the city's queue. Three working days later (10-14, 15, 16)
    # still not accepted: the province's, from the end of Friday 10-16.
    time.set(china("2026-10-13", 23, 59))
    assert sweep(county) == 0
    time.set(china("2026-10-14", 0, 1))
    assert sweep(county) == 1
    time.set(china("2026-10-16", 23, 59))
    assert sweep(county) == 0
    time.set(china("2026-10-17", 0, 1))
    assert sweep(county) == 1
    assert [(e.duty, e.level, e.to_unit, e.due_ms) for e in state().escalations] == [
        (Duty.DECIDE_ACCEPTANCE, 1, "620100", end_of("2026-10-13")),
        (Duty.DECIDE_ACCEPTANCE, 2, "620000", end_of("2026-10-13")),
    ]
    with world.officer("chengguan") as handler:
        (overdue,) = handler.queue().overdue
    # Sat 10-17 to Tue 10-13: the working days 10-14, 15 and 16 have gone by.
    assert (overdue.ticket_id, overdue.working_days_left) == (ticket_id, -3)


def test_counting_starts_the_day_after_receipt_whatever_day_it_is_received(
    world: World,
) -> None:
    time = HandMovedTime(china("2026-09-30", 8, 30))  # the last working day before the holiday
    world.start_all("province", "city", "chengguan", clock=Clock(_real=time))
    with world.officer("province") as centre:
        before_holiday = register_and_route(centre, "gym")
        time.set(china("2026-10-03", 15))  # a web complaint during the holiday
        in_holiday = register_and_route(centre, "fridge")
        time.set(china("2026-10-10", 10))  # on the make-up Saturday
        on_make_up_day = register_and_route(centre, "expired")
    world.sync("city", "chengguan")
    with world.officer("chengguan") as handler:
        queue = handler.queue()
    due = {e.ticket_id: e.due_ms for e in entries(queue) if e.duty == "decide_acceptance"}
    assert due == {
        # Wednesday 09-30 is a working day but the day of receipt: it does not count.
        #   10-01..07 rest; 10-08 (1), 10-09 (2), Sat 10-10 make-up (3), 10-12 (4),
        #   10-13 (5), 10-14 (6), 10-15 (7). (Counting 09-30 itself would give 10-14.)
        before_holiday: end_of("2026-10-15"),
        # Received on a rest day: counting starts 10-04 (rest), the same seven days follow.
        in_holiday: end_of("2026-10-15"),
        # Received on the make-up Saturday: that working day does not count either.
        #   Sun 10-11 rest; 10-12 (1), 13, 14, 15, 16 (5), Mon 10-19 (6), Tue 10-20 (7).
        on_make_up_day: end_of("2026-10-20"),
    }
    # Time left, as the unit sees it on Saturday 10-10 (itself a working day, not counted).
    left = {
        e.ticket_id: e.working_days_left for e in entries(queue) if e.duty == "decide_acceptance"
    }
    assert (left[before_holiday], left[on_make_up_day]) == (4, 7)
