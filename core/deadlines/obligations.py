"""Obligations: one duty of one unit on one ticket, with the instant it falls due.

An obligation (accept by, mediate by, verify by, call back by, answer by, report by) is a value
the node stores as a row and sweeps by ``due_ms`` (DESIGN.md rule 7). The functions here are
pure: they take the obligation, an instant in epoch milliseconds and the working-day calendar,
and return a new obligation. Nothing here reads the clock (DESIGN.md rule 6).

The due date is always recomputed from the whole count, never shifted step by step::

    due date = add_working_days(start date, limit_days + paused_working_days + extension_days)

where the start date is the China date of ``started_ms`` (it never counts itself, DOMAIN.md §5)
and ``due_ms`` is the end of the due date (24:00 China time, see ``core.deadlines.china_time``).
A limit the table gives in calendar days (``TimeLimit.calendar_days``: a city's 7-day ODR
limit) is counted the same way over every day, and no holiday table moves it.

Pauses (DOMAIN.md §5: time for testing or appraisal does not count). A pause from an instant
on date P to a resumption on date R gives back ``working_days_between(P, R)`` working days: the
working days in (P, R]. The pause day itself counts as used (the clock ran that day) and the
resumption day is given back, the same rule as "counting starts the day after": after a
resumption counting starts again the next day. A pause and resumption on one date give nothing;
a pause on Friday and a resumption on Monday give one day. Equivalently, the working days left
at the pause are counted again from the day after the resumption. While paused, ``due_ms`` keeps
its value from before the pause and the obligation can neither become overdue nor remind:
sweeps must skip rows with ``paused_since_ms`` set. ``paused_ms`` totals the calendar time
stopped, for reports.

Extensions (延期, DOMAIN.md §5): approved working days are added to the count, so the due date
moves on from the current one, whenever the approval came.

Provisional deadlines (暂定): where the holiday table lacks a year, the calendar counts it by
weekends only, so a due date whose count crossed such a year is a guess. ``unknown_years``
names those years and ``provisional`` says so; counting again on a calendar that knows them
(``recompute_due``, or deriving the obligations afresh when the province loads the year) gives
the final date and clears both. Only the days counted matter, (start date, due date]: the
start date never counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from core.deadlines.china_time import china_date, end_of_day_ms
from core.deadlines.policy import Duty, TimeLimitPolicy
from core.deadlines.working_days import WorkingDayCalendar
from core.errors import InvalidInput, StepNotAllowed
from core.ticket.vocabulary import TicketKind


@dataclass(frozen=True)
class Obligation:
    """A unit's duty on a ticket and when it falls due; the row a sweep looks at."""

    ticket_id: str
    duty: Duty
    unit_code: str
    started_ms: int
    """The event that starts the count (receipt, acceptance, closure...), epoch milliseconds."""
    limit_days: int
    """Working days granted by the policy when the obligation was opened; later tables do not
    change it."""
    policy_version: str
    """The version of the ``TimeLimitPolicy`` the limit was taken from."""
    due_ms: int
    """The instant the duty becomes overdue: 24:00 China time of the due date."""
    max_extension_days: int | None = None
    """The cap on ``extension_days`` from the policy row (None: no cap)."""
    paused_since_ms: int | None = None
    """When the running pause began; None while the clock runs."""
    paused_ms: int = 0
    """Total calendar milliseconds of finished pauses."""
    paused_working_days: int = 0
    """Working days given back by finished pauses (see the module docstring)."""
    extension_days: int = 0
    """Working days added by approved extensions."""
    last_extended_ms: int | None = None
    """When the latest extension was approved."""
    unknown_years: tuple[int, ...] = ()
    """Years the count crossed, (start date, due date], that the holiday table lacks: the due
    date was counted with weekends only there (see ``provisional``)."""
    calendar_days: bool = False
    """True when the limit counts calendar days (自然日), which no holiday table moves."""

    @property
    def provisional(self) -> bool:
        """True when the due date is a guess (暂定): its count crossed a year the calendar does
        not know, counted by weekends only. Every place an officer sees the date says so."""
        return bool(self.unknown_years)

    @property
    def is_paused(self) -> bool:
        """True while the clock is stopped."""
        return self.paused_since_ms is not None

    @property
    def start_date(self) -> date:
        """The China date of the starting event; counting begins the day after."""
        return china_date(self.started_ms)

    @property
    def due_date(self) -> date:
        """The last date on which the duty is on time."""
        return china_date(self.due_ms - 1)

    @property
    def counted_days(self) -> int:
        """All working days the due date is counted with: limit, pauses and extensions."""
        return self.limit_days + self.paused_working_days + self.extension_days


def open_obligation(
    *,
    ticket_id: str,
    duty: Duty,
    kind: TicketKind,
    unit_code: str,
    started_ms: int,
    policy: TimeLimitPolicy,
    calendar: WorkingDayCalendar,
    days: int | None = None,
) -> Obligation:
    """A new obligation under ``policy``'s limit for ``duty`` on a ticket of ``kind``.

    ``days`` fixes the limit instead (a supervision order states its own deadline, DOMAIN.md
    §6); the policy's version is still recorded.
    """
    if not ticket_id:
        raise InvalidInput("ticket_id", "must not be empty")
    if not unit_code:
        raise InvalidInput("unit_code", "must not be empty")
    if days is None:
        limit = policy.limit_for(duty, kind, unit_code)
        limit_days, max_extension = limit.days, limit.max_extension_days
        if limit.calendar_days:
            start = china_date(started_ms)
            return Obligation(
                ticket_id=ticket_id,
                duty=duty,
                unit_code=unit_code,
                started_ms=started_ms,
                limit_days=limit_days,
                policy_version=policy.version,
                due_ms=end_of_day_ms(start + timedelta(days=limit_days)),
                max_extension_days=max_extension,
                calendar_days=True,
            )
    elif days < 1:
        raise InvalidInput("days", f"must be at least 1, not {days}")
    else:
        limit_days, max_extension = days, None
    # What ``recompute_due`` counts for a new obligation (no pause, no extension yet), built
    # in one go: every duty of every ticket opens here at each projection.
    start = china_date(started_ms)
    due = calendar.add_working_days(start, limit_days)
    return Obligation(
        ticket_id=ticket_id,
        duty=duty,
        unit_code=unit_code,
        started_ms=started_ms,
        limit_days=limit_days,
        policy_version=policy.version,
        due_ms=end_of_day_ms(due),
        max_extension_days=max_extension,
        unknown_years=calendar.guessed_years(start, due),
    )


def recompute_due(ob: Obligation, calendar: WorkingDayCalendar) -> Obligation:
    """``ob`` with its due instant counted again, e.g. after a holiday table was loaded."""
    if ob.calendar_days:
        return replace(ob, due_ms=end_of_day_ms(ob.start_date + timedelta(days=ob.counted_days)))
    due = calendar.add_working_days(ob.start_date, ob.counted_days)
    return replace(
        ob,
        due_ms=end_of_day_ms(due),
        unknown_years=calendar.guessed_years(ob.start_date, due),
    )


def pause(ob: Obligation, at_ms: int) -> Obligation:
    """``ob`` with its clock stopped at ``at_ms`` (testing or appraisal, DOMAIN.md §5)."""
    if ob.paused_since_ms is not None:
        raise StepNotAllowed("pause", "paused", "the clock is already stopped")
    if at_ms < ob.started_ms:
        raise InvalidInput("at_ms", "a pause cannot begin before the obligation started")
    return replace(ob, paused_since_ms=at_ms)


def resume(ob: Obligation, at_ms: int, calendar: WorkingDayCalendar) -> Obligation:
    """``ob`` running again from ``at_ms``, its due date moved by the working days paused."""
    since = ob.paused_since_ms
    if since is None:
        raise StepNotAllowed("resume", "running", "the clock is not stopped")
    if at_ms < since:
        raise InvalidInput("at_ms", "a pause cannot end before it began")
    given_back = calendar.working_days_between(china_date(since), china_date(at_ms))
    return recompute_due(
        replace(
            ob,
            paused_since_ms=None,
            paused_ms=ob.paused_ms + (at_ms - since),
            paused_working_days=ob.paused_working_days + given_back,
        ),
        calendar,
    )


def extend(
    ob: Obligation, days: int, approved_at_ms: int, calendar: WorkingDayCalendar
) -> Obligation:
    """``ob`` with an approved extension of ``days`` working days added to its count.

    The policy row's cap (e.g. reports: +15 WD, DOMAIN.md §5) bounds the total of extensions.
    """
    if days < 1:
        raise InvalidInput("days", f"an extension must be at least 1 working day, not {days}")
    if approved_at_ms < ob.started_ms:
        raise InvalidInput("approved_at_ms", "an extension cannot be approved before the start")
    cap = ob.max_extension_days
    if cap is not None and ob.extension_days + days > cap:
        raise StepNotAllowed(
            "extend",
            f"extended by {ob.extension_days} WD",
            f"extensions of this duty total at most {cap} working days",
        )
    return recompute_due(
        replace(ob, extension_days=ob.extension_days + days, last_extended_ms=approved_at_ms),
        calendar,
    )


def clock_at(ob: Obligation, now_ms: int) -> int:
    """The instant the obligation's clock shows at ``now_ms``: frozen at a running pause."""
    if ob.paused_since_ms is not None:
        return min(now_ms, ob.paused_since_ms)
    return now_ms


def is_overdue(ob: Obligation, now_ms: int) -> bool:
    """True when the due date has ended (a paused clock counts up to the pause only)."""
    return clock_at(ob, now_ms) >= ob.due_ms
