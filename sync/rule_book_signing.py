"""Signing, checking and translating the province's rule book (``core.deadlines.rulebook``).

A rule book travels as ``hotline.v1.SignedRuleBook``: the serialized ``RuleBook``, the issuing
province node's Ed25519 signature over it (with its own prefix, so it can never pass for an
event's signature) and that node's certificate. A receiver takes it only when the certificate
is of its own province's node, counted at the time of issue, and the signature verifies; a
book it cannot trust is refused whole, with the reason.
"""

from __future__ import annotations

from typing import Protocol

from cryptography import x509

from core.deadlines.holidays import YearHolidays
from core.deadlines.policy import TimeLimit, TimeLimitPolicy
from core.deadlines.rulebook import INTERNATIONAL_SUITE, Campaign, RuleBook, parse_holiday_year
from core.errors import HotlineError, InvalidInput
from core.odr.standing import DEFAULT_ODR_THRESHOLDS, OdrThresholds
from core.ticket.vocabulary import Duty, TicketKind
from core.units import UnitLevel, province_of
from proto.hotline.v1 import rules_pb2
from sync.codec import enum_member, enum_number
from sync.identity import NodeIdentity
from sync.pki import NodeCertificate, PkiError
from sync.signatures import verify
from sync.trust import TrustStore
from sync.writer import LogBatch

RULE_BOOK_CONTEXT = b"hotline.v1.rule_book\x00"
"""Prefix of the signed bytes of a rule book (events use their own)."""


class RuleBookHolder(Protocol):
    """What replication needs of the rule book a node holds (``ProvinceRules``)."""

    @property
    def number(self) -> int:
        """The number of the rule book held (0: none)."""
        ...

    def for_child(self, child_number: int) -> rules_pb2.SignedRuleBook | None:
        """The signed book to hand a child that holds ``child_number`` (None: nothing newer)."""
        ...

    def learn(self, batch: LogBatch, signed: rules_pb2.SignedRuleBook) -> str:
        """Take a book handed down, if newer and trusted (a writer job); why not, if refused."""
        ...


# -- translating ---------------------------------------------------------------------------------


def policy_message(policy: TimeLimitPolicy) -> rules_pb2.PolicyTable:
    """A time-limit table as sent."""
    return rules_pb2.PolicyTable(
        version=policy.version,
        effective_from_ms=policy.effective_from_ms,
        limits=[
            rules_pb2.TimeLimitRow(
                duty=enum_number(limit.duty),
                kind=enum_number(limit.kind),
                days=limit.days,
                max_extension_days=(
                    -1 if limit.max_extension_days is None else limit.max_extension_days
                ),
                calendar_days=limit.calendar_days,
                unit_code=limit.unit_code,
            )
            for limit in policy.limits
        ],
    )


def policy_from(msg: rules_pb2.PolicyTable, path: str = "policy") -> TimeLimitPolicy:
    """A time-limit table as received; ``InvalidInput`` names the bad field."""
    limits = []
    for i, row in enumerate(msg.limits):
        where = f"{path}.limits[{i}]"
        limits.append(
            TimeLimit(
                duty=enum_member(Duty, row.duty, f"{where}.duty"),
                kind=enum_member(TicketKind, row.kind, f"{where}.kind"),
                days=row.days,
                max_extension_days=None if row.max_extension_days < 0 else row.max_extension_days,
                calendar_days=row.calendar_days,
                unit_code=row.unit_code,
            )
        )
    if not limits:
        raise InvalidInput(f"{path}.limits", "a table needs at least one limit")
    return TimeLimitPolicy(msg.version, msg.effective_from_ms, tuple(limits))


def holiday_year_message(year: YearHolidays) -> rules_pb2.HolidayYear:
    """One holiday year as sent."""
    return rules_pb2.HolidayYear(
        year=year.year,
        rest_days=[d.isoformat() for d in sorted(year.rest_days)],
        workdays=[d.isoformat() for d in sorted(year.workdays)],
    )


def holiday_year_from(msg: rules_pb2.HolidayYear) -> YearHolidays:
    """One holiday year as received."""
    return parse_holiday_year(msg.year, list(msg.rest_days), list(msg.workdays))


def campaign_message(campaign: Campaign) -> rules_pb2.Campaign:
    """A campaign as sent."""
    return rules_pb2.Campaign(
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        started_ms=campaign.started_ms,
        ended_ms=campaign.ended_ms,
        tags=campaign.tags,
        categories=campaign.categories,
        keywords=campaign.keywords,
        days=campaign.days,
        daily_bulletin=campaign.daily_bulletin,
    )


def campaign_from(msg: rules_pb2.Campaign) -> Campaign:
    """A campaign as received."""
    return Campaign(
        campaign_id=msg.campaign_id,
        name=msg.name,
        started_ms=msg.started_ms,
        ended_ms=msg.ended_ms,
        tags=tuple(msg.tags),
        categories=tuple(msg.categories),
        keywords=tuple(msg.keywords),
        days=msg.days,
        daily_bulletin=msg.daily_bulletin,
    )


def rule_book_message(book: RuleBook) -> rules_pb2.RuleBook:
    """A rule book as sent and shown."""
    return rules_pb2.RuleBook(
        issuer_unit=book.issuer_unit,
        number=book.number,
        issued_ms=book.issued_ms,
        policies=[policy_message(p) for p in book.policies],
        holiday_years=[holiday_year_message(y) for y in book.holiday_years],
        campaigns=[campaign_message(c) for c in book.campaigns],
        supervision_grace_minutes=book.supervision_grace_minutes,
        personal_suite=book.personal_suite,
        retention_days=book.retention_days,
        lookup_key_id=book.lookup_key_id,
        odr_thresholds=odr_thresholds_message(book.odr_thresholds),
    )


def rule_book_from(msg: rules_pb2.RuleBook) -> RuleBook:
    """A rule book as received."""
    return RuleBook(
        issuer_unit=msg.issuer_unit,
        number=msg.number,
        issued_ms=msg.issued_ms,
        policies=tuple(policy_from(p, f"policies[{i}]") for i, p in enumerate(msg.policies)),
        holiday_years=tuple(holiday_year_from(y) for y in msg.holiday_years),
        campaigns=tuple(campaign_from(c) for c in msg.campaigns),
        supervision_grace_minutes=msg.supervision_grace_minutes,
        # A book issued before issue 12 has none of these: it reads as the defaults.
        personal_suite=msg.personal_suite or INTERNATIONAL_SUITE,
        retention_days=msg.retention_days,
        lookup_key_id=msg.lookup_key_id,
        # A book issued before issue 13 has none: the defaults.
        odr_thresholds=odr_thresholds_from(msg.odr_thresholds),
    )


def odr_thresholds_message(thresholds: OdrThresholds) -> rules_pb2.OdrThresholds:
    """The thresholds of ODR supervision as sent (the defaults as 0)."""
    default = DEFAULT_ODR_THRESHOLDS
    return rules_pb2.OdrThresholds(
        **{
            name: value if value != getattr(default, name) else 0
            for name, value in vars(thresholds).items()
        }
    )


def odr_thresholds_from(msg: rules_pb2.OdrThresholds) -> OdrThresholds:
    """The thresholds as received: a field at 0 is its default; ``InvalidInput`` naming a
    field out of its range."""
    default = DEFAULT_ODR_THRESHOLDS
    return OdrThresholds(
        **{name: getattr(msg, name) or value for name, value in vars(default).items()}
    )


# -- signing and checking ------------------------------------------------------------------------


def sign_rule_book(
    book: RuleBook, identity: NodeIdentity, certificate: NodeCertificate
) -> rules_pb2.SignedRuleBook:
    """The rule book signed by the province node that issues it."""
    raw = rule_book_message(book).SerializeToString(deterministic=True)
    return rules_pb2.SignedRuleBook(
        rule_book=raw,
        signature=identity.sign(RULE_BOOK_CONTEXT + raw),
        certificate=certificate.der,
    )


class RuleBookRefused(HotlineError):
    """A received rule book cannot be trusted or is not for this node; says why."""


def open_rule_book(signed: rules_pb2.SignedRuleBook, trust: TrustStore, own_unit: str) -> RuleBook:
    """The rule book, if its own province's node signed it while it counted; else refused."""
    try:
        node = trust.add_node(x509.load_der_x509_certificate(signed.certificate))
    except (ValueError, PkiError) as exc:
        raise RuleBookRefused(f"issuer certificate not trusted: {exc}") from None
    if not verify(node.event_public_key, signed.signature, RULE_BOOK_CONTEXT + signed.rule_book):
        raise RuleBookRefused(f"signature of {node.node_id} does not verify")
    msg = rules_pb2.RuleBook()
    try:
        msg.ParseFromString(signed.rule_book)
        book = rule_book_from(msg)
    except (ValueError, InvalidInput) as exc:
        raise RuleBookRefused(f"malformed rule book: {exc}") from None
    if node.level is not UnitLevel.PROVINCE or node.unit_code != book.issuer_unit:
        raise RuleBookRefused(
            f"issued for {book.issuer_unit} by {node.unit_code} ({node.level.value} node); "
            "only the province's own node issues its rule book"
        )
    if book.issuer_unit != province_of(own_unit):
        raise RuleBookRefused(f"rule book of {book.issuer_unit}, not of this node's province")
    reason = trust.judge(node, book.issued_ms)
    if reason:
        raise RuleBookRefused(f"issuer {node.node_id} did not count when it issued: {reason}")
    return book
