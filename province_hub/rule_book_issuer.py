"""Issuing the province's rule book (规则): only the province node does it.

A unit head or supervisor of the province amends the rule book with one change at a time
(``hotline rules policy|holidays|personal|rotate-lookup-key``, ``hotline campaign
start|stop``): a later time-limit table, a year's holidays, a campaign switched on or off, the
personal data suite or retention, a new look-up key. Each change is the next numbered book,
signed by the province node, taken at once by the node itself (open obligations derived afresh
in the same transaction) and handed down to every node of the province at its next Hello.

The look-up key (关联键密钥) is made here, in the province node's key folder
(``node.personal.lookup_keys``), and only its id is published: at a rotation, and with the first
book the province publishes (or any book while none is named), so every province has one as
soon as it publishes anything. The key is made for the suite of the book that names it. A key
made for a book whose transaction then fails stays in the folder unnamed and is handed down all
the same; it does no harm, and the next book names a fresh one only at a rotation.
"""

from __future__ import annotations

from core.deadlines.rulebook import DEFAULT_CAMPAIGN_DAYS, RuleBook
from core.errors import InvalidInput, NotPermitted
from core.officers import Role
from core.units import UnitLevel
from node.desks.province_rules import ProvinceRules
from node.desks.roster import Roster
from node.personal.lookup_keys import LookupKeyStore
from proto.hotline.v1 import rules_pb2
from sync.identity import NodeIdentity
from sync.rule_book_signing import (
    campaign_from,
    holiday_year_from,
    odr_thresholds_from,
    policy_from,
    sign_rule_book,
)
from sync.writer import LogBatch, LogWriter


class RuleBookIssuer:
    """The province node's side of the rule book: the next book, signed and in force."""

    def __init__(
        self,
        rules: ProvinceRules,
        identity: NodeIdentity,
        roster: Roster,
        writer: LogWriter,
        *,
        lookup_keys: LookupKeyStore | None = None,
    ) -> None:
        if rules.own_unit.level is not UnitLevel.PROVINCE:
            raise NotPermitted("only a province node issues its province's rule book")
        self._rules = rules
        self._lookup_keys = lookup_keys
        """Where the province's look-up keys are made (None: books name none)."""
        self._identity = identity
        self._roster = roster
        self._writer = writer

    async def amend(self, officer_id: str, change: rules_pb2.RuleAmendment) -> RuleBook:
        """Issue the next rule book with one change; a unit head or supervisor of the province."""
        officer = await self._roster.resolve(officer_id)
        if not officer.roles & {Role.UNIT_HEAD, Role.SUPERVISOR}:
            raise NotPermitted(
                f"officer {officer.officer_id} is neither unit head nor supervisor "
                "of the province; the rule book is theirs to amend"
            )
        return await self._writer.run(lambda batch: self.issue(batch, change))

    def issue(self, batch: LogBatch, change: rules_pb2.RuleAmendment) -> RuleBook:
        """The next rule book with ``change``, signed and adopted (a writer job)."""
        credentials = self._identity.credentials
        if credentials is None:
            raise NotPermitted("this node is not enrolled; it cannot sign a rule book")
        held, now = self._rules.book_in(batch), batch.now_ms()
        match change.WhichOneof("change"):
            case "policy":
                book = held.with_policy(policy_from(change.policy), now)
            case "holiday_year":
                book = held.with_holiday_year(holiday_year_from(change.holiday_year), now)
            case "start_campaign":
                book = held.with_campaign(campaign_from(_started(change.start_campaign, now)), now)
            case "stop_campaign":
                book = held.without_campaign(change.stop_campaign, now)
            case "supervision_grace_minutes":
                book = held.with_supervision_grace(change.supervision_grace_minutes, now)
            case "personal_suite":
                book = held.with_personal_suite(change.personal_suite, now)
            case "retention_days":
                book = held.with_retention_days(change.retention_days, now)
            case "odr_thresholds":
                book = held.with_odr_thresholds(odr_thresholds_from(change.odr_thresholds), now)
            case "rotate_lookup_key" if change.rotate_lookup_key:
                book = held.with_lookup_key(self._new_lookup_key(held.personal_suite, now), now)
            case _:
                raise InvalidInput("change", "give one change to the rule book")
        if not book.lookup_key_id and self._lookup_keys is not None:
            # The key the province node made at its first start already digests its tickets.
            held_key = self._lookup_keys.newest_id()
            book = book.naming_lookup_key(
                held_key or self._new_lookup_key(book.personal_suite, now)
            )
        signed = sign_rule_book(book, self._identity, credentials.certificate)
        self._rules.adopt(batch, book, signed)
        return book

    def _new_lookup_key(self, suite: str, now_ms: int) -> str:
        """A new look-up key for ``suite`` in the key folder; its id."""
        if self._lookup_keys is None:
            raise NotPermitted("this node keeps no look-up keys; it cannot make one")
        return self._lookup_keys.create(suite, now_ms).key_id


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
