"""The province rule book held at a node: kept, judged by, and handed down to its children.

Every node holds the newest rule book of its province (``core.deadlines.rulebook``) in the
``rule_books`` table, signed as it was issued. Each replication round's Hello hands a newer one
down (``sync.rule_book_signing``); a node that takes one derives every open obligation afresh in the
same transaction and judges its deadlines by it from the moment that transaction commits, so a
holiday year loaded in Lanzhou moves a Chengguan deadline as soon as the county's link is up,
and never half-way. Only the province node issues the next book (``province_hub.rule_book_issuer``).

A book is taken inside a writer job: it is staged in the job's batch (later jobs of the same
transaction see it through ``book_in``), the obligations are derived at the flush, and the
book, calendar and time limits held in memory change only after the commit. A job or a
transaction that fails leaves the node judging by the book it had.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
from sync.rule_book_signing import RuleBookRefused, open_rule_book, rule_book_from
from sync.writer import LogBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Staged:
    """A rule book taken by a writer transaction that has not committed yet."""

    book: RuleBook
    signed: rules_pb2.SignedRuleBook
    deadlines: DeadlineRules


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

    def book_in(self, batch: LogBatch) -> RuleBook:
        """The rule book in force for a writer job: one an earlier job of its transaction
        took, else the one held."""
        staged: _Staged | None = batch.staged(self)
        return staged.book if staged is not None else self.book

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
        if book.number <= self.book_in(batch).number:
            return ""
        self.adopt(batch, book, signed)
        return ""

    @property
    def own_unit(self) -> Unit:
        """The unit of the node that holds this rule book."""
        return self._own

    def adopt(self, batch: LogBatch, book: RuleBook, signed: rules_pb2.SignedRuleBook) -> None:
        """Keep the book, and judge by it once the transaction commits; the open obligations
        are derived afresh under it in that transaction, after the views are written."""
        batch.upsert(
            rule_books,
            {
                "issuer_unit": book.issuer_unit,
                "number": book.number,
                "signed": signed.SerializeToString(deterministic=True),
                "received_ms": batch.now_ms(),
            },
        )
        first = batch.staged(self) is None
        batch.stage(self, _Staged(book, signed, self._deadlines.adopted(book, self._base)))
        if first:  # a later book of the same transaction replaces the staged one
            batch.on_flush(lambda: self._derive_obligations(batch))
            batch.after_commit(lambda: self._take_staged(batch))

    def _derive_obligations(self, batch: LogBatch) -> None:
        staged: _Staged = batch.staged(self)
        count = recompute_obligations(batch.conn, staged.deadlines)
        log.info(
            "rule book %s no. %d taken; open obligations of %d ticket(s) derived afresh",
            staged.book.issuer_unit,
            staged.book.number,
            count,
        )

    def _take_staged(self, batch: LogBatch) -> None:
        staged: _Staged = batch.staged(self)
        self._take(staged.book, staged.signed, staged.deadlines)

    def _take(
        self,
        book: RuleBook,
        signed: rules_pb2.SignedRuleBook | None,
        deadlines: DeadlineRules | None = None,
    ) -> None:
        self.book = book
        self.signed = signed
        self.issued_by = _signer_id(signed)
        self._deadlines.take(deadlines or self._deadlines.adopted(book, self._base))

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
