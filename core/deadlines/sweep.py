"""What the deadline sweep must do about a ticket's open duties: when next, and what now.

``core.deadlines.duties`` says which duties a ticket owes and until when. ``open_duties`` adds
to each the next moment something is due that is not recorded yet (a reminder or an escalation
level, timed by ``core.deadlines.escalation``), so a periodic sweep needs only an indexed
``next_at_ms <= now`` over the node's obligations rows. When that moment comes, ``steps_due``
says which events to record. Both read only the state, so a sweep that runs twice, or after a
restart, or on two levels cut off from each other, asks for the same facts; the fold counts a
reminder or an escalation once (DOMAIN.md §6). To keep that true, "already recorded" is judged
here with the fold's own keys: a reminder is one per (duty, level, owing unit, deadline) and an
escalation one per (duty, owing unit, level), as ``core.ticket.duties.was_reminded`` and
``is_escalated`` count them. A looser key here would make a sweep record, at every run, an
event the fold then ignores. ``node.jobs.deadlines`` runs the sweep; this module is its pure
rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.deadlines.duties import PolicyChoice, owed_obligations
from core.deadlines.escalation import (
    DEFAULT_REMINDER_POINTS,
    Reminder,
    ReminderLevel,
    ReminderPoint,
    Schedules,
    escalation_times,
    reminder_times,
)
from core.deadlines.obligations import Obligation
from core.deadlines.working_days import WorkingDayCalendar
from core.ticket.events import DomainEvent, ReminderSent, TicketEscalated
from core.ticket.state import TicketState
from core.units import ancestor

DEFAULT_ESCALATION_PERIOD_WD = 3
"""Working days an overdue duty waits at one level before it climbs to the next."""


@dataclass(frozen=True)
class OpenDuty:
    """An open duty of a ticket and the next moment the sweep must act on it (0: nothing)."""

    obligation: Obligation
    next_at_ms: int


class _Uncached:
    """Reminder and escalation times counted afresh at each call (no ``Schedules`` given)."""

    __slots__ = ("calendar",)

    def __init__(self, calendar: WorkingDayCalendar) -> None:
        self.calendar = calendar

    def reminder_times(
        self, ob: Obligation, points: tuple[ReminderPoint, ...]
    ) -> tuple[Reminder, ...]:
        return reminder_times(ob, points, self.calendar)

    def escalation_times(self, ob: Obligation, escalation_period_wd: int) -> tuple[int, ...]:
        return escalation_times(ob, escalation_period_wd, self.calendar)


_Times = Schedules | _Uncached


def _times(calendar: WorkingDayCalendar, schedules: Schedules | None) -> _Times:
    """Where reminder and escalation times come from: ``schedules`` if given (its memory is
    only valid on its own calendar, so it must be ``calendar``'s), else counted afresh."""
    if schedules is None:
        return _Uncached(calendar)
    if schedules.calendar is not calendar:
        raise ValueError("these schedules are counted on another calendar")
    return schedules


def open_duties(
    state: TicketState,
    policy: PolicyChoice,
    calendar: WorkingDayCalendar,
    *,
    points: tuple[ReminderPoint, ...] = DEFAULT_REMINDER_POINTS,
    escalation_period_wd: int = DEFAULT_ESCALATION_PERIOD_WD,
    schedules: Schedules | None = None,
) -> list[OpenDuty]:
    """The duties ``state`` leaves open, each with its obligation and next action time.

    One per duty and owing unit, the key of the obligations table. ``schedules`` (on
    ``calendar``) remembers reminder and escalation times between calls; same answers.
    """
    times = _times(calendar, schedules)
    return [
        _with_actions(state, ob, points, escalation_period_wd, times)
        for ob in owed_obligations(state, policy, calendar)
    ]


def _with_actions(
    state: TicketState,
    ob: Obligation,
    points: tuple[ReminderPoint, ...],
    escalation_period_wd: int,
    times: _Times,
) -> OpenDuty:
    """The duty and its next action time: the earliest reminder or escalation not recorded."""
    pending = _pending_times(state, ob, points, escalation_period_wd, times)
    return OpenDuty(ob, min(pending) if pending else 0)


def _recorded(state: TicketState, ob: Obligation) -> tuple[set[ReminderLevel], set[int]]:
    """The reminder levels and escalation levels of ``ob`` the fold already counts.

    The fold's keys (module docstring): reminders of this unit's duty at this deadline, and
    escalations of this unit's duty whatever deadline they named.
    """
    sent = {
        r.level
        for r in state.reminders_sent
        if r.duty is ob.duty and r.unit_code == ob.unit_code and r.due_ms == ob.due_ms
    }
    climbed = {
        e.level for e in state.escalations if e.duty is ob.duty and e.from_unit == ob.unit_code
    }
    return sent, climbed


def _pending_times(
    state: TicketState,
    ob: Obligation,
    points: tuple[ReminderPoint, ...],
    period: int,
    times: _Times,
) -> list[int]:
    """The reminder and escalation times of ``ob`` that a sweep has still to act on.

    Reminders a sweep skipped (it ran only after the due time: ``steps_due``) are moot once
    the duty has escalated; left in, they would keep the row due at every sweep for nothing.
    A duty with nowhere to climb (a province's own) keeps them: its row is read and nothing
    recorded, the only cost.
    """
    sent, climbed = _recorded(state, ob)
    reminders = () if climbed else times.reminder_times(ob, points)
    pending = [r.at_ms for r in reminders if r.level not in sent]
    pending += [
        at
        for level, at in enumerate(times.escalation_times(ob, period), start=1)
        if level not in climbed
    ]
    return pending


def steps_due(
    state: TicketState,
    duty: OpenDuty,
    now_ms: int,
    calendar: WorkingDayCalendar,
    *,
    points: tuple[ReminderPoint, ...] = DEFAULT_REMINDER_POINTS,
    escalation_period_wd: int = DEFAULT_ESCALATION_PERIOD_WD,
    schedules: Schedules | None = None,
) -> list[DomainEvent]:
    """The reminders and escalations of ``duty`` that are due at ``now_ms`` and not recorded.

    Once the due time has passed, reminders still unsent are skipped: the escalation says more.
    A node that was down for a week records every level the duty has climbed meanwhile.
    ``schedules`` as for ``open_duties``.
    """
    times = _times(calendar, schedules)
    ob = duty.obligation
    sent, climbed = _recorded(state, ob)
    events: list[DomainEvent] = []
    if now_ms < ob.due_ms:
        for reminder in times.reminder_times(ob, points):
            if reminder.at_ms <= now_ms and reminder.level not in sent:
                events.append(_reminder(ob, reminder.level))
        return events
    for level, at in enumerate(times.escalation_times(ob, escalation_period_wd), start=1):
        if at <= now_ms and level not in climbed:
            events.append(
                TicketEscalated(
                    duty=ob.duty,
                    from_unit=ob.unit_code,
                    to_unit=ancestor(ob.unit_code, level),
                    level=level,
                    due_ms=ob.due_ms,
                )
            )
    return events


def _reminder(ob: Obligation, level: ReminderLevel) -> ReminderSent:
    return ReminderSent(duty=ob.duty, level=level, unit_code=ob.unit_code, due_ms=ob.due_ms)
