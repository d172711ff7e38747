"""The holiday table: which dates are statutory rest days and which are make-up workdays.

Each year the State Council publishes the public holidays (法定节假日) and the weekend days
worked in exchange (调休上班, make-up workdays). The ``chinese-calendar`` package carries that
data up to the last year it knows (2026 in 1.11); an administrator loads later years (or
corrections) as a table replicated from the province. A ``HolidayTable`` is the merged value
the working-day calendar reads: nothing else in ``core`` imports the package.

A year missing from the table is *unknown*: the calendar then counts weekends only, and
``unknown_years_in`` tells the caller, who must warn loudly (``core`` does not log); a deadline
counted over such a year is provisional (``core.deadlines.obligations``) until the year is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import chinese_calendar

from core.errors import InvalidInput

DateLike = date | str
"""A date, or its ISO text ``YYYY-MM-DD`` as an administrator's JSON file carries it."""

AdminYears = Mapping[int, tuple[Iterable[DateLike], Iterable[DateLike]]]
"""An administrator-loaded table: year -> (rest days, make-up workdays), parsed by the caller."""


@dataclass(frozen=True)
class YearHolidays:
    """One year's exceptions to the Monday-to-Friday week.

    ``rest_days`` may include the weekend days inside a holiday period (the package lists them);
    they change nothing. ``workdays`` are the make-up workdays (调休上班), normally weekend days.
    """

    year: int
    rest_days: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "rest_days", frozenset(self.rest_days))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for kind, days in (("rest_days", self.rest_days), ("workdays", self.workdays)):
            stray = sorted(d for d in days if d.year != self.year)
            if stray:
                raise InvalidInput(
                    f"holidays.{self.year}.{kind}", f"{stray[0]} is not in {self.year}"
                )
        both = sorted(self.rest_days & self.workdays)
        if both:
            raise InvalidInput(
                f"holidays.{self.year}", f"{both[0]} is both a rest day and a workday"
            )


@dataclass(frozen=True)
class HolidayTable:
    """Rest days and make-up workdays per year, for the years someone has published.

    Immutable: merging returns a new table. Build it with ``from_chinese_calendar`` and extend it
    with ``merged`` (an administrator's years replace the package's whole years).
    """

    years: tuple[YearHolidays, ...] = ()
    _by_year: dict[int, YearHolidays] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        by_year: dict[int, YearHolidays] = {}
        for year in self.years:
            if year.year in by_year:
                raise InvalidInput("holidays", f"year {year.year} given twice")
            by_year[year.year] = year
        object.__setattr__(self, "years", tuple(by_year[y] for y in sorted(by_year)))
        object.__setattr__(self, "_by_year", by_year)

    @classmethod
    def from_chinese_calendar(cls, years: Iterable[int] | None = None) -> HolidayTable:
        """The package's data for ``years`` (all it knows when None); unknown years are skipped.

        A skipped year is simply absent, so ``unknown_years_in`` reports it.
        """
        wanted = package_years() if years is None else frozenset(years) & package_years()
        rest: dict[int, set[date]] = {y: set() for y in wanted}
        work: dict[int, set[date]] = {y: set() for y in wanted}
        for day in chinese_calendar.holidays:
            if day.year in wanted:
                rest[day.year].add(day)
        for day in chinese_calendar.workdays:
            if day.year in wanted:
                work[day.year].add(day)
        return cls(
            tuple(YearHolidays(y, frozenset(rest[y]), frozenset(work[y])) for y in sorted(wanted))
        )

    @classmethod
    def from_mapping(cls, admin: AdminYears) -> HolidayTable:
        """A table from an administrator's mapping year -> (rest days, make-up workdays)."""
        return cls(tuple(_year_from_admin(year, days) for year, days in admin.items()))

    @property
    def known_years(self) -> frozenset[int]:
        """The years this table has data for; any other year counts weekends only."""
        return frozenset(self._by_year)

    def for_year(self, year: int) -> YearHolidays | None:
        """The exceptions of ``year``, or None when the year is unknown."""
        return self._by_year.get(year)

    def unknown_years_in(self, start: date, end: date) -> tuple[int, ...]:
        """The years touched by the dates ``start``..``end`` (either order) that are unknown."""
        low, high = sorted((start.year, end.year))
        return tuple(y for y in range(low, high + 1) if y not in self._by_year)

    def merged(self, admin: AdminYears | HolidayTable) -> HolidayTable:
        """This table with ``admin``'s years added; a year in both is taken wholly from ``admin``.

        Whole years, not single dates, are replaced, so a correction can also remove a date.
        """
        other = admin if isinstance(admin, HolidayTable) else HolidayTable.from_mapping(admin)
        by_year = dict(self._by_year)
        by_year.update(other._by_year)
        return HolidayTable(tuple(by_year.values()))


def package_years() -> frozenset[int]:
    """The years the installed ``chinese-calendar`` package has data for."""
    return frozenset(day.year for day in chinese_calendar.holidays)


def _year_from_admin(
    year: int, days: tuple[Iterable[DateLike], Iterable[DateLike]]
) -> YearHolidays:
    """One year of an administrator's table, with every date checked."""
    if not isinstance(year, int) or isinstance(year, bool):
        raise InvalidInput("holidays", f"year {year!r} is not an integer")
    rest, work = days
    return YearHolidays(
        year,
        frozenset(_as_date(d, f"holidays.{year}.rest_days") for d in rest),
        frozenset(_as_date(d, f"holidays.{year}.workdays") for d in work),
    )


def _as_date(value: DateLike, field_path: str) -> date:
    """A date from a date or an ISO ``YYYY-MM-DD`` string; anything else is invalid input."""
    if isinstance(value, datetime):
        raise InvalidInput(field_path, f"{value!r} is a date and time, not a date")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(field_path, f"{value!r} is not a date (YYYY-MM-DD)") from None
