"""IntakeService: register, get, list, history, deadlines, and a look at a filer in full.

Translates and delegates.

Each method turns the request into a core command (``sync.codec``), hands it to the intake
desk or the ticket records, and turns the result back. Errors propagate to
``node.edge.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grpc import aio

from core.access.principals import PrincipalKind
from core.errors import InvalidInput, NotPermitted
from core.identifiers import check_code_prefix, check_reference
from core.ticket import commands as c
from core.ticket.state import TicketStatus
from core.ticket.vocabulary import PersonalField
from node.app.profile import ServiceMount
from node.desks.intake import IntakeDesk
from node.desks.personal_data import Asker, PersonalDataDesk
from node.desks.records import TicketRecords
from node.desks.roster import Roster
from node.edge.caller import acting_officer, peer_of, signed_in
from proto.hotline.v1 import intake_pb2, intake_pb2_grpc, ticket_pb2
from sync.codec import enum_member, enum_number, from_message

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]

MAX_PAGE_TOKEN = 200
"""Longest page token a previous page can have handed out (``node.desks.records``)."""


class IntakeServicer(intake_pb2_grpc.IntakeServiceServicer):
    """IntakeService: register, get, list, history, deadlines, reveal."""

    def __init__(
        self,
        desk: IntakeDesk,
        records: TicketRecords,
        roster: Roster,
        personal: PersonalDataDesk,
    ) -> None:
        self._desk = desk
        self._records = records
        self._roster = roster
        self._personal = personal

    async def _reader(self, context: Context, ticket_id: str | None = None) -> None:
        """The caller must be on the roster; a ticket id asked for must be one an id can be."""
        await self._roster.resolve(acting_officer(context))
        if ticket_id is not None:
            check_reference(ticket_id, "ticket_id")

    async def RegisterTicket(
        self, request: intake_pb2.RegisterTicketRequest, context: Context
    ) -> intake_pb2.RegisterTicketResponse:
        """Register a new ticket; idempotent on request_id (a retry returns the first ticket)."""
        officer = acting_officer(context)
        if not request.HasField("ticket"):
            raise InvalidInput("ticket", "must be set")
        command = from_message(c.RegisterTicket, request.ticket, "ticket")
        try:
            outcome = await self._desk.register(request.request_id, command, officer)
        except InvalidInput as error:
            if error.field == "request_id":
                raise
            # The core names fields of the command; the caller knows them under `ticket`.
            raise InvalidInput(f"ticket.{error.field}", error.reason) from error
        response = intake_pb2.RegisterTicketResponse(
            ticket_id=outcome.ticket_id,
            replayed=outcome.replayed,
            deadlines=outcome.deadlines,
            consumer_code=outcome.consumer_code,
        )
        response.ticket.ParseFromString(outcome.view)
        if outcome.masked is not None:  # masked from the command in hand: no read needed
            consumer, masked = response.ticket.registration.consumer, outcome.masked
            consumer.name, consumer.phone = masked.name, masked.phone
            consumer.address, consumer.id_number = masked.address, masked.id_number
            response.ticket.personal_status = ticket_pb2.PERSONAL_DATA_STATUS_MASKED
        else:
            response.ticket.CopyFrom(await self._records.masked(response.ticket))
        return response

    async def GetTicket(
        self, request: intake_pb2.GetTicketRequest, context: Context
    ) -> ticket_pb2.Ticket:
        """The current state of one ticket, as folded on this node; a consumer's session reads
        its own ticket only (the door has checked it; checked again here)."""
        who = signed_in()
        if who is not None and who.principal.kind is PrincipalKind.CONSUMER:
            if request.ticket_id != who.principal.scope:
                raise NotPermitted("a consumer's session reads its own ticket only")
            return await self._records.get(check_reference(request.ticket_id, "ticket_id"))
        await self._reader(context, request.ticket_id)
        return await self._records.get(request.ticket_id)

    async def ListTickets(
        self, request: intake_pb2.ListTicketsRequest, context: Context
    ) -> intake_pb2.ListTicketsResponse:
        """Tickets held here, newest first, filtered by unit and status."""
        await self._reader(context)
        check_code_prefix(request.holder_prefix, "holder_prefix")
        if request.status:
            enum_member(TicketStatus, request.status, "status")
        if len(request.page_token) > MAX_PAGE_TOKEN:
            raise InvalidInput("page_token", "not a token from a previous page")
        return await self._records.list(request)

    async def GetTicketHistory(
        self, request: intake_pb2.GetTicketHistoryRequest, context: Context
    ) -> intake_pb2.TicketHistory:
        """Every event of a ticket held here, in fold order, with who recorded and signed each."""
        await self._reader(context, request.ticket_id)
        return await self._records.history(request.ticket_id)

    async def GetTicketDeadlines(
        self, request: intake_pb2.GetTicketDeadlinesRequest, context: Context
    ) -> intake_pb2.TicketDeadlines:
        """The ticket's open duties and when each is due, provisional ones marked (暂定)."""
        await self._reader(context, request.ticket_id)
        return await self._records.deadlines(request.ticket_id)

    async def RevealPersonalData(
        self, request: intake_pb2.RevealPersonalDataRequest, context: Context
    ) -> intake_pb2.RevealedPersonalData:
        """One personal field of the filer in full, for a purpose; the look is recorded."""
        officer = acting_officer(context)
        ticket_id = check_reference(request.ticket_id, "ticket_id")
        which = enum_member(PersonalField, request.field, "field")
        who = signed_in()
        asker = Asker(officer, peer_of(context), who.session.session_id if who else "")
        revealed = await self._personal.reveal(ticket_id, which, request.purpose, asker)
        return intake_pb2.RevealedPersonalData(
            ticket_id=revealed.ticket_id,
            field=enum_number(revealed.field),
            value=revealed.value,
            event_id=revealed.event_id,
        )


def _add(node: Node, server: aio.Server) -> None:
    servicer = IntakeServicer(node.intake, node.records, node.roster, node.personal_data)
    intake_pb2_grpc.add_IntakeServiceServicer_to_server(servicer, server)


INTAKE = ServiceMount(intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name, _add)
"""IntakeService, on every node's client port."""
