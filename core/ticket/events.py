"""The facts of a ticket's life: one frozen dataclass per event type.

An event says what happened, never what should happen; once signed it is never changed
(DOMAIN.md §7). Who recorded it, where and when travel beside it in ``EventMeta``. Each class
mirrors the ``hotline.v1`` message of the same name field for field, so the codec in
``sync.codec`` translates without per-type code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.odr.dispute import ContactMethod, ConversionReason
from core.officers import OfficerRef
from core.ticket.vocabulary import (
    NO_COMMITMENT,
    Attachment,
    Channel,
    Consumer,
    Duty,
    Finding,
    JurisdictionBasis,
    MediationOutcome,
    PersonalCommitment,
    PersonalField,
    RefusalGround,
    ReminderLevel,
    Respondent,
    ReturnReason,
    Satisfaction,
    SourceLine,
    TerminationReason,
    TicketKind,
    Track,
)


@dataclass(frozen=True)
class TicketRegistered:
    """A call, message or visit registered as a ticket (登记).

    As decided from a command it carries the filer in ``consumer``; as signed it carries only
    ``personal``, a commitment to the filer's data sealed beside the log (the node seals it
    before signing: ``sync.personal``), and ``consumer`` is empty.
    """

    ticket_id: str
    kind: TicketKind
    channel: Channel
    source_line: SourceLine
    consumer: Consumer
    respondent: Respondent
    category: str
    facts: str
    request: str
    amount_fen: int
    incident_region: str
    received_at: datetime
    registering_unit: str
    tags: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    duplicate_of: str = ""
    personal: PersonalCommitment = NO_COMMITMENT


@dataclass(frozen=True)
class TicketRouted:
    """The ticket was dispatched to a unit (分流/派单); a relay goes via a hub."""

    to_unit: str
    basis: JurisdictionBasis
    note: str = ""


@dataclass(frozen=True)
class TicketReturned:
    """The unit holding the ticket is not competent and sends it back (退回)."""

    reason: ReturnReason
    note: str
    to_unit: str


@dataclass(frozen=True)
class ComplaintAccepted:
    """The competent unit accepted the complaint (受理); mediation may start."""

    note: str = ""


@dataclass(frozen=True)
class ComplaintRefused:
    """The unit declined the complaint on a legal ground and sent a notice (不予受理)."""

    ground: RefusalGround
    notice: str


@dataclass(frozen=True)
class TicketAssigned:
    """The county handed the ticket to one of its stations, which acts in its name."""

    station_code: str
    note: str = ""


@dataclass(frozen=True)
class MediationPaused:
    """Testing or appraisal started; the mediation clock stops."""

    reason: str


@dataclass(frozen=True)
class MediationResumed:
    """Testing or appraisal ended; the mediation clock runs again."""

    note: str = ""


@dataclass(frozen=True)
class MediationEnded:
    """Mediation ended with an outcome; money recovered is in fen (分)."""

    outcome: MediationOutcome
    termination_reason: TerminationReason | None = None
    agreement: str = ""
    amount_recovered_fen: int = 0


@dataclass(frozen=True)
class ReportVerified:
    """The report was verified: substantiated or not (属实/不属实), with the evidence."""

    finding: Finding
    evidence: str


@dataclass(frozen=True)
class CaseOpened:
    """A substantiated report became an enforcement case (立案 / 诉转案)."""

    case_number: str
    note: str = ""


@dataclass(frozen=True)
class ResultSubmitted:
    """A handler wrote and signed the result of one track (办理结果)."""

    track: Track
    handling_unit: str
    handler_id: str
    handler_name: str
    summary: str


@dataclass(frozen=True)
class ResultApproved:
    """The unit head approved the result; the track is closed (签字负责制)."""

    track: Track
    note: str = ""


@dataclass(frozen=True)
class ResultRejected:
    """The unit head sent the result back to the handler."""

    track: Track
    reason: str


@dataclass(frozen=True)
class InquiryAnswered:
    """A consultation or suggestion was answered; nothing more to do."""

    answer: str


@dataclass(frozen=True)
class CallbackRecorded:
    """The consumer rated the handling on callback (回访)."""

    satisfaction: Satisfaction
    note: str = ""


@dataclass(frozen=True)
class TicketReopened:
    """The ticket goes back to its unit for re-handling (回炉重办)."""

    reason: str


@dataclass(frozen=True)
class ReminderSent:
    """A sweep reminded of a duty due at ``due_ms`` (三级催办; DOMAIN.md §6).

    Recorded by a node's sweep (acting as a system officer of its unit), not by an officer's
    command. ``level`` says who was told: the handler, the unit head, or the supervising unit
    above ``unit_code``. The fold counts a reminder once per (duty, level, unit, due time),
    however many nodes sent it.
    """

    duty: Duty
    level: ReminderLevel
    unit_code: str
    """The unit that owes the duty (its handler or head is reminded, or the unit above it)."""
    due_ms: int
    """When the duty falls due, epoch milliseconds: tells one deadline from a moved one."""
    missed: bool = False
    """True when nobody was told: the moment to remind passed while the node that owes the
    reminder was down or cut off (漏催), and a reminder sent late, in a burst, would mislead.
    Recorded so the history shows the reminder was missed rather than silently absent."""


@dataclass(frozen=True)
class TicketEscalated:
    """An overdue duty entered a supervision queue above the unit that owes it (督办).

    Level 1 is the parent of ``from_unit``, level 2 its grandparent, never above the province.
    Recorded by a sweep; two levels cut off from each other may both record the same
    escalation, and the fold counts it once per (duty, owing unit, level).
    """

    duty: Duty
    from_unit: str
    """The unit that owes the duty and let it run over."""
    to_unit: str
    """The unit whose supervision queue the ticket enters."""
    level: int
    """How many levels above ``from_unit``: 1, 2, ..."""
    due_ms: int
    """When the duty fell due, epoch milliseconds."""


@dataclass(frozen=True)
class ExtensionRequested:
    """The holding unit asked for more time for a duty, with its reasons (延期申请)."""

    duty: Duty
    days: int
    """Working days asked for."""
    reason: str


@dataclass(frozen=True)
class ExtensionDecided:
    """A unit above the holder approved or denied the pending extension of a duty (延期审批)."""

    duty: Duty
    approved: bool
    days: int
    """Working days granted (at most those asked for); 0 when denied."""
    note: str = ""


@dataclass(frozen=True)
class SupervisionOrdered:
    """A higher unit put the ticket under supervision (跟踪督办): a written report is owed.

    ``order_id`` is chosen by the ordering node, unique within the ticket; ``to_unit`` must
    answer within ``days`` working days with a ``SupervisionReported``.
    """

    order_id: str
    to_unit: str
    days: int
    """Working days the report is due in."""
    instructions: str


@dataclass(frozen=True)
class SupervisionReported:
    """The supervised unit answered a supervision order in writing (督办回复)."""

    order_id: str
    report: str


@dataclass(frozen=True)
class GroupIncidentLinked:
    """The ticket is one of a group of complaints against one business (群体投诉; DOMAIN.md §6).

    Recorded by a node's sweep (``node.jobs.detection``) on every member of the group; the incident
    enters the supervision queue of the city ``to_unit``. ``incident_id`` is derived from the
    group itself (``core.incidents.incident_id_for``), so nodes that detect the same group
    record the same fact; where links to two ids meet, the ticket keeps the smallest id.
    """

    incident_id: str
    respondent_key: str
    """The business, as compared (``uscc:<credit code>`` or ``name:<name>@<county>``)."""
    to_unit: str
    """The city whose supervision queue the incident is in."""


@dataclass(frozen=True)
class EmergencyEscalated:
    """The ticket is an emergency and goes to the province's queue at once (紧急事件).

    Recorded with the registration by the registering node (its system officer) when the
    category or the facts match the emergency rules (``core.incidents.EmergencyRule``).
    """

    reasons: tuple[str, ...]
    """What matched: ``keyword:食物中毒``, ``category:突发事件``."""
    to_unit: str
    """The province (or the national level) whose queue the emergency is in."""


@dataclass(frozen=True)
class ProfessionalClaimantFlagged:
    """The filer looks like a professional claimant: answer uniformly (职业索赔; DOMAIN.md §6).

    Recorded by a node's sweep on each ticket of a filer with many tickets across businesses
    in a short time. No personal data: the flag says how the filer was recognised, never the
    identifier (it would outlive the erasure of the ticket's personal data).
    """

    filer: str
    """How the filer was recognised: ``手机号相同 (same phone number)`` or ``身份证号相同``."""
    tickets: int
    """The filer's tickets in the window(s) that met the rule."""
    businesses: int
    """Different businesses they are against."""
    window_days: int
    """The rule's window, calendar days."""
    related_ticket_ids: tuple[str, ...] = ()
    """The filer's other tickets found (at most 50), for a uniform answer."""


@dataclass(frozen=True)
class PersonalDataRevealed:
    """An officer saw one of the ticket's personal fields in full (查看个人信息).

    Who, from which unit and when travel in the envelope; the purpose is theirs. Recorded in
    the same transaction as the look, so no look goes unrecorded, and replicated up like every
    event, so the units above see it.
    """

    field: PersonalField
    purpose: str


@dataclass(frozen=True)
class PersonalDataErased:
    """The ticket's personal data was erased at the end of its retention period (个人信息删除).

    Every node that folds it deletes its sealed copy and keyed look-ups; the signed log, the
    commitment included, stays whole, so every signature and chain link still verifies.
    """

    reason: str
    retention_days: int


@dataclass(frozen=True)
class TicketForwarded:
    """A county or station hands on a walk-in (来访) it registered for elsewhere (转办).

    Recorded with the registration, in the same transaction, by the registering node's system
    officer, when the ticket's competent unit (``core.routing.walk_in_handover``) lies outside
    the registering county. It is not a dispatch (a county does not dispatch): it hands the
    ticket to the competent city or county of the same province, or to the dispatchers of the
    lowest unit above both counties. That unit, ``supervising_unit``, is where a return goes.
    """

    to_unit: str
    """The unit that holds the ticket from now on."""
    basis: JurisdictionBasis
    """Why that unit (``RELAY`` when it goes to the supervising unit's dispatchers)."""
    supervising_unit: str
    """The lowest unit above both the registering county and ``to_unit``: it dispatches the
    ticket again if ``to_unit`` returns it (退回)."""
    note: str = ""


@dataclass(frozen=True)
class OdrDisputeOpened:
    """The consumer chose the ODR green channel (绿色通道): the complaint goes to the enterprise.

    Recorded with the registration, in its transaction, by the registering node; the ticket is
    held from then on by ``enterprise_unit``, the county that enrolled the enterprise (read off
    the ODR roster at registration), without dispatch.
    """

    credit_code: str
    enterprise_name: str
    enterprise_unit: str


@dataclass(frozen=True)
class OdrContactRecorded:
    """The enterprise recorded a contact with the consumer: when, how, with what result."""

    method: ContactMethod
    contacted_at: datetime
    result: str


@dataclass(frozen=True)
class OdrSettlementProposed:
    """The enterprise proposed a settlement (和解方案) for the consumer to accept or reject."""

    terms: str
    amount_fen: int = 0


@dataclass(frozen=True)
class OdrProposalAnswered:
    """The consumer accepted (the dispute is settled, the ticket closes) or rejected it."""

    accepted: bool
    reason: str = ""


@dataclass(frozen=True)
class OdrDisputeClosed:
    """The dispute was closed without settlement because the consumer withdrew (撤回)."""

    note: str


@dataclass(frozen=True)
class OdrDisputeConverted:
    """The dispute became a formal complaint (转为投诉) at the competent unit.

    Rejected by the consumer, declined by the enterprise, or not settled within the ODR limit.
    Like a forward (``TicketForwarded``), it hands the ticket to the unit ``core.routing``
    finds competent (``core.odr.conversion``), naming the unit above that dispatches it again
    if it is returned; the complaint's own duties count from this event.
    """

    reason: ConversionReason
    to_unit: str
    basis: JurisdictionBasis
    supervising_unit: str
    note: str = ""


DomainEvent = (
    TicketRegistered
    | TicketRouted
    | TicketReturned
    | ComplaintAccepted
    | ComplaintRefused
    | TicketAssigned
    | MediationPaused
    | MediationResumed
    | MediationEnded
    | ReportVerified
    | CaseOpened
    | ResultSubmitted
    | ResultApproved
    | ResultRejected
    | InquiryAnswered
    | CallbackRecorded
    | TicketReopened
    | ReminderSent
    | TicketEscalated
    | ExtensionRequested
    | ExtensionDecided
    | SupervisionOrdered
    | SupervisionReported
    | GroupIncidentLinked
    | EmergencyEscalated
    | ProfessionalClaimantFlagged
    | TicketForwarded
    | PersonalDataRevealed
    | PersonalDataErased
    | OdrDisputeOpened
    | OdrContactRecorded
    | OdrSettlementProposed
    | OdrProposalAnswered
    | OdrDisputeClosed
    | OdrDisputeConverted
)

EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    TicketRegistered,
    TicketRouted,
    TicketReturned,
    ComplaintAccepted,
    ComplaintRefused,
    TicketAssigned,
    MediationPaused,
    MediationResumed,
    MediationEnded,
    ReportVerified,
    CaseOpened,
    ResultSubmitted,
    ResultApproved,
    ResultRejected,
    InquiryAnswered,
    CallbackRecorded,
    TicketReopened,
    ReminderSent,
    TicketEscalated,
    ExtensionRequested,
    ExtensionDecided,
    SupervisionOrdered,
    SupervisionReported,
    GroupIncidentLinked,
    EmergencyEscalated,
    ProfessionalClaimantFlagged,
    TicketForwarded,
    PersonalDataRevealed,
    PersonalDataErased,
    OdrDisputeOpened,
    OdrContactRecorded,
    OdrSettlementProposed,
    OdrProposalAnswered,
    OdrDisputeClosed,
    OdrDisputeConverted,
)


def event_name(event: DomainEvent) -> str:
    """The event's type name, as used in messages and in the proto package."""
    return type(event).__name__


@dataclass(frozen=True)
class EventMeta:
    """Where, when and by whom an event was recorded; fixed by the signed envelope.

    ``hlc`` is the hybrid logical clock value (``core.hlc``); ``ticket_version`` is how many of
    the ticket's events the recording node held when it recorded this one (raised above every
    held event's own version where the node holds only part of the history:
    ``core.ticket.fold.next_ticket_version``), so the fold can tell a step taken in ignorance
    of another (two offline nodes) from one taken after it.
    """

    event_id: str
    ticket_id: str
    origin_node: str
    origin_seq: int
    hlc: int
    officer: OfficerRef
    ticket_version: int = 0


@dataclass(frozen=True)
class RecordedEvent:
    """A domain event together with its envelope facts: the unit the fold works on."""

    meta: EventMeta
    event: DomainEvent

    @property
    def order_key(self) -> tuple[int, str, int]:
        """Clock order: clock, then node id, then the node's sequence.

        A total order for listing events by when they were recorded. It is not the order of
        the fold, which puts causes first and, among concurrent events, the higher level's
        (``core.ticket.fold.fold_order``).
        """
        return (self.meta.hlc, self.meta.origin_node, self.meta.origin_seq)
