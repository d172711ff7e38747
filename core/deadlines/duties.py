"""Which duties a ticket leaves open, and what a sweep must record about each of them now.

The obligations a node keeps as rows are a view of its ticket states (DESIGN.md rules 1 and 7):
``open_duties`` derives them from a state, with the next moment something is due (a reminder
or an escalation level), so a periodic sweep needs only an indexed ``next_at_ms <= now``. When
that moment comes, ``steps_due`` says which events to record. Both read only the state, so a
sweep that runs twice, or after a restart, or on two levels cut off from each other, asks for
the same facts; the fold counts a reminder or an escalation once (DOMAIN.md §6).

Duties covered here: deciding acceptance of a complaint and verifying a report, both owed by
the holding unit from the moment it got the ticket; ending mediation, from acceptance, its
deadline moved by every pause of the mediation clock. Callbacks, ODR answers and supervision
orders follow the same pattern (see issue 4's state of work).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core import hlc
from core.deadlines.escalation import (
    DEFAULT_REMINDER_POINTS,
    ReminderLevel,
    ReminderPoint,
    escalation_times,
    reminder_times,
)
from core.deadlines.obligations import Obligation, extend, open_obligation, pause, resume
from core.deadlines.policy import Duty, TimeLimitPolicy
from core.deadlines.working_days import WorkingDayCalendar
from core.ticket.events import DomainEvent, ReminderSent, TicketEscalated
from core.ticket.state import Stage, TicketState, TicketStatus
from core.ticket.vocabulary import Track
from core.units import HANDLING_LEVELS, UnitLevel, level_of

DEFAULT_ESCALATION_PERIOD_WD = 3
"""Working days an overdue duty waits at one level before it climbs to the next."""

PolicyChoice = TimeLimitPolicy | Callable[[TicketState, int], TimeLimitPolicy]
"""One policy for every ticket, or a choice per ticket and start time (later versions of the
table, campaigns): ``choose(state, started_ms)``."""

_DECISION_DUTIES = ((Track.COMPLAINT, Duty.DECIDE_ACCEPTANCE), (Track.REPORT, Duty.VERIFY_REPORT))


@dataclass(frozen=True)
class OpenDuty:
    """An open duty of a ticket and the next moment the sweep must act on it (0: nothing)."""

    obligation: Obligation
    next_at_ms: int


def ancestor(unit_code: str, steps: int) -> str:
    """The unit ``steps`` levels above ``unit_code``, read from the shape of the codes."""
    code = unit_code
    for _ in range(steps):
        match level_of(code):
            case UnitLevel.STATION:
                code = code[:6]
            case UnitLevel.COUNTY:
                code = code[:4] + "00"
            case UnitLevel.CITY:
                code = code[:2] + "0000"
            case _:
                return code
    return code


def policy_for(choice: PolicyChoice, state: TicketState, started_ms: int) -> TimeLimitPolicy:
    """The table that governs a duty of ``state`` opened at ``started_ms``."""
    return choice if isinstance(choice, TimeLimitPolicy) else choice(state, started_ms)


def open_duties(
    state: TicketState,
    policy: PolicyChoice,
    calendar: WorkingDayCalendar,
    *,
    points: tuple[ReminderPoint, ...] = DEFAULT_REMINDER_POINTS,
    escalation_period_wd: int = DEFAULT_ESCALATION_PERIOD_WD,
) -> list[OpenDuty]:
    """The duties ``state`` leaves open, each with its obligation and next action time."""
    if state.registration is None or state.status not in (
        TicketStatus.ROUTED,
        TicketStatus.IN_HANDLING,
    ):
        return []
    holder = state.holder_unit
    if not holder or level_of(holder) not in HANDLING_LEVELS or not state.held_since_hlc:
        return []
    duties = []
    for track, duty in _DECISION_DUTIES:
        t = state.track(track)
        if t is None or t.stage is not Stage.AWAITING_DECISION:
            continue
        started_ms = hlc.to_millis(state.held_since_hlc)
        table = policy_for(policy, state, started_ms)
        if not table.has_limit(duty, state.registration.kind):
            continue
        ob = open_obligation(
            ticket_id=state.ticket_id,
            duty=duty,
            kind=state.registration.kind,
            unit_code=holder,
            started_ms=started_ms,
            policy=table,
            calendar=calendar,
        )
        duties.append(_with_actions(state, ob, points, escalation_period_wd, calendar))
    mediation = _mediation(state, policy, calendar)
    if mediation is not None:
        duties.append(_with_actions(state, mediation, points, escalation_period_wd, calendar))
    return duties


def _mediation(
    state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar
) -> Obligation | None:
    """Ending mediation, counted from acceptance, moved by every pause of its clock."""
    complaint = state.track(Track.COMPLAINT)
    if complaint is None or complaint.stage not in (Stage.MEDIATING, Stage.MEDIATION_PAUSED):
        return None
    assert state.registration is not None
    if not complaint.accepted_hlc:
        return None
    started_ms = hlc.to_millis(complaint.accepted_hlc)
    table = policy_for(policy, state, started_ms)
    if not table.has_limit(Duty.END_MEDIATION, state.registration.kind):
        return None
    ob = open_obligation(
        ticket_id=state.ticket_id,
        duty=Duty.END_MEDIATION,
        kind=state.registration.kind,
        unit_code=state.holder_unit,
        started_ms=started_ms,
        policy=table,
        calendar=calendar,
    )
    for stopped in complaint.pauses:
        ob = pause(ob, hlc.to_millis(stopped.started_hlc))
        ob = resume(ob, hlc.to_millis(stopped.ended_hlc), calendar)
    if complaint.paused_since_hlc:
        ob = pause(ob, hlc.to_millis(complaint.paused_since_hlc))
    return ob


def _with_actions(
    state: TicketState,
    ob: Obligation,
    points: tuple[ReminderPoint, ...],
    escalation_period_wd: int,
    calendar: WorkingDayCalendar,
) -> OpenDuty:
    """The duty with its approved extensions applied, and its next action time."""
    for granted in state.extensions:
        if (
            granted.duty is ob.duty
            and granted.approved
            and granted.decided_hlc >= (state.held_since_hlc)
        ):
            ob = extend(ob, granted.days, hlc.to_millis(granted.decided_hlc), calendar)
    pending = _pending_times(state, ob, points, escalation_period_wd, calendar)
    return OpenDuty(ob, min(pending) if pending else 0)


def _pending_times(
    state: TicketState,
    ob: Obligation,
    points: tuple[ReminderPoint, ...],
    period: int,
    calendar: WorkingDayCalendar,
) -> list[int]:
    sent = {(r.duty, r.level, r.due_ms) for r in state.reminders_sent}
    climbed = {(e.duty, e.level) for e in state.escalations}
    times = [
        r.at_ms
        for r in reminder_times(ob, points, calendar)
        if (ob.duty, r.level, ob.due_ms) not in sent
    ]
    times += [
        at
        for level, at in enumerate(escalation_times(ob, period, calendar), start=1)
        if (ob.duty, level) not in climbed
    ]
    return times


def steps_due(
    state: TicketState,
    duty: OpenDuty,
    now_ms: int,
    calendar: WorkingDayCalendar,
    *,
    points: tuple[ReminderPoint, ...] = DEFAULT_REMINDER_POINTS,
    escalation_period_wd: int = DEFAULT_ESCALATION_PERIOD_WD,
) -> list[DomainEvent]:
    """The reminders and escalations of ``duty`` that are due at ``now_ms`` and not recorded.

    Once the due time has passed, reminders still unsent are skipped: the escalation says more.
    A node that was down for a week records every level the duty has climbed meanwhile.
    """
    ob = duty.obligation
    sent = {(r.duty, r.level, r.due_ms) for r in state.reminders_sent}
    climbed = {(e.duty, e.level) for e in state.escalations}
    events: list[DomainEvent] = []
    if now_ms < ob.due_ms:
        for reminder in reminder_times(ob, points, calendar):
            if reminder.at_ms <= now_ms and (ob.duty, reminder.level, ob.due_ms) not in sent:
                events.append(_reminder(ob, reminder.level))
        return events
    for level, at in enumerate(escalation_times(ob, escalation_period_wd, calendar), start=1):
        if at <= now_ms and (ob.duty, level) not in climbed:
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
