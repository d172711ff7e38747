"""OdrService: the enterprise side of the ODR green channel, on the county's client port.

Translates and delegates to ``node.desks.odr.OdrDesk``. The door (``node.edge.guard``) lets
only enterprise users in (``core.access.permissions``); whose dispute it is, the desk checks
against the session's credit code, recording a refusal in the access record. Errors propagate
to ``node.edge.errors``.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from grpc import aio

from core.access.principals import PrincipalKind
from core.errors import NotFound, NotPermitted, NotSignedIn
from core.identifiers import check_reference
from core.odr.dispute import CloseReason, ContactMethod
from node.app.profile import ServiceMount
from node.desks.odr import OdrCaller, OdrDesk
from node.edge.caller import peer_of, signed_in
from node.edge.enrolment import standing_message
from node.enrolment.supervision import StandingsDesk
from proto.hotline.v1 import odr_pb2, odr_pb2_grpc
from sync.codec import enum_member

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]
_SERVICE = "/hotline.v1.OdrService/"


class OdrServicer(odr_pb2_grpc.OdrServiceServicer):
    """OdrService: an enterprise user's disputes, steps and figures."""

    def __init__(self, desk: OdrDesk, standings: StandingsDesk) -> None:
        self._desk = desk
        self._standings = standings

    async def _caller(self, context: Context, method: str) -> OdrCaller:
        """The enterprise user of the call (the door has let no one else in)."""
        who = signed_in()
        if who is None:
            raise NotSignedIn(
                "sign in as an enterprise user first (AccessService.EnterpriseSignIn)"
            )
        if who.principal.kind is not PrincipalKind.ENTERPRISE:
            raise NotPermitted(f"OdrService is for enterprise users, not {who.principal.label}")
        # The user as the door's full check read them with the session row (at most
        # RECHECK_MS ago): no read of our own, and no weaker than the session's own check.
        user = who.enterprise_user
        if user is None:
            raise NotFound(f"{who.principal.label} is no longer an enterprise user here")
        return OdrCaller(
            who.principal,
            name=user.name,
            peer=peer_of(context),
            session_id=who.session.session_id,
            method=_SERVICE + method,
        )

    async def ListDisputes(
        self, request: odr_pb2.ListDisputesRequest, context: Context
    ) -> odr_pb2.ListDisputesResponse:
        """The enterprise's disputes, open ones first."""
        caller = await self._caller(context, "ListDisputes")
        return await self._desk.list_disputes(
            caller, request.include_closed, request.page_size, request.page_token
        )

    async def GetDispute(
        self, request: odr_pb2.GetDisputeRequest, context: Context
    ) -> odr_pb2.Dispute:
        """One dispute with its history; the look at the consumer's contact is recorded."""
        caller = await self._caller(context, "GetDispute")
        ticket_id = check_reference(request.ticket_id, "ticket_id")
        return await self._desk.get_dispute(caller, ticket_id)

    async def RecordContact(
        self, request: odr_pb2.RecordContactRequest, context: Context
    ) -> odr_pb2.Dispute:
        """Record one contact with the consumer (协商记录)."""
        caller = await self._caller(context, "RecordContact")
        ticket_id = check_reference(request.ticket_id, "ticket_id")
        method = enum_member(ContactMethod, request.method, "method") if request.method else None
        has_at = request.HasField("contacted_at")
        at = request.contacted_at.ToDatetime(tzinfo=UTC) if has_at else None
        return await self._desk.record_contact(caller, ticket_id, method, at, request.result)

    async def ProposeSettlement(
        self, request: odr_pb2.ProposeSettlementRequest, context: Context
    ) -> odr_pb2.Dispute:
        """Propose a settlement (和解方案)."""
        caller = await self._caller(context, "ProposeSettlement")
        ticket_id = check_reference(request.ticket_id, "ticket_id")
        return await self._desk.propose_settlement(
            caller, ticket_id, request.terms, request.amount_fen
        )

    async def CloseDispute(
        self, request: odr_pb2.CloseDisputeRequest, context: Context
    ) -> odr_pb2.Dispute:
        """Close without settlement: declined (a complaint at once) or withdrawn."""
        caller = await self._caller(context, "CloseDispute")
        ticket_id = check_reference(request.ticket_id, "ticket_id")
        reason = enum_member(CloseReason, request.reason, "reason") if request.reason else None
        return await self._desk.close_dispute(caller, ticket_id, reason, request.note)

    async def GetPerformance(
        self, request: odr_pb2.GetPerformanceRequest, context: Context
    ) -> odr_pb2.EnterpriseStanding:
        """The enterprise's own figures for a period, judged as the county's supervision judges
        them (``core.odr.standing``); figures alone for one no longer on the roster."""
        caller = await self._caller(context, "GetPerformance")
        start = request.period_start.ToMilliseconds() if request.HasField("period_start") else None
        end = request.period_end.ToMilliseconds() if request.HasField("period_end") else None
        figures = await self._desk.performance(caller, start, end)
        judged = await self._standings.standings(
            figures.period_start.ToMilliseconds(),
            figures.period_end.ToMilliseconds(),
            credit_code=caller.principal.scope,
        )
        return standing_message(judged[0]) if judged else figures


def _add(node: Node, server: aio.Server) -> None:
    odr_pb2_grpc.add_OdrServiceServicer_to_server(OdrServicer(node.odr, node.odr_standings), server)


ODR = ServiceMount(odr_pb2.DESCRIPTOR.services_by_name["OdrService"].full_name, _add)
"""OdrService, on the client port of a county node (where its enterprises' users sign in)."""
