"""Supervision from above, missed reminders and the escalation history (core.deadlines.sweep,
core.ticket.escalation_history; issue 10, item 1).

A county whose node is dark cannot escalate its own overdue duties: the city does it after the
rule book's grace, the province after twice that. When the county's own steps arrive later, the
fold settles what counts, the same whatever order they arrive in: an acceptance taken in time
while cut off supersedes the parent's escalation; one taken late leaves it counted; two nodes
escalating the same level count once. Reminders whose moment passed while the node was down are
recorded as missed, never told late.

The world of ``tests.helpers.domain``: a complaint routed to Chengguan (620102) on Monday
2026-03-16, its acceptance due at the end of 03-25 (7 working days from 03-17), level 2 (the
province) three working days later, at the end of 03-30.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core import hlc
from core.deadlines import CHINA_TZ, DEFAULT_POLICY, HolidayTable, WorkingDayCalendar
from core.deadlines.sweep import (
    DEFAULT_SUPERVISION_GRACE_MS,
    OpenDuty,
    open_duties,
    steps_due,
    supervision_steps_due,
)
from core.officers import Role
from core.ticket import commands as c
from core.ticket.decisions import decide
from core.ticket.escalation_history import counted_escalations
from core.ticket.events import RecordedEvent, ReminderSent, TicketEscalated
from core.ticket.fold import fold
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, EscalationOutcome, ReminderLevel
from tests.helpers import domain
from tests.helpers.domain import HANDLER, History

CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar([2025, 2026, 2027]))
COUNTY, CITY, PROVINCE = "620102", "620100", "620000"
GRACE = DEFAULT_SUPERVISION_GRACE_MS
HOUR = 3_600_000
CITY_HEAD = domain.officer("620100-02", "钱进", "620100", Role.UNIT_HEAD, Role.SUPERVISOR)


def china_ms(month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch milliseconds of a wall-clock time in China in 2026."""
    return int(datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).timestamp() * 1000)


DUE = china_ms(3, 26)
"""The end of 03-25: the acceptance falls due, level 1 (the city) from then."""
LEVEL_2 = china_ms(3, 31)
"""The end of 03-30, three working days later: level 2 (the province)."""


def acceptance(state: TicketState) -> OpenDuty:
    (duty,) = open_duties(state, DEFAULT_POLICY, CALENDAR)
    assert duty.obligation.duty is Duty.DECIDE_ACCEPTANCE and duty.obligation.due_ms == DUE
    return duty


def watched(state: TicketState, now_ms: int, depth: int) -> list[TicketEscalated]:
    """What a node ``depth`` levels above Chengguan records on the ticket at ``now_ms``."""
    return supervision_steps_due(state, acceptance(state), now_ms, CALENDAR, depth=depth)


def escalation(level: int) -> TicketEscalated:
    to = {1: CITY, 2: PROVINCE}[level]
    return TicketEscalated(Duty.DECIDE_ACCEPTANCE, COUNTY, to, level, DUE)


def recorded_at(h: History, unit: str, at_ms: int, *events: TicketEscalated) -> None:
    """``unit``'s node records ``events`` at ``at_ms``, having seen every event held so far."""
    h.wall_ms = max(h.wall_ms, at_ms)
    h.record(domain.system(unit), *events)


def offline_step(h: History, seen: int, at_ms: int, command: c.TicketCommand) -> RecordedEvent:
    """Chengguan's step taken at ``at_ms`` while cut off after the first ``seen`` events.

    Stamped with its own clock and the version it held: concurrent with whatever the levels
    above recorded meanwhile, as a county's backlog is when its link returns.
    """
    state = fold(h.ticket_id, h.events[:seen])
    (event,) = decide(state, command, HANDLER, h.ctx)
    recorded = h.envelope(HANDLER, event, at=hlc.tick(0, at_ms))
    return RecordedEvent(replace(recorded.meta, ticket_version=seen), recorded.event)


def outcomes(state: TicketState) -> list[tuple[int, str, EscalationOutcome]]:
    return [(r.level, r.origin_node, r.outcome) for r in state.escalation_history]


# Who records the escalation of a dark county ---------------------------------------------------


def test_the_city_escalates_a_dark_countys_overdue_duty_once_the_grace_has_passed() -> None:
    state = domain.routed().state
    assert watched(state, DUE + GRACE - 1, depth=1) == []  # the county's own may be on its way
    assert watched(state, DUE + GRACE, depth=1) == [escalation(1)]
    assert watched(state, LEVEL_2 + GRACE, depth=1) == [escalation(1), escalation(2)]


def test_the_province_waits_two_grace_periods_so_it_steps_in_only_when_the_city_is_dark() -> None:
    state = domain.routed().state
    assert watched(state, DUE + 2 * GRACE - 1, depth=2) == []
    assert watched(state, DUE + 2 * GRACE, depth=2) == [escalation(1)]


def test_a_city_back_from_the_dark_leaves_what_it_let_slip_to_the_province() -> None:
    """Each watcher has its window: the city from one grace period to two, the province from
    two on (no one watches the province), so the two do not both record one level."""
    state = domain.routed().state
    duty = acceptance(state)

    def city(now: int) -> list[TicketEscalated]:
        return supervision_steps_due(state, duty, now, CALENDAR, depth=1, parent_supervises=True)

    assert city(DUE + GRACE) == [escalation(1)]
    assert city(DUE + 2 * GRACE - 1) == [escalation(1)]
    assert city(DUE + 2 * GRACE) == []  # the province's now
    assert watched(state, DUE + 2 * GRACE, depth=2) == [escalation(1)]
    assert watched(state, DUE + 30 * GRACE, depth=2) == [escalation(1)]


def test_a_level_that_has_arrived_is_not_recorded_again_from_above() -> None:
    h = domain.routed()
    recorded_at(h, COUNTY, DUE + HOUR, escalation(1))  # the county's own, replicated up
    assert watched(h.state, LEVEL_2 + GRACE, depth=1) == [escalation(2)]


def test_a_grace_set_in_the_rule_book_is_the_one_waited_for() -> None:
    state = domain.routed().state
    day = 86_400_000
    assert (
        supervision_steps_due(
            state, acceptance(state), DUE + GRACE, CALENDAR, depth=1, grace_ms=day
        )
        == []
    )
    assert supervision_steps_due(
        state, acceptance(state), DUE + day, CALENDAR, depth=1, grace_ms=day
    ) == [escalation(1)]


# The county back from the dark ------------------------------------------------------------------


def test_a_returning_county_leaves_late_levels_to_its_parent_and_its_reminders_missed() -> None:
    state = domain.routed().state
    back = DUE + 2 * 86_400_000  # two days after the deadline
    steps = steps_due(state, acceptance(state), back, CALENDAR, parent_supervises=True)
    assert steps == [
        ReminderSent(Duty.DECIDE_ACCEPTANCE, level, COUNTY, DUE, missed=True)
        for level in ReminderLevel
    ]
    # A node nobody watches (no parent) records the levels itself, late as they are.
    alone = steps_due(state, acceptance(state), back, CALENDAR, parent_supervises=False)
    assert [s for s in alone if isinstance(s, TicketEscalated)] == [escalation(1)]


def test_a_county_sweeping_on_time_escalates_itself_even_with_a_parent() -> None:
    state = domain.routed().state
    for reminder in steps_due(state, acceptance(state), DUE - 1, CALENDAR):
        assert isinstance(reminder, ReminderSent)
    steps = steps_due(state, acceptance(state), DUE + HOUR, CALENDAR, parent_supervises=True)
    assert steps[-1] == escalation(1)


def test_a_reminder_is_told_within_the_grace_of_its_moment_and_missed_after_it() -> None:
    state = domain.routed().state
    handler_at = china_ms(3, 23)  # two working days before the due date (03-25)
    (on_time,) = steps_due(state, acceptance(state), handler_at + GRACE, CALENDAR)
    assert on_time == ReminderSent(Duty.DECIDE_ACCEPTANCE, ReminderLevel.HANDLER, COUNTY, DUE)
    (late,) = steps_due(state, acceptance(state), handler_at + GRACE + 1, CALENDAR)
    assert late == replace(on_time, missed=True)


def test_a_missed_reminder_is_history_and_is_not_asked_for_again() -> None:
    h = domain.routed()
    h.wall_ms = china_ms(3, 25, 10)  # the county's node was off over the first two reminders
    h.record(domain.system(COUNTY), *steps_due(h.state, acceptance(h.state), h.wall_ms, CALENDAR))
    state = h.state
    assert [(r.level, r.missed) for r in state.reminders_sent] == [
        (ReminderLevel.HANDLER, True),
        (ReminderLevel.UNIT_HEAD, True),
        (ReminderLevel.SUPERVISING_UNIT, True),  # its moment (00:00) is 10 h gone
    ]
    assert acceptance(state).next_at_ms == DUE  # next: the escalation, nothing to resend


# What the fold counts ---------------------------------------------------------------------------


def test_an_acceptance_taken_in_time_offline_supersedes_the_escalations_from_above() -> None:
    h = domain.routed()
    seen = len(h.events)
    recorded_at(h, CITY, DUE + GRACE, escalation(1))
    recorded_at(h, CITY, LEVEL_2 + GRACE, escalation(2))
    assert [e.level for e in h.state.escalations] == [1, 2]
    h.events.append(offline_step(h, seen, DUE - HOUR, c.AcceptComplaint("受理")))
    state = h.state
    assert state.escalations == ()
    # Level 1 stood when the acceptance came: superseded. Level 2 carries a later clock and a
    # higher version, so the fold puts it after the acceptance (it may have seen it): void.
    assert outcomes(state) == [
        (1, "node-620100", EscalationOutcome.SUPERSEDED),
        (2, "node-620100", EscalationOutcome.MOOT),
    ]
    assert counted_escalations(state) == ()
    assert not state.in_conflict


def test_an_acceptance_taken_late_offline_leaves_the_escalation_counted() -> None:
    h = domain.routed()
    seen = len(h.events)
    recorded_at(h, CITY, DUE + GRACE, escalation(1))
    h.events.append(offline_step(h, seen, DUE + HOUR, c.AcceptComplaint("受理")))
    state = h.state
    assert state.escalations == ()  # the duty is done: out of the queue
    assert outcomes(state) == [(1, "node-620100", EscalationOutcome.ENDED)]
    assert [r.level for r in counted_escalations(state)] == [1]


def test_the_same_level_escalated_by_the_county_and_the_city_counts_once() -> None:
    h = domain.routed()
    seen = len(h.events)
    recorded_at(h, CITY, DUE + GRACE, escalation(1))
    # The county, cut off, escalated on time too; its record arrives with its backlog.
    county_own = h.envelope(domain.system(COUNTY), escalation(1), at=hlc.tick(0, DUE + HOUR))
    h.events.append(RecordedEvent(replace(county_own.meta, ticket_version=seen), escalation(1)))
    state = h.state
    assert outcomes(state) == [
        (1, "node-620100", EscalationOutcome.STANDING),  # the higher level first (fold order)
        (1, "node-620102", EscalationOutcome.REPEATED),
    ]
    assert len(counted_escalations(state)) == 1


def test_an_escalation_arriving_after_the_duty_ended_is_moot() -> None:
    h = domain.routed()
    h.do(HANDLER, c.AcceptComplaint("受理"))
    # A node that recorded it after holding the acceptance (a bug, or a rule book that changed
    # under it): it folds after the acceptance, about a duty nobody owes any more.
    recorded_at(h, CITY, DUE + GRACE, escalation(1))
    assert outcomes(h.state) == [(1, "node-620100", EscalationOutcome.MOOT)]
    assert counted_escalations(h.state) == ()


def test_an_extension_asked_in_time_supersedes_an_escalation_decided_after_the_deadline() -> None:
    h = domain.routed()
    h.wall_ms = DUE - HOUR
    h.do(HANDLER, c.RequestExtension(Duty.DECIDE_ACCEPTANCE, 3, "商家负责人出差"))
    recorded_at(h, CITY, DUE + GRACE, escalation(1))
    h.do(CITY_HEAD, c.DecideExtension(Duty.DECIDE_ACCEPTANCE, True, 3))
    assert outcomes(h.state) == [(1, "node-620100", EscalationOutcome.SUPERSEDED)]


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(4)), st.sampled_from([DUE - HOUR, DUE + HOUR]))
def test_any_delivery_order_gives_the_same_escalation_history(
    order: list[int], accepted_at: int
) -> None:
    """The city's and the province's escalations from above, the county's own and its offline
    acceptance, delivered in any order: one state everywhere."""
    h = domain.routed()
    seen = len(h.events)
    recorded_at(h, CITY, DUE + GRACE, escalation(1))
    recorded_at(h, PROVINCE, LEVEL_2 + 2 * GRACE, escalation(2))
    county_own = h.envelope(domain.system(COUNTY), escalation(1), at=hlc.tick(0, DUE))
    h.events.append(RecordedEvent(replace(county_own.meta, ticket_version=seen), escalation(1)))
    accepted = offline_step(h, seen, accepted_at, c.AcceptComplaint("受理"))
    h.events.append(
        RecordedEvent(
            replace(accepted.meta, origin_seq=county_own.meta.origin_seq + 1), accepted.event
        )
    )
    base, extra = h.events[:seen], h.events[seen:]
    reference = fold(h.ticket_id, h.events)
    shuffled = fold(h.ticket_id, [*base, *(extra[i] for i in order)])
    assert shuffled == reference
    # In time: nothing counts. An hour late: level 1 counts, once; level 2 never came due.
    counted = [r.level for r in counted_escalations(reference)]
    assert counted == ([] if accepted_at < DUE else [1])


def test_orders_of_reminder_and_escalation_records_never_count_a_level_twice() -> None:
    h = domain.routed()
    seen = len(h.events)
    for unit, at in ((COUNTY, DUE), (CITY, DUE + GRACE), (PROVINCE, DUE + 2 * GRACE)):
        one = h.envelope(domain.system(unit), escalation(1), at=hlc.tick(0, at))
        h.events.append(RecordedEvent(replace(one.meta, ticket_version=seen), escalation(1)))
    extra = h.events[seen:]
    states = [
        fold(h.ticket_id, [*h.events[:seen], *perm]) for perm in itertools.permutations(extra)
    ]
    state = states[0]
    assert all(other == state for other in states)
    assert [r.outcome for r in state.escalation_history].count(EscalationOutcome.STANDING) == 1
