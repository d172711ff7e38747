"""Reminders before a deadline and escalation after it (三级催办, 督办; DOMAIN.md §6).

Before the due time three levels are reminded in turn: the handler, then the unit head, then
the supervising unit. Each reminder point is "k working days before the due date" and fires at
the start (00:00 China time) of the working day k working days before the due date, so k = 0
is the morning of the due date itself, and k = 1 the morning of the working day before it.

After the due time the obligation is overdue and climbs: at ``due_ms`` it enters the parent
unit's supervision queue (level 1); each further ``escalation_period_wd`` working days that pass
with the duty still undone, one level more, never above the province (DOMAIN.md §6, "up to the
province"). Level k + 1 is reached at the end of the working day ``k * period`` working days
after the due date: the same end-of-day rule as the deadline itself.

The times are returned as data for the node to store as rows (DESIGN.md rule 7); a paused
obligation has none, since its clock is stopped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from core.deadlines.china_time import end_of_day_ms, start_of_day_ms
from core.deadlines.obligations import Obligation, clock_at
from core.deadlines.working_days import WorkingDayCalendar
from core.errors import InvalidInput
from core.ticket.vocabulary import ReminderLevel as ReminderLevel  # re-exported
from core.units import UnitLevel, level_of

_LEVEL_ORDER = {level: i for i, level in enumerate(ReminderLevel)}


@dataclass(frozen=True)
class ReminderPoint:
    """Remind ``level`` when ``working_days_before`` working days are left before the due date."""

    level: ReminderLevel
    working_days_before: int

    def __post_init__(self) -> None:
        if self.working_days_before < 0:
            raise InvalidInput("reminder.working_days_before", "must not be negative")


@dataclass(frozen=True)
class Reminder:
    """One reminder to send: to ``level`` at ``at_ms`` (epoch milliseconds)."""

    level: ReminderLevel
    at_ms: int


DEFAULT_REMINDER_POINTS: tuple[ReminderPoint, ...] = (
    ReminderPoint(ReminderLevel.HANDLER, 2),
    ReminderPoint(ReminderLevel.UNIT_HEAD, 1),
    ReminderPoint(ReminderLevel.SUPERVISING_UNIT, 0),
)
"""The handler two working days ahead, the unit head one, the supervising unit on the due day."""


def reminder_times(
    ob: Obligation, points: Iterable[ReminderPoint], calendar: WorkingDayCalendar
) -> tuple[Reminder, ...]:
    """The reminders of ``ob`` in time order (ties: handler first), all before its due time.

    A point that would fall at or before the obligation's start is left out: with a short limit
    (a campaign's 3 WD) the opening notice is the first word the handler gets.
    """
    if ob.is_paused:
        return ()
    reminders = []
    for point in points:
        day = calendar.add_working_days(ob.due_date, -point.working_days_before)
        at_ms = start_of_day_ms(day)
        if ob.started_ms < at_ms < ob.due_ms:
            reminders.append(Reminder(point.level, at_ms))
    return tuple(sorted(reminders, key=lambda r: (r.at_ms, _LEVEL_ORDER[r.level])))


def levels_to_province(unit_code: str) -> int:
    """How many levels an overdue duty of ``unit_code`` can climb: up to its province.

    A county climbs to the city (1) and the province (2), a station to its county, city and
    province (3); a province or the national level has nowhere to climb (0).
    """
    return max(0, level_of(unit_code).rank - UnitLevel.PROVINCE.rank)


def escalation_times(
    ob: Obligation, escalation_period_wd: int, calendar: WorkingDayCalendar
) -> tuple[int, ...]:
    """The instants ``ob`` reaches escalation level 1, 2, ... (up to its province).

    Level 1 at ``due_ms``; level k + 1 at the end of the ``k * escalation_period_wd``-th working
    day after the due date. Empty while paused (the clock is stopped).
    """
    if ob.is_paused:
        return ()
    return _schedule(ob, escalation_period_wd, calendar)


def overdue_level(
    ob: Obligation, now_ms: int, escalation_period_wd: int, calendar: WorkingDayCalendar
) -> int:
    """How many levels above its unit ``ob`` should have climbed by ``now_ms``.

    0 is not overdue (or a province's own duty, which has nowhere to climb: see ``is_overdue``),
    1 the parent unit, 2 the grandparent..., capped at the province. A paused clock counts up to
    the pause only.
    """
    at = clock_at(ob, now_ms)
    return sum(1 for t in _schedule(ob, escalation_period_wd, calendar) if t <= at)


def _schedule(
    ob: Obligation, escalation_period_wd: int, calendar: WorkingDayCalendar
) -> tuple[int, ...]:
    """Escalation instants from the current due date, whether or not the clock runs."""
    if escalation_period_wd < 1:
        raise InvalidInput(
            "escalation_period_wd", f"must be at least 1, not {escalation_period_wd}"
        )
    levels = levels_to_province(ob.unit_code)
    return tuple(
        ob.due_ms
        if k == 0
        else end_of_day_ms(calendar.add_working_days(ob.due_date, k * escalation_period_wd))
        for k in range(levels)
    )


class Schedules:
    """``reminder_times`` and ``escalation_times`` on one calendar, answers remembered.

    Why: a sweep decides each due ticket from its open duties and the projection then derives
    the same duties again for the ticket's new state (one escalation more), and every ticket
    due on one date shares its reminder days and escalation instants. Both answers depend
    only on the calendar, the due instant, how many levels the owing unit can climb and the
    points or period asked for; the obligation's own start only filters the reminders (a point
    at or before it is left out), which is done after the look-up. So they are remembered
    under exactly those, and nothing about a ticket can make an answer stale. A different
    calendar (a newer rule book) needs a new ``Schedules``: the owner (``DeadlineRules``)
    makes one whenever its calendar changes. Bounded: emptied when it grows past ``limit``.
    """

    __slots__ = ("_escalations", "_limit", "_reminders", "calendar")

    def __init__(self, calendar: WorkingDayCalendar, limit: int = 50_000) -> None:
        self.calendar = calendar
        """The calendar every answer is counted on."""
        self._limit = limit
        self._reminders: dict[
            tuple[int, int], tuple[tuple[ReminderPoint, ...], tuple[Reminder, ...]]
        ] = {}
        self._escalations: dict[tuple[int, int, int], tuple[int, ...]] = {}

    def reminder_times(
        self, ob: Obligation, points: tuple[ReminderPoint, ...]
    ) -> tuple[Reminder, ...]:
        """``reminder_times(ob, points, self.calendar)``."""
        if ob.is_paused:
            return ()
        # Keyed by the points' identity (hashing three dataclasses of enums at every call
        # would cost more than the look-up saves); the entry keeps them, so the identity
        # cannot be taken by another tuple while it stands.
        key = (ob.due_ms, id(points))
        found = self._reminders.get(key)
        if found is None or found[0] is not points:
            if len(self._reminders) >= self._limit:
                self._reminders.clear()
            # Every point before the due time; a start after the earliest is filtered below.
            whole = replace(ob, started_ms=-(2**62))
            found = self._reminders[key] = (points, reminder_times(whole, points, self.calendar))
        return tuple(r for r in found[1] if ob.started_ms < r.at_ms)

    def escalation_times(self, ob: Obligation, escalation_period_wd: int) -> tuple[int, ...]:
        """``escalation_times(ob, escalation_period_wd, self.calendar)``."""
        if ob.is_paused:
            return ()
        key = (ob.due_ms, levels_to_province(ob.unit_code), escalation_period_wd)
        found = self._escalations.get(key)
        if found is None:
            if len(self._escalations) >= self._limit:
                self._escalations.clear()
            found = self._escalations[key] = _schedule(ob, escalation_period_wd, self.calendar)
        return found
