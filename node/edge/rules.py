"""RulesService: read the rule book a node judges by; amend it at the province.

Every node that judges deadlines by its province's rule book serves the reading; only the
province node can amend it, so only its profile mounts the service with an issuer
(``province_hub.rule_book_issuer.RuleBookIssuer``). Elsewhere ``AmendRules`` is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from grpc import aio

from core.deadlines.china_time import china_date
from core.deadlines.rulebook import RuleBook
from core.errors import NotPermitted
from node.app.profile import ServiceMount
from node.desks.province_rules import ProvinceRules
from node.edge.caller import acting_officer
from proto.hotline.v1 import rules_pb2, rules_pb2_grpc
from sync.rule_book_signing import rule_book_message

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]


class RuleBookAmender(Protocol):
    """What issues the next rule book (the province node's ``RuleBookIssuer``)."""

    async def amend(self, officer_id: str, change: rules_pb2.RuleAmendment) -> RuleBook:
        """Issue the next rule book with one change, as ``officer_id``."""
        ...


class RulesServicer(rules_pb2_grpc.RulesServiceServicer):
    """RulesService: translate and delegate."""

    def __init__(
        self,
        rules: ProvinceRules,
        wall_ms: Callable[[], int],
        issuer: RuleBookAmender | None = None,
    ) -> None:
        self._rules = rules
        self._wall_ms = wall_ms
        self._issuer = issuer

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
        officer_id = acting_officer(context)
        if self._issuer is None:
            raise NotPermitted("only the province node issues its province's rule book")
        await self._issuer.amend(officer_id, request)
        return self._view()


SERVICE_NAME = rules_pb2.DESCRIPTOR.services_by_name["RulesService"].full_name


def _add_reader(node: Node, server: aio.Server) -> None:
    servicer = RulesServicer(node.rules, node.clock.wall_ms)
    rules_pb2_grpc.add_RulesServiceServicer_to_server(servicer, server)


RULES_READ_ONLY = ServiceMount(SERVICE_NAME, _add_reader)
"""RulesService for the nodes that judge by the province's rule book but do not issue it."""
