"""The province rule book held at a node: kept, judged by, and handed down to its children.

Every node holds the newest rule book of its province (``core.deadlines.rulebook``) in the
``rule_books`` table, signed as it was issued. Each replication round's Hello hands a newer one
down (``sync.rule_books``); a node that takes one judges its deadlines by it at once and
derives every open obligation afresh in the same transaction, so a holiday year loaded in
Lanzhou moves a Chengguan deadline as soon as the county's link is up, and never half-way.
Only the province node issues the next book (``province_hub.rule_book``).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from cryptography import x509
from sqlalchemy import Connection, select

from core.deadlines.holidays import HolidayTable
from core.deadlines.rulebook import Campaign, RuleBook
from core.ticket.state import TicketState
from core.units import Unit, province_of
from node.storage.tables import rule_books
from node.views.obligations import DeadlineRules, recompute_obligations
from proto.hotline.v1 import rules_pb2
from sync.pki import NodeCertificate
from sync.reasons import AlertKind
from sync.rule_books import RuleBookRefused, open_rule_book, rule_book_from
from sync.writer import LogBatch

log = logging.getLogger(__name__)


class ProvinceRules:
    """The rule book this node judges deadlines by, as its province last issued it."""

    def __init__(self, own_unit: Unit, deadlines: DeadlineRules) -> None:
        self._own = own_unit
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
            batch.raise_alert(AlertKind.RULE_BOOK_REFUSED, self.book.issuer_unit, str(exc))
            log.warning("rule book refused: %s", exc)
            return str(exc)
        if book.number <= self.number:
            return ""
        self.adopt(batch, book, signed)
        return ""

    @property
    def own_unit(self) -> Unit:
        """The unit of the node that holds this rule book."""
        return self._own

    def adopt(self, batch: LogBatch, book: RuleBook, signed: rules_pb2.SignedRuleBook) -> None:
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


def _signer_id(signed: rules_pb2.SignedRuleBook | None) -> str:
    if signed is None or not signed.certificate:
        return ""
    return NodeCertificate.read(x509.load_der_x509_certificate(signed.certificate)).node_id
