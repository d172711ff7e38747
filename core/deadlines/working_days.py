"""The working-day calendar (工作日): the unit every time limit of DOMAIN.md §5 is counted in.

A working day is a Monday-to-Friday date that is not a statutory rest day, or a make-up
workday (调休上班) even on a weekend. Counting starts the day after the starting event (receipt,
acceptance...): the day of the event itself never counts, whatever it is (DOMAIN.md §5,
"counting starts the day after receipt"). So a complaint received on Friday 2026-03-13 with a
7-working-day limit is due at the end of Tuesday 2026-03-24 (16, 17, 18, 19, 20, 23, 24).

Years missing from the holiday table count weekends only; ``unknown_years_in`` names them, and
``guessed_years`` names those a count from one date to another crossed: a due date counted over
such a year is a guess (暂定, provisional) until the year's holidays are loaded.
Counting is done by arithmetic on date ordinals plus a binary search in the table's exceptions,
so it costs the same for a 3-day limit and for a ticket overdue for years.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta

from core.deadlines.holidays import HolidayTable

_ONE_DAY = timedelta(days=1)


class WorkingDayCalendar:
    """Answers working-day questions from one ``HolidayTable``; immutable once built."""

    __slots__ = (
        "_memo",
        "_table",
        "_weekday_rest",
        "_weekday_rest_set",
        "_weekend_work",
        "_weekend_work_set",
    )

    def __init__(self, table: HolidayTable) -> None:
        rest: set[int] = set()
        work: set[int] = set()
        for year in table.years:
            rest.update(d.toordinal() for d in year.rest_days if d.weekday() < 5)
            work.update(d.toordinal() for d in year.workdays if d.weekday() >= 5)
        self._table = table
        # Only the exceptions that change a weekday into a rest day, or a weekend day into a
        # workday, matter; they are kept sorted (ordinals) for counting in a range.
        self._weekday_rest: tuple[int, ...] = tuple(sorted(rest))
        self._weekday_rest_set = frozenset(rest)
        self._weekend_work: tuple[int, ...] = tuple(sorted(work))
        self._weekend_work_set = frozenset(work)
        # Many tickets share their dates, and a sweep asks the same questions for each of
        # them: answers are remembered (a cache of a pure function, bounded).
        self._memo: dict[tuple[int, int], date] = {}

    @property
    def table(self) -> HolidayTable:
        """The holiday table this calendar answers from."""
        return self._table

    def is_working_day(self, day: date) -> bool:
        """True on a weekday that is not a rest day, and on a make-up workday."""
        ordinal = day.toordinal()
        if day.weekday() < 5:
            return ordinal not in self._weekday_rest_set
        return ordinal in self._weekend_work_set

    def working_days_between(self, start: date, end: date) -> int:
        """The working days after ``start`` up to and including ``end``: the count in (start, end].

        ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n >= 0``. With
        ``end`` before ``start`` the answer is the negative of the count in (end, start].
        """
        if end < start:
            return -self.working_days_between(end, start)
        low, high = start.toordinal(), end.toordinal()
        return (
            _weekdays_up_to(high)
            - _weekdays_up_to(low)
            - _count_in(self._weekday_rest, low, high)
            + _count_in(self._weekend_work, low, high)
        )

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself never counts).

        ``n == 0`` gives ``start`` unchanged; a negative ``n`` counts back: the ``-n``-th working
        day before ``start``. For ``n != 0`` the result is always a working day.
        """
        if n == 0:
            return start
        key = (start.toordinal(), n)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > 100_000:
                self._memo.clear()
            found = self._memo[key] = self._count_from(start, n)
        return found

    def _count_from(self, start: date, n: int) -> date:
        step = 1 if n > 0 else -1
        remaining = abs(n)
        day = start
        while remaining:
            # ``remaining`` calendar days hold at most ``remaining`` working days, so the jump
            # never passes the answer; it lands exactly on it only when every day it crossed was
            # a working day, so the landing day is one. Each jump shrinks ``remaining`` by ~5/7.
            target = day + timedelta(days=step * remaining)
            if step > 0:
                remaining -= self.working_days_between(day, target)  # days in (day, target]
            else:
                remaining -= self.working_days_between(target - _ONE_DAY, day - _ONE_DAY)
            day = target
        return day

    def unknown_years_in(self, start: date, end: date) -> tuple[int, ...]:
        """The years touched by ``start``..``end`` that the table lacks (counted by weekends)."""
        return self._table.unknown_years_in(start, end)

    def guessed_years(self, start: date, end: date) -> tuple[int, ...]:
        """The unknown years among the days a count from ``start`` to ``end`` crossed: (start, end].

        ``start`` itself never counts, so a complaint received on 12-31 of an unknown year and
        due in a known one was counted on known days only. Empty when ``end`` is not after
        ``start``: nothing was counted.
        """
        if end <= start:
            return ()
        return self._table.unknown_years_in(start + _ONE_DAY, end)


def _weekdays_up_to(ordinal: int) -> int:
    """Monday-to-Friday dates among ordinals 1..``ordinal`` (ordinal 1, 0001-01-01, a Monday)."""
    weeks, extra = divmod(ordinal, 7)
    return weeks * 5 + min(extra, 5)


def _count_in(sorted_ordinals: tuple[int, ...], low: int, high: int) -> int:
    """How many of ``sorted_ordinals`` lie in (low, high]."""
    return bisect_right(sorted_ordinals, high) - bisect_right(sorted_ordinals, low)
