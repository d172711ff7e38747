"""EnrolmentService (client port) and OdrRosterSync (peer port): translate and delegate.

EnrolmentService is how a county registers and reviews applications to the ODR green channel,
how officers list units and decide removals, and how anyone on a node reads the roster; the
rules live in ``core.odr`` and ``node.enrolment``. OdrRosterSync is the roster's replication
with the children, over the peer port's mutual TLS (``sync.odr_roster_exchange``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from core.errors import InvalidInput, NotPermitted
from core.odr.enrolment import ApplicationStatus, Conditions, check_application
from core.odr.roster import OdrRoster, RosterEntry
from core.odr.roster_record import Listing, RosterRecord
from core.odr.standing import Verdict
from node.app.profile import ServiceMount
from node.edge.caller import acting_officer, peer_of
from node.edge.sync import client_certificate
from node.enrolment.applications import Application
from node.enrolment.desk import EnrolmentDesk
from node.enrolment.supervision import StandingsDesk, UnitStanding
from proto.hotline.v1 import enrolment_pb2 as pb
from proto.hotline.v1 import enrolment_pb2_grpc as pb_grpc
from proto.hotline.v1 import odr_pb2
from sync.odr_roster_exchange import RosterToChildren
from sync.odr_roster_signing import KIND_NUMBER, LISTING_NUMBER, STANDING_NUMBER, member_of

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]

_STATUS_NUMBER = {
    ApplicationStatus.PENDING: pb.APPLICATION_STATUS_PENDING,
    ApplicationStatus.APPROVED: pb.APPLICATION_STATUS_APPROVED,
    ApplicationStatus.REFUSED: pb.APPLICATION_STATUS_REFUSED,
}


def _timestamp(ms: int) -> Timestamp | None:
    if not ms:
        return None
    stamp = Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp


def application_message(application: Application) -> pb.OdrApplication:
    """An application as answered."""
    draft = application.draft
    return pb.OdrApplication(
        application_id=application.application_id,
        credit_code=draft.credit_code,
        name=draft.name,
        kind=KIND_NUMBER[draft.kind],
        unit=application.unit_code,
        status=_STATUS_NUMBER[application.status],
        reason=application.reason,
        submitted_at=_timestamp(application.submitted_ms),
        reviewed_at=_timestamp(application.reviewed_ms),
        reviewed_by=application.reviewed_by,
    )


def entry_message(entry: RosterEntry | RosterRecord) -> pb.RosterEntry:
    """A roster entry (or a record's) as answered."""
    return pb.RosterEntry(
        credit_code=entry.credit_code,
        name=entry.name,
        kind=KIND_NUMBER[entry.kind],
        unit=entry.unit_code,
        standing=STANDING_NUMBER[entry.standing],
        since=_timestamp(entry.since_ms),
        reason=entry.reason,
    )


def roster_message(
    roster: OdrRoster, records: list[RosterRecord], include_out: bool
) -> pb.OdrRoster:
    """The roster as answered: in good standing only, or every record (listed ones too)."""
    if include_out:
        entries = [entry_message(r) for r in records]
    else:
        entries = [entry_message(e) for e in roster.entries if e.standing.routable]
    return pb.OdrRoster(version=roster.version, entries=entries)


_VERDICT_NUMBER = {
    Verdict.GOOD: odr_pb2.STANDING_VERDICT_GOOD,
    Verdict.WARNING: odr_pb2.STANDING_VERDICT_WARNING,
    Verdict.REMOVAL_PROPOSED: odr_pb2.STANDING_VERDICT_REMOVAL_PROPOSED,
}


def standing_message(standing: UnitStanding) -> odr_pb2.EnterpriseStanding:
    """A unit's standing for a period as answered."""
    judged = standing.judgement
    figures = judged.figures
    return odr_pb2.EnterpriseStanding(
        credit_code=figures.credit_code,
        enterprise_name=standing.name,
        period_start=_timestamp(figures.period_start_ms),
        period_end=_timestamp(figures.period_end_ms),
        received=figures.received,
        answered_in_time=figures.answered_in_time,
        settled=figures.settled,
        accepted=figures.accepted,
        converted=figures.converted,
        verdict=_VERDICT_NUMBER[judged.verdict],
        reason=judged.reason,
    )


def _ms(request: pb.GetStandingsRequest, name: str) -> int:
    """A period's bound in ms (0: unset)."""
    return getattr(request, name).ToMilliseconds() if request.HasField(name) else 0  # type: ignore[arg-type]


class EnrolmentServicer(pb_grpc.EnrolmentServiceServicer):
    """EnrolmentService: translate and delegate to the node's ``EnrolmentDesk``."""

    def __init__(self, desk: EnrolmentDesk, standings: StandingsDesk) -> None:
        self._desk = desk
        self._standings = standings

    async def SubmitApplication(
        self, request: pb.SubmitApplicationRequest, context: Context
    ) -> pb.OdrApplication:
        """Register an application the county received (申请)."""
        officer_id = acting_officer(context)
        draft = check_application(
            request_id=request.request_id,
            credit_code=request.credit_code,
            name=request.name,
            kind=member_of(KIND_NUMBER, request.kind, "kind") if request.kind else None,
            licence_number=request.licence_number,
            commitment_letter_sha256=request.commitment_letter_sha256,
            address=request.address,
            region=request.region,
            contact_name=request.contact_name,
            contact_phone=request.contact_phone,
            conditions=Conditions(
                fixed_premises=request.fixed_premises,
                staff_count=request.staff_count,
                online_computer=request.online_computer,
                dedicated_phone=request.dedicated_phone,
                handling_rules=request.handling_rules,
            ),
        )
        return application_message(await self._desk.submit(officer_id, draft))

    async def ReviewApplication(
        self, request: pb.ReviewApplicationRequest, context: Context
    ) -> pb.ReviewApplicationResponse:
        """Approve (enrol, with the first user) or refuse with a reason (审核)."""
        officer_id = acting_officer(context)
        reviewed = await self._desk.review(
            officer_id,
            request.application_id,
            request.approve,
            request.reason,
            (request.first_user_id, request.first_user_name, request.first_user_password),
            peer_of(context),
        )
        answer = pb.ReviewApplicationResponse(application=application_message(reviewed.application))
        if reviewed.first_user is not None:
            answer.totp_secret = reviewed.first_user.totp_secret
            answer.otpauth_uri = reviewed.first_user.otpauth_uri
        return answer

    async def ListApplications(
        self, request: pb.ListApplicationsRequest, context: Context
    ) -> pb.ListApplicationsResponse:
        """The applications of the caller's unit, newest first."""
        status = member_of(_STATUS_NUMBER, request.status, "status") if request.status else None
        found = await self._desk.list_applications(status)
        return pb.ListApplicationsResponse(applications=[application_message(a) for a in found])

    async def GetRoster(self, request: pb.GetRosterRequest, context: Context) -> pb.OdrRoster:
        """The ODR roster as this node holds it (名录)."""
        if request.include_out:
            roster, records = await self._desk.roster_with_records()
        else:
            roster, records = await self._desk.roster(), []
        return roster_message(roster, records, request.include_out)

    async def SetListing(self, request: pb.SetListingRequest, context: Context) -> pb.RosterEntry:
        """Put a unit on, or take it off, the abnormal-operations list or a blacklist."""
        officer_id = acting_officer(context)
        listing: Listing = member_of(LISTING_NUMBER, request.kind, "kind")
        record = await self._desk.set_listing(
            officer_id, request.credit_code, listing, request.listed, request.note
        )
        return entry_message(record)

    async def GetStandings(
        self, request: pb.GetStandingsRequest, context: Context
    ) -> pb.GetStandingsResponse:
        """Each enrolled unit's figures and verdict for a period (ODR企业监督)."""
        found = await self._standings.standings(
            _ms(request, "period_start"), _ms(request, "period_end"), request.credit_code.strip()
        )
        return pb.GetStandingsResponse(standings=[standing_message(s) for s in found])

    async def ReviewStandings(
        self, request: pb.GetStandingsRequest, context: Context
    ) -> pb.GetStandingsResponse:
        """Judge a closed period of the county's units and sign what it finds."""
        officer_id = acting_officer(context)
        found = await self._standings.review(
            officer_id, _ms(request, "period_start"), _ms(request, "period_end")
        )
        return pb.GetStandingsResponse(standings=[standing_message(s) for s in found])

    async def DecideRemoval(
        self, request: pb.DecideRemovalRequest, context: Context
    ) -> pb.RosterEntry:
        """A unit head decides a proposal to remove a unit (signed)."""
        officer_id = acting_officer(context)
        record = await self._desk.decide_removal(
            officer_id, request.credit_code, request.approve, request.note
        )
        return entry_message(record)


class OdrRosterSyncServicer(pb_grpc.OdrRosterSyncServicer):
    """OdrRosterSync on the peer port: one page each way with a child."""

    def __init__(self, node: Node, children: RosterToChildren) -> None:
        self._node = node
        self._children = children

    async def ExchangeRoster(
        self, request: pb.RosterExchange, context: Context
    ) -> pb.RosterExchange:
        """Take the child's records, answer with the next page of the roster."""
        replication = self._node.children
        if replication is None:
            raise NotPermitted("this node serves no replication to children")
        if request.after < 0:
            raise InvalidInput("after", "must not be negative")
        return await self._children.exchange(
            replication.caller, client_certificate(context), request
        )


def _add(node: Node, server: aio.Server) -> None:
    pb_grpc.add_EnrolmentServiceServicer_to_server(
        EnrolmentServicer(node.enrolment, node.odr_standings), server
    )


def _add_peer(node: Node, server: aio.Server) -> None:
    children = RosterToChildren(node.odr_roster, node.blocking.run, node.writer)
    pb_grpc.add_OdrRosterSyncServicer_to_server(OdrRosterSyncServicer(node, children), server)


ENROLMENT = ServiceMount(pb.DESCRIPTOR.services_by_name["EnrolmentService"].full_name, _add)
"""EnrolmentService on every node's client port (a county registers; every node reads)."""

ODR_ROSTER_SYNC = ServiceMount(
    pb.DESCRIPTOR.services_by_name["OdrRosterSync"].full_name, _add_peer, peer=True
)
"""OdrRosterSync on the peer port of every node with children (beside SyncService)."""
