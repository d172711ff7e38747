"""ConsumerService: the consumer's own page (消费者页面) on every node's client port.

Translates and delegates to ``node.desks.consumer.ConsumerDesk``. FileComplaint is open (no
session; the desk limits it per caller address); the other methods are for the consumer's
session of the ticket they name, which the door (``node.edge.guard``) has checked against
``core.access.permissions`` and this checks again before anything is read or written.
AnswerProposal belongs to the ODR desk (``node.desks.odr``), reached through
``ConsumerServicer.proposals``, which the wiring sets.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

import grpc
from grpc import aio

from core.access.principals import PrincipalKind
from core.errors import NotPermitted
from core.identifiers import check_reference
from core.limits import check_text
from core.ticket.commands import RegisterTicket
from core.ticket.vocabulary import (
    Channel,
    Consumer,
    Respondent,
    Satisfaction,
    SourceLine,
    TicketKind,
)
from node.access.accounts import SignedIn
from node.app.profile import ServiceMount
from node.desks.consumer import ConsumerDesk, ProposalDesk
from node.edge.caller import peer_of, signed_in
from proto.hotline.v1 import consumer_pb2, consumer_pb2_grpc
from sync.codec import enum_member, from_message

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]


class ProposalAnswers(Protocol):
    """What answers a consumer's accept or reject of an ODR proposal (``node.desks.odr``)."""

    async def answer_proposal(
        self, caller: SignedIn, ticket_id: str, accept: bool, reason: str
    ) -> consumer_pb2.TicketProgress:
        """Record the consumer's answer; the ticket's progress after it."""
        ...


def web_filing(request: consumer_pb2.FileComplaintRequest) -> RegisterTicket:
    """A complaint filed online, as the registration every channel makes (网上投诉)."""
    return RegisterTicket(
        kind=TicketKind.COMPLAINT,
        channel=Channel.WEB,
        source_line=SourceLine.LINE_12315,
        consumer=from_message(Consumer, request.consumer, "consumer"),
        respondent=from_message(Respondent, request.respondent, "respondent"),
        category=request.category,
        facts=request.facts,
        request=request.request,
        amount_fen=request.amount_fen,
        odr_green_channel=request.odr_green_channel,
    )


def own_ticket(ticket_id: str) -> str:
    """``ticket_id``, when the call's session is its consumer's; else ``NotPermitted``."""
    ticket_id = check_reference(ticket_id, "ticket_id")
    who = signed_in()
    if who is None or who.principal.kind is not PrincipalKind.CONSUMER:
        raise NotPermitted("this page is for the consumer of the ticket, signed in with its code")
    if who.principal.scope != ticket_id:
        raise NotPermitted(f"{ticket_id} is not the ticket of this consumer session")
    return ticket_id


class ConsumerServicer(consumer_pb2_grpc.ConsumerServiceServicer):
    """ConsumerService: file online, follow, rate, answer an ODR proposal."""

    def __init__(self, desk: ConsumerDesk, proposals: ProposalAnswers | None = None) -> None:
        self._desk = desk
        self.proposals = proposals
        """The ODR desk that answers proposals (set by the wiring; None: not served here)."""

    async def FileComplaint(
        self, request: consumer_pb2.FileComplaintRequest, context: Context
    ) -> consumer_pb2.FileComplaintResponse:
        """File a complaint online; idempotent on request_id (a replay shows no code)."""
        outcome = await self._desk.file(
            request.request_id, lambda: web_filing(request), peer_of(context)
        )
        return consumer_pb2.FileComplaintResponse(
            ticket_id=outcome.ticket_id,
            code=outcome.consumer_code,
            replayed=outcome.replayed,
            odr=outcome.odr,
        )

    async def FollowTicket(
        self, request: consumer_pb2.FollowTicketRequest, context: Context
    ) -> consumer_pb2.TicketProgress:
        """The consumer's ticket: where it is, what was done, what is awaited and by when."""
        return await self._desk.follow(own_ticket(request.ticket_id))

    async def RateHandling(
        self, request: consumer_pb2.RateHandlingRequest, context: Context
    ) -> consumer_pb2.TicketProgress:
        """The consumer rates the handling of their closed ticket (回访评价)."""
        ticket_id = own_ticket(request.ticket_id)
        rating = enum_member(Satisfaction, request.rating, "rating")
        return await self._desk.rate(ticket_id, rating, request.comment)

    async def AnswerProposal(
        self, request: consumer_pb2.AnswerProposalRequest, context: Context
    ) -> consumer_pb2.TicketProgress:
        """Accept or reject the enterprise's settlement proposal (ODR); a rejection needs a
        reason and turns the dispute into a formal complaint."""
        ticket_id = own_ticket(request.ticket_id)
        reason = check_text(request.reason, "reason", required=not request.accept, kind="note")
        caller = signed_in()
        if self.proposals is None or caller is None:
            context.set_code(grpc.StatusCode.UNIMPLEMENTED)
            context.set_details("ODR proposals are not answered on this node yet")
            return consumer_pb2.TicketProgress()
        return await self.proposals.answer_proposal(caller, ticket_id, request.accept, reason)


def _real_ms() -> int:
    """Real wall time, Unix milliseconds: what the filing limit goes by (never a drill clock)."""
    return time.time_ns() // 1_000_000


def _add(node: Node, server: aio.Server) -> None:
    desk = ConsumerDesk(
        node.intake,
        node.casework,
        node.records,
        node.roster,
        node.db,
        node.blocking,
        _real_ms,
        deadlines=node.deadlines,
        node_ms=node.clock.wall_ms,
        access=node.access,
    )
    servicer = ConsumerServicer(desk, ProposalDesk(node.odr, desk))
    consumer_pb2_grpc.add_ConsumerServiceServicer_to_server(servicer, server)


CONSUMER = ServiceMount(consumer_pb2.DESCRIPTOR.services_by_name["ConsumerService"].full_name, _add)
"""ConsumerService, on every node's client port."""


__all__ = ["CONSUMER", "ConsumerServicer", "ProposalAnswers", "web_filing"]
