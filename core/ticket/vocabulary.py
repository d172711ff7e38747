"""The words of a ticket: kinds, channels, grounds, outcomes, and the parties it names.

Each enum mirrors one ``hotline.v1`` proto enum: the proto value name is the enum's name in
UPPER_SNAKE followed by the member name (``TicketKind.COMPLAINT`` <-> ``TICKET_KIND_COMPLAINT``).
The Chinese term each member stands for is in its docstring (see DOMAIN.md §3-§5).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class TicketKind(enum.Enum):
    """What the filer wants (DOMAIN.md §3)."""

    CONSULTATION = "consultation"  # 咨询
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 意见建议
    COMPOSITE = "composite"  # 投诉举报复合件: a complaint part and a report part


class Track(enum.Enum):
    """A procedure a ticket follows; a composite ticket follows two at once."""

    COMPLAINT = "complaint"  # accept/refuse, mediation, result
    REPORT = "report"  # verification, case decision, result
    INQUIRY = "inquiry"  # consultation or suggestion: answered


TRACKS_OF_KIND: dict[TicketKind, tuple[Track, ...]] = {
    TicketKind.CONSULTATION: (Track.INQUIRY,),
    TicketKind.SUGGESTION: (Track.INQUIRY,),
    TicketKind.COMPLAINT: (Track.COMPLAINT,),
    TicketKind.REPORT: (Track.REPORT,),
    TicketKind.COMPOSITE: (Track.COMPLAINT, Track.REPORT),
}


class Channel(enum.Enum):
    """How the ticket came in (全渠道)."""

    PHONE = "phone"
    VOICEMAIL = "voicemail"  # after-hours voice message
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    QQ = "qq"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    VISIT = "visit"  # 来访
    TRANSFER_12345 = "transfer_12345"  # transferred from the 12345 government hotline
    ODR = "odr"  # converted from an ODR dispute


class SourceLine(enum.Enum):
    """The legacy hotline the ticket belongs to since the five lines merged (五线合一)."""

    LINE_12315 = "12315"  # industry and commerce
    LINE_12331 = "12331"  # food and drugs
    LINE_12365 = "12365"  # quality
    LINE_12358 = "12358"  # prices
    LINE_12330 = "12330"  # intellectual property


class BusinessForm(enum.Enum):
    """How the respondent trades; it decides which address routes the ticket (DOMAIN.md §4)."""

    PHYSICAL = "physical"  # a shop, gym, restaurant: where it operates
    PLATFORM = "platform"  # an e-commerce platform: where it is registered
    OWN_WEBSITE = "own_website"  # a seller on its own website: where it is registered
    PLATFORM_SHOP = "platform_shop"  # a shop on a platform: where it operates, else the platform


class JurisdictionBasis(enum.Enum):
    """Why a ticket was routed where it was."""

    OPERATING_ADDRESS = "operating_address"  # 实际经营地
    REGISTERED_ADDRESS = "registered_address"  # 住所地
    PLATFORM_REGISTRATION = "platform_registration"  # platform or own-site seller's registration
    PLATFORM_FALLBACK = "platform_fallback"  # shop with no reachable address: platform's county
    CONDUCT_LOCATION = "conduct_location"  # report: where the conduct happened
    RELAY = "relay"  # passed through a hub on the way (another province goes via national)
    DISPATCHER_DECISION = "dispatcher_decision"  # chosen by the dispatcher


class ReturnReason(enum.Enum):
    """Why a unit sends a ticket back to its dispatcher (退回)."""

    MISSING_ELEMENTS = "missing_elements"  # 缺失要素
    WRONG_TYPE = "wrong_type"  # 类型有误
    ADDRESS_UNCLEAR = "address_unclear"  # 地址不详
    DUPLICATE = "duplicate"  # 重复受理
    NOT_OUR_DUTY = "not_our_duty"  # 不属本职


class RefusalGround(enum.Enum):
    """The legal grounds for not accepting a complaint (不予受理)."""

    NOT_COMPETENT = "not_competent"  # outside market-supervision duties, or no jurisdiction
    HANDLED_ELSEWHERE = "handled_elsewhere"  # court, arbitration, consumer association, other
    NOT_CONSUMER_DISPUTE = "not_consumer_dispute"  # not household consumption / no provable dispute
    TIME_BARRED = "time_barred"  # more than 3 years since the harm was known
    MISSING_FACTS = "missing_facts"  # required facts missing
    IDENTITY_NOT_VERIFIED = "identity_not_verified"  # impersonation or refused identity check
    OTHER_LEGAL_GROUND = "other_legal_ground"  # other grounds in laws and regulations


class MediationOutcome(enum.Enum):
    """How mediation ended."""

    AGREEMENT = "agreement"  # 达成调解协议
    SETTLED = "settled"  # 协商和解
    WITHDRAWN = "withdrawn"  # 撤回投诉
    TERMINATED = "terminated"  # 终止调解 (with a TerminationReason)


class TerminationReason(enum.Enum):
    """Why mediation was terminated without agreement (终止调解)."""

    NO_AGREEMENT_ON_TESTING = "no_agreement_on_testing"
    PARTY_ABSENT_OR_REFUSES = "party_absent_or_refuses"
    NO_AGREEMENT_POSSIBLE = "no_agreement_possible"
    TIME_LIMIT_REACHED = "time_limit_reached"  # 45 working days passed
    REFUSAL_GROUND_FOUND = "refusal_ground_found"  # a refusal ground found after acceptance


class Finding(enum.Enum):
    """The result of verifying a report."""

    SUBSTANTIATED = "substantiated"  # 属实
    NOT_SUBSTANTIATED = "not_substantiated"  # 不属实 (needs evidence)


class Satisfaction(enum.Enum):
    """The consumer's rating on callback (回访)."""

    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    NEUTRAL = "neutral"  # 一般
    DISSATISFIED = "dissatisfied"  # 不满意: the ticket goes back for re-handling


class Duty(enum.Enum):
    """A step that must be done by a deadline (an obligation's kind, DOMAIN.md §5-§6).

    Kept here with the ticket's other words (``core.deadlines.policy`` re-exports it) because
    the ticket's events name duties, and ``core.deadlines`` builds on ``core.ticket``, not the
    other way round.
    """

    DECIDE_ACCEPTANCE = "decide_acceptance"  # 受理/不予受理: accept or refuse a complaint
    END_MEDIATION = "end_mediation"  # 调解终结: mediation ends
    VERIFY_REPORT = "verify_report"  # 核查/立案: verify a report and decide to open a case
    CALLBACK = "callback"  # 回访: call the consumer back after closure
    ODR_ANSWER = "odr_answer"  # ODR 企业和解: the enterprise settles an ODR dispute
    SUPERVISION_REPORT = "supervision_report"  # 督办回复: written report on a supervision order


class ReminderLevel(enum.Enum):
    """Who is reminded of a duty before it is due, in the order the levels come (三级催办).

    ``core.deadlines.escalation`` re-exports it and says when each level is reminded.
    """

    HANDLER = "handler"  # 承办人
    UNIT_HEAD = "unit_head"  # 负责人
    SUPERVISING_UNIT = "supervising_unit"  # 上级督办单位


class EscalationOutcome(enum.Enum):
    """What became of one recorded escalation (督办), as the fold judged it.

    Several nodes may escalate the same overdue duty: its own unit's node, and the nodes above
    it when it is dark (supervision from above, ``core.deadlines.sweep``). Only the first in fold
    order of each (duty, owing unit, level) counts; the others are kept as history. And a duty
    done in time while its unit was cut off was never overdue: the escalations a parent recorded
    meanwhile are superseded, not counted against the unit.
    """

    STANDING = "standing"  # 督办中: in a supervision queue now
    ENDED = "ended"  # 已结束: the duty was done late (or moved on late); counted against the unit
    SUPERSEDED = "superseded"  # 已撤销: the duty was done by its due time; not counted
    REPEATED = "repeated"  # 重复: another node had recorded this level first; not counted
    MOOT = "moot"  # 无效: the duty was no longer owed when it was folded; not counted

    @property
    def counted(self) -> bool:
        """True when the escalation counts against the unit that owed the duty."""
        return self in (EscalationOutcome.STANDING, EscalationOutcome.ENDED)


class PersonalField(enum.Enum):
    """One of the filer's personal fields (个人信息字段), as named when it is revealed."""

    NAME = "name"  # 姓名
    PHONE = "phone"  # 电话
    ADDRESS = "address"  # 地址
    ID_NUMBER = "id_number"  # 身份证号


@dataclass(frozen=True)
class Consumer:
    """The filer. Personal data (PIPL): shown only to those who need it (DOMAIN.md §9).

    A command carries it in clear; a signed registration never does (its ``personal``
    commitment stands for it, the values are sealed beside the log: docs/protocol.md).
    """

    name: str
    phone: str
    address: str = ""
    id_number: str = ""

    def field(self, which: PersonalField) -> str:
        """The value of one personal field."""
        return str(getattr(self, which.value))

    @property
    def empty(self) -> bool:
        """True when no field is set: what a signed registration carries."""
        return not (self.name or self.phone or self.address or self.id_number)


NO_CONSUMER = Consumer("", "")
"""The consumer of a signed registration: none in clear (the commitment stands for it)."""


@dataclass(frozen=True)
class PersonalCommitment:
    """What the signed log holds of a filer's personal data (个人信息承诺值): a commitment.

    A digest over the ticket id and the personal data with a random salt (the salt is sealed
    with the data, so the digest cannot be reversed by trying every phone number). The suite
    names the algorithms (AES-256-GCM/SHA-256 or SM4-GCM/SM3). Empty on a registration with
    no personal data.
    """

    suite: str = ""
    commitment: bytes = b""


NO_COMMITMENT = PersonalCommitment()
"""The commitment of a registration without personal data."""


@dataclass(frozen=True)
class Respondent:
    """The business complained about or reported; its region codes decide the route."""

    name: str
    credit_code: str = ""
    form: BusinessForm = BusinessForm.PHYSICAL
    address: str = ""
    operating_region: str = ""  # 实际经营地, county-level code
    registered_region: str = ""  # 住所地, county-level code
    platform_name: str = ""
    platform_region: str = ""  # where the platform is registered
    shop_name: str = ""


@dataclass(frozen=True)
class Attachment:
    """A file handed in with the ticket, referred to by its digest (the bytes live elsewhere)."""

    name: str
    sha256: str
    size_bytes: int
