"""A ticket's progress as its consumer reads it (办理进度), in Chinese: ``TicketProgress``.

The steps are those ``core.ticket.consumer_progress`` lets the consumer see; this puts them
into the words a consumer reads (the command line's terms, ``node.cli.terms``), names the units
from the roster, and adds the step awaited now with its due time from the ticket's obligations
(the CALLBACK duty is the bureau's, so a closed ticket awaiting it shows the rating as open).
Nothing here names an officer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.hlc import to_millis
from core.ticket import events as e
from core.ticket.consumer_progress import ConsumerStep
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import Duty
from node.cli.terms import TERMS
from proto.hotline.v1 import consumer_pb2, intake_pb2
from sync.codec import enum_number

UnitName = Callable[[str], str]
"""A unit's name from its code ('' when not known here)."""

INTERNAL_DUTIES = frozenset({Duty.SUPERVISION_REPORT.value})
"""Duties a consumer is not shown: a unit's report to the unit above it is theirs."""


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _sentence(step: ConsumerStep, unit_name: UnitName) -> str:
    """The step in the words a consumer reads."""

    def named(code: str) -> str:
        return unit_name(code) or code

    match step.event:
        case e.TicketRegistered(channel=channel):
            said = f"已登记（{TERMS[channel]}）"
        case e.TicketRouted(to_unit=to) | e.TicketForwarded(to_unit=to):
            said = f"已转交{named(to)}办理"
        case e.TicketReturned():
            said = "已退回重新分派"
        case e.ComplaintAccepted():
            said = "已受理"
        case e.ComplaintRefused(ground=ground):
            said = f"不予受理（{TERMS[ground]}）"
        case e.TicketAssigned(station_code=station):
            said = f"已交由{named(station)}办理"
        case e.MediationPaused():
            said = "调解中止"
        case e.MediationResumed():
            said = "调解恢复"
        case e.MediationEnded(outcome=outcome, amount_recovered_fen=fen):
            said = f"调解终结（{TERMS[outcome]}）"
            if fen:
                said += f"，为您挽回经济损失{_yuan(fen)}元"
        case e.ReportVerified(finding=finding):
            said = f"举报已核查（{TERMS[finding]}）"
        case e.CaseOpened():
            said = "已立案调查"
        case e.ResultApproved():
            said = "已办结"
        case e.InquiryAnswered():
            said = "已答复"
        case e.CallbackRecorded(satisfaction=satisfaction):
            said = f"回访评价：{TERMS[satisfaction]}"
        case e.TicketReopened():
            said = "重新办理（回炉重办）"
        case _:
            said = ""
    return f"{said}：{step.text}" if step.text else said


def _current(
    deadlines: Sequence[intake_pb2.DutyDeadline], holder: str
) -> intake_pb2.DutyDeadline | None:
    """The step awaited now: the holder's earliest-due duty a consumer is shown."""
    owed = [d for d in deadlines if d.duty not in INTERNAL_DUTIES and d.unit_code == holder]
    return min(owed, key=lambda d: d.due_ms) if owed else None


def ticket_progress(
    state: TicketState,
    steps: Sequence[ConsumerStep],
    deadlines: Sequence[intake_pb2.DutyDeadline],
    unit_name: UnitName,
) -> consumer_pb2.TicketProgress:
    """The consumer's view of their ticket (``odr`` and ``can_answer_proposal`` are the ODR
    view's to fill)."""
    registration = state.registration
    assert registration is not None, "a ticket held without its registration has no progress"
    progress = consumer_pb2.TicketProgress(
        ticket_id=state.ticket_id,
        kind=enum_number(registration.kind),
        status=state.status.name,
        holding_unit=state.holder_unit,
        holding_unit_name=unit_name(state.holder_unit),
    )
    progress.registered_at.FromDatetime(registration.received_at)
    for step in steps:
        shown = progress.steps.add(
            what=step.what,
            unit=step.unit,
            unit_name=unit_name(step.unit),
            text=_sentence(step, unit_name),
        )
        shown.at.FromMilliseconds(to_millis(step.hlc))
    current = _current(deadlines, state.holder_unit)
    if current is not None:
        progress.current_duty = enum_number(Duty(current.duty))
        progress.due_at.FromMilliseconds(current.due_ms)
    closed = state.status is TicketStatus.CLOSED
    progress.can_rate = closed and state.awaiting_callback
    if closed and not state.awaiting_callback and state.callbacks:
        progress.rating = enum_number(state.callbacks[-1].satisfaction)
    return progress
