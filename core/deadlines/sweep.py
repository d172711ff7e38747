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

Supervision from above (上级监督)
-------------------------------
A county whose node is switched off cannot escalate its own overdue duties, yet DOMAIN.md §6
wants them in the next level's queue on time. So the nodes above watch the duties of the units
below them from the copies they hold: when a child's duty has been overdue at some level for
longer than the rule book's ``grace`` (which covers normal replication lag) times the watching
node's distance from the owing unit, and no escalation of that level has reached it, the
watching node records it itself (``supervision_steps_due``). Each node has its window: the
owing unit's own node from the escalation's instant, the city one grace period later, the
province two, so a level steps in only when the one below it is dark. A node whose parent
watches too acts only within its window, which ends where its parent's begins: back after
being dark, it leaves the levels it let slip to its parent (``parent_supervises``), which has
recorded them, or will, and a second record would only be history. The province, whom no
one watches, has no end to its window.

Reminders are told to people, so one told late, in a burst after a restart, would mislead: a
reminder whose moment passed more than the grace ago, or whose duty is already due, is recorded
as *missed* (``ReminderSent.missed``), so the history shows it and nobody is told.
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

DEFAULT_SUPERVISION_GRACE_MS = 4 * 3_600_000
"""How late (epoch ms of the clock) an escalation may reach the node above before that node
records it itself, and how late a reminder may still be told: four hours, ample for a county
on a working link (replication rounds every few seconds) and short beside the working days a
duty runs. The province's rule book may set another (``RuleBook.supervision_grace_minutes``);
a drill on an accelerated clock must, since its real replication lag is drill hours."""


@dataclass(frozen=True)
class OpenDuty:
    """An open duty of a ticket and the next moment the sweep must act on it (0: nothing).

    ``escalate_at_ms`` is the next escalation instant not yet recorded (0: none), what the
    nodes above watch (supervision from above, module docstring).
    """

    obligation: Obligation
    next_at_ms: int
    escalate_at_ms: int = 0


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
    sent, climbed = _recorded(state, ob)
    reminders = [r.at_ms for r in times.reminder_times(ob, points) if r.level not in sent]
    escalations = _unrecorded_escalations(ob, climbed, escalation_period_wd, times)
    pending = reminders + [at for _, at in escalations]
    return OpenDuty(
        ob, min(pending) if pending else 0, min(at for _, at in escalations) if escalations else 0
    )


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


def _unrecorded_escalations(
    ob: Obligation, climbed: set[int], period: int, times: _Times
) -> list[tuple[int, int]]:
    """(level, instant) of each escalation of ``ob`` the fold does not count yet."""
    return [
        (level, at)
        for level, at in enumerate(times.escalation_times(ob, period), start=1)
        if level not in climbed
    ]


def steps_due(
    state: TicketState,
    duty: OpenDuty,
    now_ms: int,
    calendar: WorkingDayCalendar,
    *,
    points: tuple[ReminderPoint, ...] = DEFAULT_REMINDER_POINTS,
    escalation_period_wd: int = DEFAULT_ESCALATION_PERIOD_WD,
    schedules: Schedules | None = None,
    grace_ms: int = DEFAULT_SUPERVISION_GRACE_MS,
    parent_supervises: bool = False,
) -> list[DomainEvent]:
    """What the owing unit's own node records about ``duty`` at ``now_ms``, not yet recorded.

    Each reminder whose moment has come, told when the sweep is within ``grace_ms`` of it and
    the duty not yet due, else recorded as missed; each escalation level whose instant has
    passed. A node that was down for a week records every level the duty has climbed
    meanwhile, unless ``parent_supervises``: then the levels late by ``grace_ms`` or more
    are its parent's to record (module docstring). ``schedules`` as for ``open_duties``.
    """
    times = _times(calendar, schedules)
    ob = duty.obligation
    sent, climbed = _recorded(state, ob)
    events: list[DomainEvent] = []
    for reminder in times.reminder_times(ob, points):
        if reminder.at_ms <= now_ms and reminder.level not in sent:
            missed = now_ms >= ob.due_ms or now_ms - reminder.at_ms > grace_ms
            events.append(_reminder(ob, reminder.level, missed=missed))
    for level, at in _unrecorded_escalations(ob, climbed, escalation_period_wd, times):
        if at <= now_ms and not (parent_supervises and now_ms - at >= grace_ms):
            events.append(_escalation(ob, level))
    return events


def supervision_steps_due(
    state: TicketState,
    duty: OpenDuty,
    now_ms: int,
    calendar: WorkingDayCalendar,
    *,
    depth: int,
    grace_ms: int = DEFAULT_SUPERVISION_GRACE_MS,
    escalation_period_wd: int = DEFAULT_ESCALATION_PERIOD_WD,
    schedules: Schedules | None = None,
    parent_supervises: bool = False,
) -> list[TicketEscalated]:
    """The escalations a node ``depth`` levels above the owing unit records about ``duty``.

    Each level whose instant passed ``depth`` grace periods ago or more and that has not
    reached this node; when ``parent_supervises``, only until ``depth + 1`` grace periods
    have passed, from when the parent watches (module docstring). Never reminders: they are
    the owing unit's to send.
    """
    if depth < 1:
        raise ValueError(f"a supervising node is at least one level above, not {depth}")
    times = _times(calendar, schedules)
    ob = duty.obligation
    _, climbed = _recorded(state, ob)
    opens, closes = depth * grace_ms, (depth + 1) * grace_ms
    return [
        _escalation(ob, level)
        for level, at in _unrecorded_escalations(ob, climbed, escalation_period_wd, times)
        if at + opens <= now_ms and not (parent_supervises and now_ms >= at + closes)
    ]


def _escalation(ob: Obligation, level: int) -> TicketEscalated:
    return TicketEscalated(
        duty=ob.duty,
        from_unit=ob.unit_code,
        to_unit=ancestor(ob.unit_code, level),
        level=level,
        due_ms=ob.due_ms,
    )


def _reminder(ob: Obligation, level: ReminderLevel, *, missed: bool) -> ReminderSent:
    return ReminderSent(
        duty=ob.duty, level=level, unit_code=ob.unit_code, due_ms=ob.due_ms, missed=missed
    )
