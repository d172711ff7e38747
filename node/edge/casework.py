"""CaseworkService: one method per handling step, all through ``CaseworkDesk.act``.

Translates and delegates; errors propagate to ``node.edge.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grpc import aio

from core.identifiers import check_reference
from core.ticket import commands as c
from node.app.profile import ServiceMount
from node.desks.casework import CaseworkDesk
from node.edge.caller import acting_officer
from proto.hotline.v1 import casework_pb2, casework_pb2_grpc
from sync.codec import from_message

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]


class CaseworkServicer(casework_pb2_grpc.CaseworkServiceServicer):
    """CaseworkService: one method per handling step, all through ``CaseworkDesk.act``."""

    def __init__(self, desk: CaseworkDesk) -> None:
        self._desk = desk

    async def _step(
        self, request: Any, command_type: type[c.TicketCommand], context: Context
    ) -> casework_pb2.StepResponse:
        officer = acting_officer(context)
        check_reference(request.ticket_id, "ticket_id")
        command: c.TicketCommand = from_message(command_type, request)
        outcome = await self._desk.act(request.ticket_id, command, officer)
        response = casework_pb2.StepResponse(event_ids=outcome.event_ids)
        response.ticket.ParseFromString(outcome.view)
        return response

    async def RouteTicket(
        self, request: casework_pb2.RouteTicketRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Dispatch a ticket (分流/派单); with to_unit empty, by jurisdiction. Hubs and cities."""
        return await self._step(request, c.RouteTicket, context)

    async def ReturnTicket(
        self, request: casework_pb2.ReturnTicketRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Send the ticket back to its dispatcher: not competent (退回)."""
        return await self._step(request, c.ReturnTicket, context)

    async def AcceptComplaint(
        self, request: casework_pb2.AcceptComplaintRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Accept a complaint (受理)."""
        return await self._step(request, c.AcceptComplaint, context)

    async def RefuseComplaint(
        self, request: casework_pb2.RefuseComplaintRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Decline a complaint on a legal ground (不予受理)."""
        return await self._step(request, c.RefuseComplaint, context)

    async def AssignToStation(
        self, request: casework_pb2.AssignToStationRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Hand the ticket to a station of the holding county."""
        return await self._step(request, c.AssignToStation, context)

    async def PauseMediation(
        self, request: casework_pb2.PauseMediationRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Stop the mediation clock for testing or appraisal."""
        return await self._step(request, c.PauseMediation, context)

    async def ResumeMediation(
        self, request: casework_pb2.ResumeMediationRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Restart the mediation clock."""
        return await self._step(request, c.ResumeMediation, context)

    async def EndMediation(
        self, request: casework_pb2.EndMediationRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """End mediation with its outcome."""
        return await self._step(request, c.EndMediation, context)

    async def VerifyReport(
        self, request: casework_pb2.VerifyReportRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Record whether a report is substantiated."""
        return await self._step(request, c.VerifyReport, context)

    async def OpenCase(
        self, request: casework_pb2.OpenCaseRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Open an enforcement case on a substantiated report (立案)."""
        return await self._step(request, c.OpenCase, context)

    async def SubmitResult(
        self, request: casework_pb2.SubmitResultRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Write and sign a result; the calling officer is the handler."""
        return await self._step(request, c.SubmitResult, context)

    async def ApproveResult(
        self, request: casework_pb2.ApproveResultRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Approve a result as unit head; the part closes."""
        return await self._step(request, c.ApproveResult, context)

    async def RejectResult(
        self, request: casework_pb2.RejectResultRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Send a result back to the handler."""
        return await self._step(request, c.RejectResult, context)

    async def AnswerInquiry(
        self, request: casework_pb2.AnswerInquiryRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Answer a consultation or suggestion."""
        return await self._step(request, c.AnswerInquiry, context)

    async def RecordCallback(
        self, request: casework_pb2.RecordCallbackRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Record the callback rating; DISSATISFIED also reopens the ticket."""
        return await self._step(request, c.RecordCallback, context)

    async def RequestExtension(
        self, request: casework_pb2.RequestExtensionRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Ask a unit above for more working days for a duty (延期申请)."""
        return await self._step(request, c.RequestExtension, context)

    async def DecideExtension(
        self, request: casework_pb2.DecideExtensionRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Approve or deny the pending extension of a duty."""
        return await self._step(request, c.DecideExtension, context)

    async def OrderSupervision(
        self, request: casework_pb2.OrderSupervisionRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Put the ticket under supervision (督办)."""
        return await self._step(request, c.OrderSupervision, context)

    async def ReportSupervision(
        self, request: casework_pb2.ReportSupervisionRequest, context: Context
    ) -> casework_pb2.StepResponse:
        """Answer a supervision order in writing (督办回复)."""
        return await self._step(request, c.ReportSupervision, context)


def _add(node: Node, server: aio.Server) -> None:
    casework_pb2_grpc.add_CaseworkServiceServicer_to_server(CaseworkServicer(node.casework), server)


CASEWORK = ServiceMount(casework_pb2.DESCRIPTOR.services_by_name["CaseworkService"].full_name, _add)
"""CaseworkService, on every node's client port."""
