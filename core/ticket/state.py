"""What a ticket is right now: the state that folding its events produces.

State is never stored as the truth; it is recomputed from events (``core.ticket.fold``) and kept
in a projection table only as a view. Every field here mirrors the ``hotline.v1.Ticket``
message so the view can be sent as it is. The one thing the fold remembers beyond the view
(the highest ``ticket_version`` folded, which ``fold.sorts_last`` needs) is therefore kept
outside the dataclass fields: see ``TicketState.highest_ticket_version``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.odr.dispute import OdrDispute
from core.ticket.events import TicketRegistered
from core.ticket.vocabulary import (
    Duty,
    EscalationOutcome,
    Finding,
    MediationOutcome,
    PersonalField,
    RefusalGround,
    ReminderLevel,
    Satisfaction,
    TerminationReason,
    Track,
)


class TicketStatus(enum.Enum):
    """Where the ticket stands as a whole."""

    UNKNOWN = "unknown"  # events are held but not the registration (history incomplete here)
    REGISTERED = "registered"  # registered, not yet dispatched
    ROUTED = "routed"  # dispatched; awaiting the unit's decision
    RETURNED = "returned"  # sent back to the dispatcher, to be routed again
    IN_HANDLING = "in_handling"  # at least one track has moved past the first decision
    CLOSED = "closed"  # every track closed or refused
    DUPLICATE = "duplicate"  # linked to an earlier ticket on the same matter; not handled twice


class Stage(enum.Enum):
    """Where one track stands."""

    AWAITING_DECISION = "awaiting_decision"  # accept/refuse, verify, or answer
    MEDIATING = "mediating"
    MEDIATION_PAUSED = "mediation_paused"  # testing or appraisal: the clock is stopped
    MEDIATION_ENDED = "mediation_ended"
    VERIFIED = "verified"  # report: finding recorded, case may be opened
    RESULT_SUBMITTED = "result_submitted"  # awaiting the unit head's approval
    CLOSED = "closed"
    REFUSED = "refused"  # complaint not accepted (不予受理)

    @property
    def is_done(self) -> bool:
        """True when nothing more happens on this track unless the ticket is reopened."""
        return self in (Stage.CLOSED, Stage.REFUSED)


@dataclass(frozen=True)
class Result:
    """A signed result awaiting or past approval (签字负责制)."""

    handling_unit: str
    handler_id: str
    handler_name: str
    summary: str
    submitted_hlc: int
    approver_id: str = ""
    approver_name: str = ""


@dataclass(frozen=True)
class Pause:
    """One stretch of stopped mediation clock (testing or appraisal), from start to end."""

    started_hlc: int
    ended_hlc: int


@dataclass(frozen=True)
class TrackState:
    """One procedure of the ticket (complaint, report or inquiry) and how far it has come."""

    track: Track
    stage: Stage = Stage.AWAITING_DECISION
    accepted_hlc: int = 0
    refusal_ground: RefusalGround | None = None
    refusal_notice: str = ""
    paused_since_hlc: int = 0
    paused_ms: int = 0
    mediation_outcome: MediationOutcome | None = None
    termination_reason: TerminationReason | None = None
    amount_recovered_fen: int = 0
    finding: Finding | None = None
    evidence: str = ""
    case_number: str = ""
    answer: str = ""
    result: Result | None = None
    closed_hlc: int = 0
    pauses: tuple[Pause, ...] = ()
    """The finished pauses of the mediation clock, in order (the deadline moves by them)."""
    reopened_hlc: int = 0
    """When the ticket was last reopened for re-handling (回炉重办); a re-handled mediation is
    counted from then, not from the first acceptance."""


@dataclass(frozen=True)
class Callback:
    """One callback to the consumer after closure (回访)."""

    satisfaction: Satisfaction
    note: str
    officer_id: str
    recorded_hlc: int


@dataclass(frozen=True)
class Conflict:
    """A signed event the fold could not apply in its place: kept, shown to a supervisor."""

    event_id: str
    event_type: str
    origin_node: str
    reason: str


@dataclass(frozen=True)
class ReminderRecord:
    """A reminder of a duty that was sent (三级催办), counted once however many nodes sent it."""

    duty: Duty
    level: ReminderLevel
    unit_code: str  # the unit that owes the duty
    due_ms: int  # the deadline reminded of, epoch milliseconds
    sent_hlc: int  # clock of the first such reminder in fold order
    missed: bool = False  # nobody was told: the node owing it was down then (漏催)


@dataclass(frozen=True)
class Escalation:
    """An overdue duty standing in a supervision queue above the unit that owes it (督办).

    Only escalations of duties still owed are kept: the step that ends the duty
    (``core.ticket.duties.duties_done_by``) or an approved extension removes them; the
    ``TicketEscalated`` events stay in the log as history. One per (duty, from_unit, level).
    """

    duty: Duty
    level: int  # 1 = parent of from_unit, 2 = grandparent, ... up to the province
    from_unit: str  # the unit that owes the duty
    to_unit: str  # the unit whose supervision queue the ticket is in
    due_ms: int  # when the duty fell due, epoch milliseconds
    escalated_hlc: int  # clock of the first such escalation in fold order
    origin_node: str  # the node that recorded that escalation


@dataclass(frozen=True)
class EscalationRecord:
    """One ``TicketEscalated`` event as the fold judged it: counted, ended, superseded...

    ``Escalation`` lists what stands in a queue now; this is the history a supervisor reads to
    see who escalated what, when, and whether it counts against the unit (``outcome``).
    """

    duty: Duty
    level: int
    from_unit: str  # the unit that owed the duty
    to_unit: str  # the unit whose supervision queue it entered
    due_ms: int  # the deadline it was about, epoch milliseconds
    escalated_hlc: int  # clock of this escalation
    origin_node: str  # the node that recorded it
    event_id: str
    outcome: EscalationOutcome
    ended_hlc: int = 0  # clock of the step that ended it (ENDED, SUPERSEDED), else 0


@dataclass(frozen=True)
class Extension:
    """One extension request (延期) and its decision.

    Pending while ``decided_hlc`` and ``lapsed_hlc`` are both 0. It lapses, undecided, when
    the duty it was asked for ends first (done, or the ticket routed elsewhere).
    """

    duty: Duty
    requested_days: int  # working days asked for
    reason: str
    requested_unit: str  # the holding unit that asked
    requested_hlc: int
    approved: bool = False
    days: int = 0  # working days granted; 0 unless approved
    note: str = ""  # the deciding unit's note
    decided_unit: str = ""  # the unit above the holder that decided
    decided_hlc: int = 0  # 0 = not decided
    lapsed_hlc: int = 0  # the duty ended before a decision; 0 = it did not

    @property
    def pending(self) -> bool:
        """True while the request awaits a decision."""
        return not self.decided_hlc and not self.lapsed_hlc


@dataclass(frozen=True)
class SupervisionOrder:
    """A supervision order (跟踪督办) from a unit above ``to_unit`` and the report on it."""

    order_id: str
    from_unit: str  # the ordering unit
    to_unit: str  # the unit that must report
    days: int  # working days the report is due in
    instructions: str
    ordered_hlc: int
    report: str = ""
    reported_hlc: int = 0  # 0 = not yet reported

    @property
    def reported(self) -> bool:
        """True once the written report is in."""
        return bool(self.reported_hlc)


@dataclass(frozen=True)
class GroupIncident:
    """The group incident a ticket belongs to (群体投诉): the smallest id it was linked to.

    Several nodes may link a ticket, to the same id or (having seen different parts of the
    group) to different ones; the smallest id wins whatever the order, so all the members of
    a group end on one id (``core.incidents``).
    """

    incident_id: str
    respondent_key: str  # the business, as compared
    to_unit: str  # the city whose supervision queue the incident is in
    linked_hlc: int  # clock of the first link to this id in fold order
    origin_node: str  # the node that recorded that link


@dataclass(frozen=True)
class Emergency:
    """The ticket is an emergency, in a province's queue (紧急事件); the first flag counts."""

    reasons: tuple[str, ...]  # what matched: "keyword:食物中毒", "category:突发事件"
    to_unit: str  # the province (or national) whose queue it is in
    escalated_hlc: int  # clock of the first such event in fold order
    origin_node: str  # the node that recorded it


@dataclass(frozen=True)
class ProfessionalClaimant:
    """The filer was flagged as a possible professional claimant (职业索赔).

    The first flag in fold order counts; later ones are history.
    """

    filer: str  # how the filer was recognised ("手机号相同 (same phone number)")
    tickets: int  # the filer's tickets found
    businesses: int  # different businesses they are against
    window_days: int  # the rule's window, calendar days
    related_ticket_ids: tuple[str, ...]  # the filer's other tickets found
    flagged_hlc: int  # clock of the first flag in fold order
    origin_node: str  # the node that recorded it


@dataclass(frozen=True)
class PersonalReveal:
    """One look at a personal field in full (查看个人信息): who, from where, why and when."""

    field: PersonalField
    purpose: str
    officer_id: str
    officer_name: str
    unit_code: str
    revealed_hlc: int
    event_id: str


HIGHEST_TICKET_VERSION = "_highest_ticket_version"
"""Where the fold keeps ``TicketState.highest_ticket_version`` in the instance's ``__dict__``
(set by ``lifecycle.copy_with``; not a dataclass field, so not part of the view)."""


@dataclass(frozen=True)
class TicketState:
    """The folded state of one ticket."""

    ticket_id: str
    registration: TicketRegistered | None = None
    status: TicketStatus = TicketStatus.UNKNOWN
    holder_unit: str = ""
    last_router_unit: str = ""
    assigned_station: str = ""
    dispatch_count: int = 0
    return_count: int = 0
    reopen_count: int = 0
    awaiting_callback: bool = False
    returned: bool = False
    tracks: tuple[TrackState, ...] = ()
    units_involved: tuple[str, ...] = ()
    """Every unit that has held the ticket or been assigned to it, in order of first involvement:
    what a receiver checks a replicated step against (a county cannot act on a ticket it
    never had)."""
    callbacks: tuple[Callback, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    held_since_hlc: int = 0
    """Clock of the event that gave the current holder the ticket (its registration there, a
    routing or a return to it): where the holder's acceptance and verification duties start."""
    escalations: tuple[Escalation, ...] = ()
    """Overdue duties standing in supervision queues above their unit, in order of escalation."""
    escalation_history: tuple[EscalationRecord, ...] = ()
    """Every escalation event folded, in fold order, with what became of it."""
    reminders_sent: tuple[ReminderRecord, ...] = ()
    """Reminders sent so far, each once (kept as history after the duty is done)."""
    extensions: tuple[Extension, ...] = ()
    """Extension requests in order, pending, decided or lapsed."""
    supervision_orders: tuple[SupervisionOrder, ...] = ()
    """Supervision orders in order, with their reports."""
    incident: GroupIncident | None = None
    """The group incident the ticket is linked to (群体投诉), if any."""
    emergency: Emergency | None = None
    """Set when the ticket is an emergency sent to a province's queue (紧急事件)."""
    claimant: ProfessionalClaimant | None = None
    """Set when the filer was flagged as a possible professional claimant (职业索赔)."""
    registered_hlc: int = 0
    last_hlc: int = 0
    closed_hlc: int = 0
    version: int = 0
    reveals: tuple[PersonalReveal, ...] = ()
    """Every look at a personal field in full, in fold order (a reporter's identity included)."""
    personal_erased_hlc: int = 0
    """Clock of the first erasure of the personal data in fold order; 0 while it is held."""
    dispute: OdrDispute | None = None
    """The ODR dispute (在线消费纠纷解决), when the consumer chose the green channel."""

    @property
    def personal_erased(self) -> bool:
        """True once the ticket's personal data was erased (its retention period ended)."""
        return bool(self.personal_erased_hlc)

    def track(self, track: Track) -> TrackState | None:
        """The state of ``track`` if this ticket follows it."""
        for t in self.tracks:
            if t.track is track:
                return t
        return None

    def latest_extension(self, duty: Duty) -> Extension | None:
        """The latest request for more time on ``duty``, whatever became of it."""
        for ext in reversed(self.extensions):
            if ext.duty is duty:
                return ext
        return None

    def pending_extension(self, duty: Duty) -> Extension | None:
        """The request for more time on ``duty`` awaiting a decision, if any."""
        latest = self.latest_extension(duty)
        return latest if latest is not None and latest.pending else None

    def supervision_order(self, order_id: str) -> SupervisionOrder | None:
        """The supervision order ``order_id`` of this ticket, if held."""
        for order in self.supervision_orders:
            if order.order_id == order_id:
                return order
        return None

    @property
    def highest_ticket_version(self) -> int | None:
        """The highest ``ticket_version`` among the events folded into this state.

        Fold bookkeeping, not part of the ticket's view: it is neither compared by ``==`` nor
        sent in ``hotline.v1.Ticket``. -1 when no event has been folded; None when it is not
        known, because this state did not come from ``fold``/``evolve`` (it was decoded from a
        message or rebuilt with ``dataclasses.replace``, which carry only the fields).
        """
        seen = self.__dict__.get(HIGHEST_TICKET_VERSION)
        if seen is None:
            return -1 if self.version == 0 else None
        return int(seen)

    @property
    def in_conflict(self) -> bool:
        """True when at least one signed event could not be applied: a supervisor must look."""
        return bool(self.conflicts)

    @property
    def repeat_dispatched(self) -> bool:
        """True when the ticket needed more than one dispatch (重复派单)."""
        return self.dispatch_count > 1
