"""Commands: what an officer asks to do to a ticket. Checked before they become events.

Each command mirrors the body of one ``CaseworkService`` or ``IntakeService`` request (field for
field, so the gRPC edge translates without per-type code). ``core.ticket.decisions`` turns a
command into events or refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.ticket.vocabulary import (
    Attachment,
    Channel,
    Consumer,
    Duty,
    Finding,
    MediationOutcome,
    RefusalGround,
    Respondent,
    ReturnReason,
    Satisfaction,
    SourceLine,
    TerminationReason,
    TicketKind,
    Track,
)


@dataclass(frozen=True)
class RegisterTicket:
    """Register a call, message or visit as a new ticket (登记)."""

    kind: TicketKind
    channel: Channel
    source_line: SourceLine
    consumer: Consumer
    respondent: Respondent
    category: str
    facts: str
    request: str = ""
    amount_fen: int = 0
    incident_region: str = ""
    tags: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    odr_green_channel: bool = False
    """The consumer chose the ODR green channel (绿色通道): a complaint against an enterprise on
    the ODR roster goes straight to it, without dispatch (``core.odr.dispute_decisions``)."""


@dataclass(frozen=True)
class RouteTicket:
    """Dispatch the ticket; an empty ``to_unit`` routes it by jurisdiction."""

    to_unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class ReturnTicket:
    """Send the ticket back to its dispatcher: this unit is not competent (退回)."""

    reason: ReturnReason
    note: str


@dataclass(frozen=True)
class AcceptComplaint:
    """Accept the complaint (受理)."""

    note: str = ""


@dataclass(frozen=True)
class RefuseComplaint:
    """Decline the complaint on a legal ground, with the notice to the consumer (不予受理)."""

    ground: RefusalGround
    notice: str


@dataclass(frozen=True)
class AssignToStation:
    """Hand the ticket to one of the county's stations."""

    station_code: str
    note: str = ""


@dataclass(frozen=True)
class PauseMediation:
    """Stop the mediation clock for testing or appraisal."""

    reason: str


@dataclass(frozen=True)
class ResumeMediation:
    """Restart the mediation clock."""

    note: str = ""


@dataclass(frozen=True)
class EndMediation:
    """End mediation with an outcome; a termination needs its reason."""

    outcome: MediationOutcome
    termination_reason: TerminationReason | None = None
    agreement: str = ""
    amount_recovered_fen: int = 0


@dataclass(frozen=True)
class VerifyReport:
    """Record whether the report is substantiated; "not substantiated" needs evidence."""

    finding: Finding
    evidence: str


@dataclass(frozen=True)
class OpenCase:
    """Open an enforcement case on a substantiated report (立案)."""

    case_number: str
    note: str = ""


@dataclass(frozen=True)
class SubmitResult:
    """Write and sign the result of one track; the acting officer is the handler."""

    track: Track
    summary: str


@dataclass(frozen=True)
class ApproveResult:
    """Approve a submitted result as unit head; the track closes."""

    track: Track
    note: str = ""


@dataclass(frozen=True)
class RejectResult:
    """Send a submitted result back to the handler."""

    track: Track
    reason: str


@dataclass(frozen=True)
class AnswerInquiry:
    """Answer a consultation or suggestion."""

    answer: str


@dataclass(frozen=True)
class RecordCallback:
    """Record the consumer's rating; 不满意 reopens the ticket for re-handling."""

    satisfaction: Satisfaction
    note: str = ""


@dataclass(frozen=True)
class RequestExtension:
    """Ask a unit above for more working days for a duty, with the reasons (延期申请)."""

    duty: Duty
    days: int
    reason: str


@dataclass(frozen=True)
class DecideExtension:
    """Approve or deny the pending extension of a duty; ``days`` 0 approves what was asked.

    A denial states its reason in ``note``.
    """

    duty: Duty
    approved: bool
    days: int = 0
    note: str = ""


@dataclass(frozen=True)
class OrderSupervision:
    """Put the ticket under supervision (跟踪督办): ``to_unit`` reports within ``days``.

    ``order_id`` is chosen by the caller (unique within the ticket), so a retried order is
    refused as already issued rather than issued twice.
    """

    order_id: str
    to_unit: str
    days: int
    instructions: str


@dataclass(frozen=True)
class ReportSupervision:
    """Answer a supervision order in writing (督办回复)."""

    order_id: str
    report: str


TicketCommand = (
    RouteTicket
    | ReturnTicket
    | AcceptComplaint
    | RefuseComplaint
    | AssignToStation
    | PauseMediation
    | ResumeMediation
    | EndMediation
    | VerifyReport
    | OpenCase
    | SubmitResult
    | ApproveResult
    | RejectResult
    | AnswerInquiry
    | RecordCallback
    | RequestExtension
    | DecideExtension
    | OrderSupervision
    | ReportSupervision
)
"""A command on an existing ticket (registration creates one and stands apart)."""
