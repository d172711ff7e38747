"""Which duties a ticket leaves open, who owes each and until when.

The obligations a node keeps as rows are a view of its ticket states (DESIGN.md rules 1 and 7):
``owed_obligations`` derives them from a state, a policy choice and the working-day calendar,
pauses and approved extensions applied. It reads neither the reminders nor the escalations
already recorded; what a sweep must do about each duty is ``core.deadlines.sweep``.

The duties, who owes them and from when (the policy table gives the limit unless said):

===================== ================================= ======================================
duty                  owed by                           counted from
===================== ================================= ======================================
DECIDE_ACCEPTANCE,    the holding (city or county)      the moment it got the ticket
VERIFY_REPORT         unit, while the part awaits it    (``TicketState.held_since_hlc``)
END_MEDIATION         the holding unit, while mediating acceptance, moved by every pause
CALLBACK              the unit holding the closed       closure (``TicketState.closed_hlc``):
                      ticket, until the callback        a 不满意 callback reopens the ticket,
                                                        and the next closure owes a new one
SUPERVISION_REPORT    the order's ``to_unit``, until it the order, in the order's own
                      reports                           ``days`` (the table has no row)
===================== ================================= ======================================

Which units owe what is ``core.ticket.duties.duty_owners``; this module agrees with it and
adds *when*. A duty the policy table gives no limit for on the ticket's kind (a callback on a
report, under the default table) is owed but not timed: no row, no reminder.

Supervision orders: a ticket may carry several open supervision orders, even to different
units; each unit owes one report duty, timed by its earliest-due open order (the obligations
table is keyed by ticket, duty and unit). Within one unit the earliest order stands for all its
orders: the fold keeps one escalation per (duty, unit, level), so a unit behind on one
supervision report is behind on its reports.

ODR answers (``Duty.ODR_ANSWER``, DOMAIN.md §8): the county that enrolled the enterprise owes
it while the dispute is open (negotiating, or a proposal awaiting the consumer), counted from
the dispute's opening (``OdrDispute.opened_hlc``) by the table's ODR row; nobody extends it.
When it passes without a settlement the sweep converts the dispute into a complaint
(``node.jobs.deadlines``), whose own duties count from the conversion.

Re-handling (回炉重办) after a 不满意 callback puts the complaint back into mediation; its
END_MEDIATION duty is counted afresh from the reopening (``TrackState.reopened_hlc``) with the
pauses since. DOMAIN.md sets no limit of its own for re-handling: the mediation limit is an
assumption to confirm with the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core import hlc
from core.deadlines.obligations import Obligation, extend, open_obligation, pause, resume
from core.deadlines.policy import Duty, TimeLimitPolicy
from core.deadlines.working_days import WorkingDayCalendar
from core.ticket.state import Stage, TicketState, TicketStatus
from core.ticket.vocabulary import Track
from core.units import HANDLING_LEVELS, level_of

PolicyChoice = TimeLimitPolicy | Callable[[TicketState, int], TimeLimitPolicy]
"""One policy for every ticket, or a choice per ticket and start time (later versions of the
table, campaigns): ``choose(state, started_ms)``."""

_DECISION_DUTIES = ((Track.COMPLAINT, Duty.DECIDE_ACCEPTANCE), (Track.REPORT, Duty.VERIFY_REPORT))
_AWAITING_DECISION = (TicketStatus.REGISTERED, TicketStatus.ROUTED, TicketStatus.IN_HANDLING)


@dataclass(frozen=True)
class _Owed:
    """A duty owed now and the clock value its present instance started at.

    An extension asked for before ``since_hlc`` belongs to an earlier instance of the duty (an
    earlier holding, an earlier closure, an earlier order) and does not move this one.
    """

    obligation: Obligation
    since_hlc: int


def policy_for(choice: PolicyChoice, state: TicketState, started_ms: int) -> TimeLimitPolicy:
    """The table that governs a duty of ``state`` opened at ``started_ms``."""
    return choice if isinstance(choice, TimeLimitPolicy) else choice(state, started_ms)


def owed_obligations(
    state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar
) -> list[Obligation]:
    """Every timed duty ``state`` leaves open, pauses and approved extensions applied.

    Supervision reports come one per owing unit (its earliest-due open order).
    """
    return [owed.obligation for owed in _owed(state, policy, calendar)]


def _owed(state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar) -> list[_Owed]:
    """The timed duties of ``state`` with their extensions applied (see ``owed_obligations``)."""
    if state.registration is None or state.status is TicketStatus.DUPLICATE:
        return []
    found = [
        *_decisions(state, policy, calendar),
        *_mediation(state, policy, calendar),
        *_callback(state, policy, calendar),
        *_supervision_reports(state, policy, calendar),
        *_odr_answer(state, policy, calendar),
    ]
    extended = [_Owed(_extended(state, owed, calendar), owed.since_hlc) for owed in found]
    earliest: dict[str, _Owed] = {}  # each unit's earliest-due open order, deadlines as moved
    owed = []
    for one in extended:
        ob = one.obligation
        if ob.duty is not Duty.SUPERVISION_REPORT:
            owed.append(one)
        elif ob.unit_code not in earliest or ob.due_ms < earliest[ob.unit_code].obligation.due_ms:
            earliest[ob.unit_code] = one
    return owed + [earliest[unit] for unit in sorted(earliest)]


def _holder_at_work(state: TicketState) -> str:
    """The holding unit if it is a handling unit (city or county) that has the ticket, else ''."""
    holder = state.holder_unit
    if not holder or level_of(holder) not in HANDLING_LEVELS or not state.held_since_hlc:
        return ""
    return holder


def _timed(
    state: TicketState,
    policy: PolicyChoice,
    calendar: WorkingDayCalendar,
    *,
    duty: Duty,
    unit_code: str,
    since_hlc: int,
    days: int | None = None,
) -> _Owed | None:
    """``unit_code``'s ``duty`` counted from ``since_hlc``; None if the table does not time it.

    ``days`` is the limit a supervision order sets itself; the table's version is still kept.
    """
    assert state.registration is not None
    started_ms = hlc.to_millis(since_hlc)
    table = policy_for(policy, state, started_ms)
    if days is None and not table.has_limit(duty, state.registration.kind):
        return None
    ob = open_obligation(
        ticket_id=state.ticket_id,
        duty=duty,
        kind=state.registration.kind,
        unit_code=unit_code,
        started_ms=started_ms,
        policy=table,
        calendar=calendar,
        days=days,
    )
    return _Owed(ob, since_hlc)


def _decisions(
    state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar
) -> Iterator[_Owed]:
    """Accepting a complaint and verifying a report, from the moment the holder got the ticket.

    A ticket registered at a county (a walk-in, a station's registration) is held there from
    its registration, so the count starts then, as ``duty_owners`` says it is owed.
    """
    holder = _holder_at_work(state)
    if not holder or state.status not in _AWAITING_DECISION:
        return
    if state.dispute is not None and state.dispute.open:
        return  # with the enterprise: its ODR answer is owed instead (``_odr_answer``)
    for track, duty in _DECISION_DUTIES:
        t = state.track(track)
        if t is None or t.stage is not Stage.AWAITING_DECISION:
            continue
        owed = _timed(
            state, policy, calendar, duty=duty, unit_code=holder, since_hlc=state.held_since_hlc
        )
        if owed is not None:
            yield owed


def _mediation(
    state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar
) -> Iterator[_Owed]:
    """Ending mediation, counted from acceptance, moved by every pause of its clock.

    A mediation reopened for re-handling after a 不满意 callback is counted afresh from the
    reopening, with the pauses since (DOMAIN.md §5 sets no limit of its own for re-handling:
    the mediation limit is assumed, to be confirmed by the owner).
    """
    complaint = state.track(Track.COMPLAINT)
    if complaint is None or complaint.stage not in (Stage.MEDIATING, Stage.MEDIATION_PAUSED):
        return
    holder = _holder_at_work(state)
    if not holder or not complaint.accepted_hlc:
        return
    owed = _timed(
        state,
        policy,
        calendar,
        duty=Duty.END_MEDIATION,
        unit_code=holder,
        since_hlc=max(complaint.accepted_hlc, complaint.reopened_hlc),
    )
    if owed is None:
        return
    ob = owed.obligation
    for stopped in (p for p in complaint.pauses if p.started_hlc >= owed.since_hlc):
        ob = pause(ob, hlc.to_millis(stopped.started_hlc))
        ob = resume(ob, hlc.to_millis(stopped.ended_hlc), calendar)
    if complaint.paused_since_hlc:
        ob = pause(ob, hlc.to_millis(complaint.paused_since_hlc))
    yield _Owed(ob, owed.since_hlc)


def _callback(
    state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar
) -> Iterator[_Owed]:
    """The callback (回访) of a closed ticket, counted from its closure, owed by its holder.

    ``awaiting_callback`` is set by each closure and cleared by the callback, and a 不满意
    callback's reopening clears ``closed_hlc``: after re-handling, the next closure starts a
    new count (with its own reminders, since they are keyed by the deadline, and its own
    escalations, since the callback ended the earlier ones). Which ticket kinds are owed a
    timed callback is the table's business (the default: complaints and composites).
    """
    if state.status is not TicketStatus.CLOSED or not state.awaiting_callback:
        return
    if not state.holder_unit or not state.closed_hlc:
        return
    owed = _timed(
        state,
        policy,
        calendar,
        duty=Duty.CALLBACK,
        unit_code=state.holder_unit,
        since_hlc=state.closed_hlc,
    )
    if owed is not None:
        yield owed


def _supervision_reports(
    state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar
) -> Iterator[_Owed]:
    """The written report on each open supervision order, due in the order's own working days.

    An approved extension of SUPERVISION_REPORT asked for by the order's unit after the order
    was issued moves it (the request names the duty, not the order): the unit asked for more
    time on the reports it owed then.
    """
    for order in state.supervision_orders:
        if order.reported:
            continue
        owed = _timed(
            state,
            policy,
            calendar,
            duty=Duty.SUPERVISION_REPORT,
            unit_code=order.to_unit,
            since_hlc=order.ordered_hlc,
            days=order.days,
        )
        assert owed is not None  # an order's own days always time it
        yield owed


def _odr_answer(
    state: TicketState, policy: PolicyChoice, calendar: WorkingDayCalendar
) -> Iterator[_Owed]:
    """The enterprise's settlement of an open ODR dispute, from its opening (ODR 时限)."""
    dispute = state.dispute
    if dispute is None or not dispute.open:
        return
    owed = _timed(
        state,
        policy,
        calendar,
        duty=Duty.ODR_ANSWER,
        unit_code=dispute.enterprise_unit,
        since_hlc=dispute.opened_hlc,
    )
    if owed is not None:
        yield owed


def _extended(state: TicketState, owed: _Owed, calendar: WorkingDayCalendar) -> Obligation:
    """The obligation with the extensions approved for this instance of its duty.

    An extension counts when its unit asked for it on this duty after the duty started. The
    table's cap (reports: +15 WD in all) bounds what is added even when a decision granted more:
    a signed decision is a fact to apply, not a reason to stop counting.
    """
    ob = owed.obligation
    for granted in state.extensions:
        if not (
            granted.approved
            and granted.duty is ob.duty
            and granted.requested_unit == ob.unit_code
            and granted.requested_hlc >= owed.since_hlc
        ):
            continue
        days = granted.days
        if ob.max_extension_days is not None:
            days = min(days, ob.max_extension_days - ob.extension_days)
        if days > 0:
            ob = extend(ob, days, hlc.to_millis(granted.decided_hlc), calendar)
    return ob
