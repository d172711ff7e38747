"""The province rule book at a node: kept, judged by, handed down, and amended at the province.

Every node holds the newest rule book of its province (``core.deadlines.rulebook``) in the
``rule_books`` table, signed as it was issued. The province node amends it (``hotline rules``);
each replication round's Hello hands a newer one down (``sync.rule_books``); a node that takes
one judges its deadlines by it at once and derives every open obligation afresh in the same
transaction, so a holiday year loaded in Lanzhou moves a Chengguan deadline as soon as the
county's link is up, and never half-way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from cryptography import x509
from grpc import aio
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    LargeBinary,
    String,
    Table,
    delete,
    select,
)

from core.deadlines.china_time import china_date
from core.deadlines.holidays import HolidayTable
from core.deadlines.rulebook import DEFAULT_CAMPAIGN_DAYS, Campaign, RuleBook
from core.errors import InvalidInput, NotPermitted
from core.officers import Role
from core.ticket.state import TicketState, TicketStatus
from core.units import Unit, UnitLevel
from node.grpc_edge import acting_officer
from node.obligations import DeadlineRules, obligations
from node.projection import tickets
from node.roster import Roster
from proto.hotline.v1 import rules_pb2, rules_pb2_grpc, ticket_pb2
from sync.codec import from_message
from sync.identity import NodeIdentity
from sync.pki import NodeCertificate
from sync.rule_books import (
    RuleBookRefused,
    campaign_from,
    holiday_year_from,
    open_rule_book,
    policy_from,
    province_of,
    rule_book_from,
    rule_book_message,
    sign_rule_book,
)
from sync.schema import metadata
from sync.writer import LogBatch, LogWriter

log = logging.getLogger(__name__)
Context = aio.ServicerContext[Any, Any]

rule_books = Table(
    "rule_books",
    metadata,
    Column("issuer_unit", String(12), primary_key=True),
    Column("number", BigInteger, nullable=False),
    Column("signed", LargeBinary, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
)

_WITH_DUTIES = (TicketStatus.ROUTED, TicketStatus.IN_HANDLING, TicketStatus.CLOSED)
"""Ticket statuses that can leave a duty open (a closed complaint still owes its callback)."""


def recompute_obligations(conn: Connection, deadlines: DeadlineRules) -> int:
    """Derive every open obligation afresh under ``deadlines``; returns the tickets read.

    Run when the rules change (a rule book taken in), never on the hot path.
    """
    conn.execute(delete(obligations))
    count = 0
    batch: list[TicketState] = []
    rows = conn.execute(
        select(tickets.c.state).where(tickets.c.status.in_([s.value for s in _WITH_DUTIES]))
    )
    for row in rows:
        view = ticket_pb2.Ticket()
        view.ParseFromString(row.state)
        batch.append(from_message(TicketState, view))
        count += 1
        if len(batch) >= 500:
            deadlines.refresh(conn, batch, existing=())
            batch = []
    deadlines.refresh(conn, batch, existing=())
    return count


class ProvinceRules:
    """The rule book this node judges deadlines by, as its province last issued it."""

    def __init__(self, own_unit: Unit, identity: NodeIdentity, deadlines: DeadlineRules) -> None:
        self._own = own_unit
        self._identity = identity
        self._deadlines = deadlines
        self._base: HolidayTable = deadlines.calendar.table
        self.book = RuleBook(issuer_unit=province_of(own_unit.code))
        """The rule book in force here (number 0: nothing issued yet, the §5 defaults)."""
        self.signed: rules_pb2.SignedRuleBook | None = None
        self.issued_by = ""

    @property
    def number(self) -> int:
        """The number of the rule book held (0: none)."""
        return self.book.number

    def load(self, conn: Connection) -> None:
        """Take the stored rule book at start (it was checked when it was stored)."""
        row = conn.execute(
            select(rule_books.c.signed).where(rule_books.c.issuer_unit == self.book.issuer_unit)
        ).first()
        if row is None:
            return
        signed = rules_pb2.SignedRuleBook()
        signed.ParseFromString(row.signed)
        raw = rules_pb2.RuleBook()
        raw.ParseFromString(signed.rule_book)
        self._take(rule_book_from(raw), signed)

    def campaign_of(self, state: TicketState) -> Campaign | None:
        """The campaign a ticket falls under by the rule book held here, if any."""
        return self.book.campaign_of(state)

    def for_child(self, child_number: int) -> rules_pb2.SignedRuleBook | None:
        """What a child holding rule book ``child_number`` should take (None: nothing newer)."""
        return self.signed if self.signed is not None and self.number > child_number else None

    def learn(self, batch: LogBatch, signed: rules_pb2.SignedRuleBook) -> str:
        """Take a rule book handed down by the parent if it is newer and trusted (a writer job).

        Returns why it was refused ("" when taken or not newer); a refusal raises an alert.
        """
        if batch.trust is None:
            return "this node has no trust store"
        try:
            book = open_rule_book(signed, batch.trust, self._own.code)
        except RuleBookRefused as exc:
            batch.raise_alert("rule-book-refused", self.book.issuer_unit, str(exc))
            log.warning("rule book refused: %s", exc)
            return str(exc)
        if book.number <= self.number:
            return ""
        self._store(batch, book, signed)
        return ""

    def amend(self, batch: LogBatch, change: rules_pb2.RuleAmendment) -> RuleBook:
        """Issue the next rule book with one change (a writer job on the province node)."""
        if self._own.level is not UnitLevel.PROVINCE or self._identity.credentials is None:
            raise NotPermitted("only a province node issues its province's rule book")
        now = batch.now_ms()
        match change.WhichOneof("change"):
            case "policy":
                book = self.book.with_policy(policy_from(change.policy), now)
            case "holiday_year":
                book = self.book.with_holiday_year(holiday_year_from(change.holiday_year), now)
            case "start_campaign":
                start = campaign_from(_started(change.start_campaign, now))
                book = self.book.with_campaign(start, now)
            case "stop_campaign":
                book = self.book.without_campaign(change.stop_campaign, now)
            case _:
                raise InvalidInput("change", "give one change to the rule book")
        signed = sign_rule_book(book, self._identity, self._identity.credentials.certificate)
        self._store(batch, book, signed)
        return book

    def _store(self, batch: LogBatch, book: RuleBook, signed: rules_pb2.SignedRuleBook) -> None:
        """Keep the book, judge by it from now on, and derive the open obligations afresh."""
        batch.upsert(
            rule_books,
            {
                "issuer_unit": book.issuer_unit,
                "number": book.number,
                "signed": signed.SerializeToString(deterministic=True),
                "received_ms": batch.now_ms(),
            },
        )
        before = (self.book, self.signed, self.issued_by)
        self._take(book, signed)
        batch.on_undo(lambda: self._take(*before[:2]))
        count = recompute_obligations(batch.conn, self._deadlines)
        log.info(
            "rule book %s no. %d in force; open obligations of %d ticket(s) derived afresh",
            book.issuer_unit,
            book.number,
            count,
        )

    def _take(self, book: RuleBook, signed: rules_pb2.SignedRuleBook | None) -> None:
        self.book = book
        self.signed = signed
        self.issued_by = _signer_id(signed)
        self._deadlines.adopt(book, self._base)

    def calendar_years(self) -> frozenset[int]:
        """The years the calendar knows, from the package or the rule book."""
        return self._deadlines.calendar.table.known_years

    def unknown_years(self, today: date) -> tuple[int, ...]:
        """Years from ``today`` to a year ahead that the calendar counts by weekends only."""
        return self._deadlines.unknown_years(today, today + timedelta(days=365))


def _started(msg: rules_pb2.Campaign, now_ms: int) -> rules_pb2.Campaign:
    """A campaign to start: the node sets its start; an operator's id or days are checked."""
    started = rules_pb2.Campaign()
    started.CopyFrom(msg)
    started.started_ms = now_ms
    started.ended_ms = 0
    if not started.days:
        started.days = DEFAULT_CAMPAIGN_DAYS
    started.daily_bulletin = True
    return started


def _signer_id(signed: rules_pb2.SignedRuleBook | None) -> str:
    if signed is None or not signed.certificate:
        return ""
    return NodeCertificate.read(x509.load_der_x509_certificate(signed.certificate)).node_id


class RulesServicer(rules_pb2_grpc.RulesServiceServicer):
    """RulesService: read the rule book anywhere; amend it at the province."""

    def __init__(
        self,
        rules: ProvinceRules,
        roster: Roster,
        writer: LogWriter,
        wall_ms: Callable[[], int],
    ) -> None:
        self._rules = rules
        self._roster = roster
        self._writer = writer
        self._wall_ms = wall_ms

    def _view(self) -> rules_pb2.RulesView:
        today = china_date(self._wall_ms())
        return rules_pb2.RulesView(
            rule_book=rule_book_message(self._rules.book),
            issued_by=self._rules.issued_by,
            unknown_years=self._rules.unknown_years(today),
            calendar_years=sorted(self._rules.calendar_years()),
        )

    async def GetRules(
        self, request: rules_pb2.GetRulesRequest, context: Context
    ) -> rules_pb2.RulesView:
        """The rule book in force here and the years the calendar does not know."""
        return self._view()

    async def AmendRules(
        self, request: rules_pb2.RuleAmendment, context: Context
    ) -> rules_pb2.RulesView:
        """Issue the next rule book with one change; a unit head or supervisor of the province."""
        officer = self._roster.officer(acting_officer(context))
        if not officer.roles & {Role.UNIT_HEAD, Role.SUPERVISOR}:
            raise NotPermitted(
                f"officer {officer.officer_id} is neither unit head nor supervisor "
                "of the province; the rule book is theirs to amend"
            )
        await self._writer.run(lambda batch: self._rules.amend(batch, request))
        return self._view()
