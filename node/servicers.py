"""The gRPC servicers every node serves: Intake, Casework and Admin. Thin by design.

Each method translates the request into a core command (``sync.codec``), hands it to the
desk, and translates the result back. Errors propagate to ``node.grpc_edge``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from grpc import aio

from core.errors import InvalidInput
from core.officers import Role
from core.ticket import commands as c
from core.units import UnitLevel
from node.casework import CaseworkDesk
from node.grpc_edge import acting_officer
from node.intake import IntakeDesk
from node.roster import Roster
from node.sync_admin import SyncAdministration
from proto.hotline.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    casework_pb2,
    casework_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    sync_pb2,
    ticket_pb2,
)
from sync.codec import enum_member, enum_number, from_message

Context = aio.ServicerContext[Any, Any]


class IntakeServicer(intake_pb2_grpc.IntakeServiceServicer):
    """IntakeService: register, get, list, history."""

    def __init__(self, desk: IntakeDesk, roster: Roster) -> None:
        self._desk = desk
        self._roster = roster

    def _reader(self, context: Context) -> None:
        self._roster.officer(acting_officer(context))

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
            ticket_id=outcome.ticket_id, replayed=outcome.replayed
        )
        response.ticket.ParseFromString(outcome.view)
        return response

    async def GetTicket(
        self, request: intake_pb2.GetTicketRequest, context: Context
    ) -> ticket_pb2.Ticket:
        """The current state of one ticket, as folded on this node."""
        self._reader(context)
        return self._desk.get(request.ticket_id)

    async def ListTickets(
        self, request: intake_pb2.ListTicketsRequest, context: Context
    ) -> intake_pb2.ListTicketsResponse:
        """Tickets held here, newest first, filtered by unit and status."""
        self._reader(context)
        return self._desk.list(request)

    async def GetTicketHistory(
        self, request: intake_pb2.GetTicketHistoryRequest, context: Context
    ) -> intake_pb2.TicketHistory:
        """Every event of a ticket held here, in fold order, with who recorded and signed each."""
        self._reader(context)
        return self._desk.history(request.ticket_id)


class CaseworkServicer(casework_pb2_grpc.CaseworkServiceServicer):
    """CaseworkService: one method per handling step, all through ``CaseworkDesk.act``."""

    def __init__(self, desk: CaseworkDesk) -> None:
        self._desk = desk

    async def _step(
        self, request: Any, command_type: type[c.TicketCommand], context: Context
    ) -> casework_pb2.StepResponse:
        officer = acting_officer(context)
        if not request.ticket_id:
            raise InvalidInput("ticket_id", "must not be empty")
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


NodeInfoSource = Callable[[], Awaitable[admin_pb2.NodeInfo]]
SyncTrigger = Callable[[], Awaitable[admin_pb2.SyncReport]]


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    """AdminService: roster, units, node status, a sync round, and the bare no-op."""

    def __init__(
        self,
        roster: Roster,
        node_info: NodeInfoSource,
        sync_now: SyncTrigger,
        replication: SyncAdministration,
    ) -> None:
        self._roster = roster
        self._node_info = node_info
        self._sync_now = sync_now
        self._replication = replication

    async def GetSyncStatus(
        self, request: admin_pb2.GetSyncStatusRequest, context: Context
    ) -> admin_pb2.SyncStatus:
        """Replication with each peer: lag in events and time, last error, quarantine."""
        return await asyncio.to_thread(self._replication.status)

    async def ListAlerts(
        self, request: admin_pb2.ListAlertsRequest, context: Context
    ) -> admin_pb2.ListAlertsResponse:
        """Alerts raised on this node, newest first."""
        return await asyncio.to_thread(self._replication.alerts, request.limit)

    async def ReleaseQuarantine(
        self, request: admin_pb2.ReleaseQuarantineRequest, context: Context
    ) -> admin_pb2.ReleaseQuarantineResponse:
        """Let a quarantined origin's events in again."""
        released = await self._replication.release(request.origin_node, request.note)
        return admin_pb2.ReleaseQuarantineResponse(released=released)

    async def PublishTrust(
        self, request: sync_pb2.TrustBundle, context: Context
    ) -> admin_pb2.PublishTrustResponse:
        """Hold new authority certificates or revocation lists (checked against the root)."""
        return await self._replication.publish(request)

    async def Ping(
        self, request: admin_pb2.PingRequest, context: Context
    ) -> admin_pb2.PingResponse:
        """Does nothing; measures the cost of a call on this server."""
        return admin_pb2.PingResponse(payload=request.payload)

    async def GetNodeInfo(
        self, request: admin_pb2.GetNodeInfoRequest, context: Context
    ) -> admin_pb2.NodeInfo:
        """Who this node is and how its replication stands."""
        return await self._node_info()

    async def RegisterOfficer(
        self, request: admin_pb2.OfficerRecord, context: Context
    ) -> admin_pb2.OfficerRecord:
        """Put an officer on this node's roster (or update them)."""
        roles = frozenset(enum_member(Role, r, "roles") for r in request.roles)
        officer = self._roster.register_officer(
            request.officer_id, request.name, request.unit_code, roles
        )
        return _officer_record(officer.officer_id, officer.name, officer.unit_code, officer.roles)

    async def ListOfficers(
        self, request: admin_pb2.ListOfficersRequest, context: Context
    ) -> admin_pb2.ListOfficersResponse:
        """The officers on this node's roster."""
        return admin_pb2.ListOfficersResponse(
            officers=[
                _officer_record(o.officer_id, o.name, o.unit_code, o.roles)
                for o in self._roster.officers()
            ]
        )

    async def RegisterUnit(
        self, request: admin_pb2.UnitRecord, context: Context
    ) -> admin_pb2.UnitRecord:
        """Add a unit this node must know: a station of a county, or a division not in the table."""
        level = enum_member(UnitLevel, request.level, "level")
        unit = self._roster.register_unit(request.code, request.name, level, request.parent_code)
        return admin_pb2.UnitRecord(
            code=unit.code,
            name=unit.name,
            level=enum_number(unit.level),
            parent_code=unit.parent_code,
        )

    async def ListUnits(
        self, request: admin_pb2.ListUnitsRequest, context: Context
    ) -> admin_pb2.ListUnitsResponse:
        """Units known here under a prefix."""
        return admin_pb2.ListUnitsResponse(
            units=[
                admin_pb2.UnitRecord(
                    code=u.code, name=u.name, level=enum_number(u.level), parent_code=u.parent_code
                )
                for u in sorted(self._roster.units, key=lambda u: u.code)
                if u.code.startswith(request.prefix)
            ]
        )

    async def SyncNow(
        self, request: admin_pb2.SyncNowRequest, context: Context
    ) -> admin_pb2.SyncReport:
        """Run one replication round with the parent now, and report it."""
        return await self._sync_now()


def _officer_record(
    officer_id: str, name: str, unit_code: str, roles: frozenset[Role]
) -> admin_pb2.OfficerRecord:
    return admin_pb2.OfficerRecord(
        officer_id=officer_id,
        name=name,
        unit_code=unit_code,
        roles=sorted(enum_number(r) for r in roles),
    )
