"""An ODR dispute as the ticket's fold sees it (在线消费纠纷解决, DOMAIN.md §8; docs/odr.md).

A consumer filing a complaint against an enterprise on the ODR roster may choose the green
channel: the complaint goes straight to the enterprise, which negotiates with the consumer and
proposes a settlement; the consumer accepts or rejects it. The dispute lives inside its ticket
(one history, one id), as ``TicketState.dispute``: these are its vocabulary and its folded
state. Its events are ``core.ticket.events`` (``OdrDisputeOpened`` ...), mirrored in
``hotline.v1`` (the enums here are ``odr.proto``'s, member for member).

While the dispute is open (negotiating, or a proposal awaiting the consumer) the ticket is held
by the county that enrolled the enterprise, so it replicates to that county's node where the
enterprise's users sign in. It ends settled or withdrawn (the ticket closes), or converted into a
formal complaint at the competent unit, its history kept in the same ticket.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class DisputeStatus(enum.Enum):
    """Where an ODR dispute stands."""

    NEGOTIATING = "negotiating"  # 协商中: with the enterprise, no proposal pending
    PROPOSED = "proposed"  # 待消费者确认: a settlement awaits the consumer's answer
    SETTLED = "settled"  # 已和解: the consumer accepted; closed
    CONVERTED = "converted"  # 已转为投诉: rejected, declined or late; a formal complaint now
    WITHDRAWN = "withdrawn"  # 已撤回: the consumer withdrew; closed

    @property
    def open(self) -> bool:
        """True while the dispute is with the enterprise (it owes its answer)."""
        return self in (DisputeStatus.NEGOTIATING, DisputeStatus.PROPOSED)


class ContactMethod(enum.Enum):
    """How the enterprise reached the consumer."""

    PHONE = "phone"  # 电话
    ON_SITE = "on_site"  # 现场
    ONLINE = "online"  # 线上
    MESSAGE = "message"  # 短信/留言


class ConversionReason(enum.Enum):
    """Why a dispute became a formal complaint (转为投诉)."""

    REJECTED = "rejected"  # the consumer rejected the proposal
    NO_ANSWER_IN_TIME = "no_answer_in_time"  # the ODR limit passed without a settlement
    DECLINED = "declined"  # the enterprise declined to settle


class CloseReason(enum.Enum):
    """Why the enterprise closes a dispute itself."""

    DECLINED = "declined"  # declines to settle: converted into a complaint at once
    CONSUMER_WITHDREW = "consumer_withdrew"  # the consumer withdrew (recorded with a note)


class OdrStepKind(enum.Enum):
    """What kind of step a dispute's history line records."""

    OPENED = "opened"  # the consumer chose the green channel
    CONTACT = "contact"  # a contact recorded
    PROPOSAL = "proposal"  # a settlement proposed
    ANSWER = "answer"  # the consumer accepted or rejected
    CLOSED = "closed"  # closed (the consumer withdrew)
    CONVERTED = "converted"  # became a formal complaint


@dataclass(frozen=True)
class OdrStepRecord:
    """One line of a dispute's history, as folded from its signed event (协商记录)."""

    kind: OdrStepKind
    recorded_hlc: int
    by: str
    """Who recorded it: an enterprise user (``enterprise:<code>:<user>``), ``consumer``, or
    the officer or system officer of a unit."""
    by_name: str
    method: ContactMethod | None = None
    contacted_at: datetime | None = None
    text: str = ""
    """CONTACT: the result; PROPOSAL: the terms; ANSWER, CLOSED, CONVERTED: the reason or note."""
    amount_fen: int = 0
    accepted: bool = False
    conversion: ConversionReason | None = None
    to_unit: str = ""


@dataclass(frozen=True)
class OdrDispute:
    """The ODR dispute of a ticket, folded: the enterprise, where it stands, its history."""

    credit_code: str
    enterprise_name: str
    enterprise_unit: str
    """The county that enrolled the enterprise: it holds the ticket while the dispute is open."""
    status: DisputeStatus
    opened_hlc: int
    """When the consumer's choice was recorded: the ODR limit counts from here."""
    proposal_terms: str = ""
    """The pending or accepted proposal ('' when none is pending or accepted)."""
    proposal_amount_fen: int = 0
    conversion: ConversionReason | None = None
    converted_to_unit: str = ""
    ended_hlc: int = 0
    """When it was settled, withdrawn or converted; 0 while open."""
    steps: tuple[OdrStepRecord, ...] = ()

    @property
    def open(self) -> bool:
        """True while the enterprise owes its answer."""
        return self.status.open
