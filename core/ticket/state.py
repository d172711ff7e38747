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

from core.ticket.events import TicketRegistered
from core.ticket.vocabulary import (
    Finding,
    MediationOutcome,
    RefusalGround,
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
    registered_hlc: int = 0
    last_hlc: int = 0
    closed_hlc: int = 0
    version: int = 0

    def track(self, track: Track) -> TrackState | None:
        """The state of ``track`` if this ticket follows it."""
        for t in self.tracks:
            if t.track is track:
                return t
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
