"""TEST-ONLY fake servicers for the web front's tests (see tests/web/fake_node.py).

AccessService, OdrService, ConsumerService and EnrolmentService as the contracts describe them,
over the canned world of ``fake_node``: they check the bearer token and refuse the way a real
node would, and decide nothing real.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio

from core.odr.standing import DEFAULT_ODR_THRESHOLDS, StandingFigures, judge
from core.regions import standard_units
from core.ticket import events as e
from core.ticket.vocabulary import Channel
from core.units import UnitDirectory
from node.cli.terms import TERMS
from node.edge.enrolment import standing_message
from node.enrolment.supervision import UnitStanding
from proto.hotline.v1 import (
    access_pb2,
    access_pb2_grpc,
    common_pb2,
    consumer_pb2,
    consumer_pb2_grpc,
    enrolment_pb2,
    enrolment_pb2_grpc,
    odr_pb2,
    odr_pb2_grpc,
)
from tests.web.fake_node import (
    ENTERPRISE_A,
    ENTERPRISE_B,
    LOCK_AFTER,
    NAME_A,
    NAME_B,
    OFFICER,
    PASSWORD,
    TOTP,
    USER,
    FakeWorld,
    Refused,
    stamp,
    tls_pair,
)


def refusing(method: Any) -> Any:
    """Turn a ``Refused`` into the call's status (as the real edge does)."""

    async def wrapped(self: Any, request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await method(self, request, context)
        except Refused as refusal:
            await context.abort(refusal.code, refusal.detail)

    return wrapped


PERFORMANCE = {ENTERPRISE_A: (12, 11, 9, 9, 2), ENTERPRISE_B: (10, 5, 3, 3, 7)}
"""Canned figures of the last 90 days: received, answered in time, settled, accepted,
converted."""


def judged(credit_code: str, name: str, *figures: int) -> odr_pb2.EnterpriseStanding:
    """A standing as the real node answers it: ``figures`` judged by the county's rule
    (``core.odr.standing.judge``, default thresholds, no poor period before) and put into the
    message by the real edge's ``standing_message``."""
    end = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    counted = StandingFigures(credit_code, end - 90 * 86_400_000, end, *figures)
    return standing_message(UnitStanding(name, judge(counted, DEFAULT_ODR_THRESHOLDS, 0)))


def _unit_name(code: str) -> str:
    """A unit's name as the real node finds it ('' when not known)."""
    found = UnitDirectory(standard_units()).find(code)
    return found.name if found is not None else ""


def _required(**values: str) -> None:
    for name, value in values.items():
        if not value:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, f"{name}: required")


class FakeAccess(access_pb2_grpc.AccessServiceServicer):
    """TEST-ONLY sign-in: one user per enterprise, one officer, a code per ticket."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    @refusing
    async def EnterpriseSignIn(self, request: Any, context: Any) -> Any:
        names = {ENTERPRISE_A: NAME_A, ENTERPRISE_B: NAME_B}
        known = request.credit_code in names and request.user_id == USER
        if not known or request.password != PASSWORD or request.totp_code != TOTP:
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, "wrong user, password or code")
        return self.world.open_session(
            principal="enterprise",
            officer_id=USER,
            credit_code=request.credit_code,
            enterprise_name=names[request.credit_code],
            unit_code="370102",
        )

    @refusing
    async def SignIn(self, request: Any, context: Any) -> Any:
        if (request.officer_id, request.password, request.totp_code) != (OFFICER, PASSWORD, TOTP):
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, "wrong officer, password or code")
        return self.world.open_session(
            principal="officer", officer_id=OFFICER, officer_name="赵监管", unit_code="370102"
        )

    @refusing
    async def ConsumerSignIn(self, request: Any, context: Any) -> Any:
        world = self.world
        if world.wrong_codes.get(request.ticket_id, 0) >= LOCK_AFTER:
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, self._locked())
        if world.codes.get(request.ticket_id) != request.code or not request.code:
            world.wrong_codes[request.ticket_id] = world.wrong_codes.get(request.ticket_id, 0) + 1
            if world.wrong_codes[request.ticket_id] >= LOCK_AFTER:
                raise Refused(grpc.StatusCode.PERMISSION_DENIED, self._locked())
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, "wrong ticket id or verification code")
        return world.open_session(principal="consumer", ticket_id=request.ticket_id)

    def _locked(self) -> str:
        return (
            "too many wrong verification codes for this ticket: it cannot be read with a code "
            "until 2026-12-03 19:00 +08:00 (锁定)"
        )

    @refusing
    async def SignOut(self, request: Any, context: Any) -> Any:
        session = self.world.session_of(context)
        for token, held in list(self.world.sessions.items()):
            if held.session_id == session.session_id:
                del self.world.sessions[token]
        return access_pb2.SignOutResponse(session_id=session.session_id)


class FakeOdr(odr_pb2_grpc.OdrServiceServicer):
    """TEST-ONLY enterprise side: the caller's own disputes only."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def _enterprise(self, context: Any) -> access_pb2.Session:
        session = self.world.session_of(context)
        if session.principal != "enterprise":
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, "enterprise users only")
        return session

    @refusing
    async def ListDisputes(self, request: Any, context: Any) -> Any:
        session = self._enterprise(context)
        answer = odr_pb2.ListDisputesResponse()
        own = [d for d in self.world.disputes.values() if d.credit_code == session.credit_code]
        start = int(request.page_token or 0)
        size = request.page_size or 50
        for dispute in own[start : start + size]:
            listed = answer.disputes.add()
            listed.CopyFrom(dispute)
            del listed.history[:]
        if start + size < len(own):
            answer.next_page_token = str(start + size)
        return answer

    @refusing
    async def GetDispute(self, request: Any, context: Any) -> Any:
        return self.world.own_dispute(self._enterprise(context), request.ticket_id)

    @refusing
    async def RecordContact(self, request: Any, context: Any) -> Any:
        session = self._enterprise(context)
        dispute = self.world.own_dispute(session, request.ticket_id)
        if request.method == odr_pb2.CONTACT_METHOD_UNSPECIFIED:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "method: required")
        if not request.HasField("contacted_at"):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "contacted_at: required")
        _required(result=request.result)
        dispute.history.add(
            at=stamp(dt.datetime.now(dt.UTC)),
            kind=odr_pb2.ODR_STEP_KIND_CONTACT,
            method=request.method,
            contacted_at=request.contacted_at,
            text=request.result,
            by=session.officer_id,
        )
        return dispute

    @refusing
    async def ProposeSettlement(self, request: Any, context: Any) -> Any:
        session = self._enterprise(context)
        dispute = self.world.own_dispute(session, request.ticket_id)
        if dispute.status != odr_pb2.DISPUTE_STATUS_NEGOTIATING:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, "no proposal while not negotiating")
        if not request.terms:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT, "terms: required (what the enterprise offers)"
            )
        if request.amount_fen < 0:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "amount_fen: must not be negative")
        dispute.status = odr_pb2.DISPUTE_STATUS_PROPOSED
        dispute.proposal_terms = request.terms
        dispute.proposal_amount_fen = request.amount_fen
        dispute.history.add(
            at=stamp(dt.datetime.now(dt.UTC)),
            kind=odr_pb2.ODR_STEP_KIND_PROPOSAL,
            text=request.terms,
            amount_fen=request.amount_fen,
            by=session.officer_id,
        )
        return dispute

    @refusing
    async def CloseDispute(self, request: Any, context: Any) -> Any:
        session = self._enterprise(context)
        dispute = self.world.own_dispute(session, request.ticket_id)
        if request.reason == odr_pb2.CLOSE_REASON_UNSPECIFIED:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "reason: required")
        _required(note=request.note)
        dispute.status = odr_pb2.DISPUTE_STATUS_CONVERTED
        dispute.ClearField("due_at")
        return dispute

    @refusing
    async def GetPerformance(self, request: Any, context: Any) -> Any:
        session = self._enterprise(context)
        return judged(session.credit_code, session.enterprise_name, *PERFORMANCE[ENTERPRISE_A])


class FakeConsumer(consumer_pb2_grpc.ConsumerServiceServicer):
    """TEST-ONLY consumer side: the session's own ticket only."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def _own(self, context: Any, ticket_id: str) -> odr_pb2.Dispute:
        session = self.world.session_of(context)
        if session.principal != "consumer" or session.ticket_id != ticket_id:
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, "not your ticket")
        return self.world.disputes[ticket_id]

    @refusing
    async def FileComplaint(self, request: Any, context: Any) -> Any:
        _required(**{"consumer.name": request.consumer.name})
        phone = request.consumer.phone
        if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"consumer.phone: {phone!r} is not a mobile (11 digits from 1) or landline number",
            )
        _required(**{"respondent.name": request.respondent.name})
        _required(category=request.category, facts=request.facts, request=request.request)
        code = request.respondent.credit_code or ENTERPRISE_A
        ticket_id = self.world.add_dispute(
            code,
            request.respondent.name,
            10,
            category=request.category,
            facts=request.facts,
            request=request.request,
            amount_fen=request.amount_fen,
            consumer_name=request.consumer.name,
            consumer_phone=phone,
        )
        return consumer_pb2.FileComplaintResponse(
            ticket_id=ticket_id, code=self.world.codes[ticket_id], odr=request.odr_green_channel
        )

    def _progress(self, dispute: odr_pb2.Dispute) -> consumer_pb2.TicketProgress:
        """The ticket as the real node tells its consumer (``node.desks.consumer.follow``):
        the ticket's own steps (here, its registration online at the enterprise's county)
        among ``steps``, the ODR steps in the dispute's history only, units named from the
        GB/T 2260 table."""
        proposed = dispute.status == odr_pb2.DISPUTE_STATUS_PROPOSED
        settled = dispute.status == odr_pb2.DISPUTE_STATUS_SETTLED
        rating = self.world.ratings.get(dispute.ticket_id, 0)
        unit = dispute.enterprise_unit
        unit_name = _unit_name(unit)
        progress = consumer_pb2.TicketProgress(
            ticket_id=dispute.ticket_id,
            kind=common_pb2.TICKET_KIND_COMPLAINT,
            status="CLOSED" if settled else "REGISTERED",
            holding_unit=unit,
            holding_unit_name=unit_name,
            registered_at=dispute.opened_at,
            odr=dispute,
            can_answer_proposal=proposed,
            can_rate=settled and not rating,
            rating=common_pb2.Satisfaction.ValueType(rating),
        )
        if not settled:
            progress.current_duty = common_pb2.DUTY_ODR_ANSWER
            progress.due_at.CopyFrom(dispute.due_at)
        progress.steps.add(
            at=dispute.opened_at,
            what=e.TicketRegistered.__name__,
            unit=unit,
            unit_name=unit_name,
            text=f"已登记（{TERMS[Channel.WEB]}）",
        )
        return progress

    @refusing
    async def FollowTicket(self, request: Any, context: Any) -> Any:
        return self._progress(self._own(context, request.ticket_id))

    @refusing
    async def AnswerProposal(self, request: Any, context: Any) -> Any:
        dispute = self._own(context, request.ticket_id)
        if dispute.status != odr_pb2.DISPUTE_STATUS_PROPOSED:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, "no proposal awaits an answer")
        if not request.accept and not request.reason:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "reason: required when rejecting")
        dispute.status = (
            odr_pb2.DISPUTE_STATUS_SETTLED if request.accept else odr_pb2.DISPUTE_STATUS_CONVERTED
        )
        dispute.ClearField("due_at")
        dispute.history.add(
            at=stamp(dt.datetime.now(dt.UTC)),
            kind=odr_pb2.ODR_STEP_KIND_ANSWER,
            accepted=request.accept,
            text=request.reason,
            by="consumer",
        )
        return self._progress(dispute)

    @refusing
    async def RateHandling(self, request: Any, context: Any) -> Any:
        dispute = self._own(context, request.ticket_id)
        if request.rating == common_pb2.SATISFACTION_UNSPECIFIED:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "rating: required")
        self.world.ratings[dispute.ticket_id] = request.rating
        return self._progress(dispute)


class FakeEnrolment(enrolment_pb2_grpc.EnrolmentServiceServicer):
    """TEST-ONLY supervision: canned standings and roster for officers."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def _officer(self, context: Any) -> None:
        if self.world.session_of(context).principal != "officer":
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, "officers only")

    @refusing
    async def GetStandings(self, request: Any, context: Any) -> Any:
        self._officer(context)
        return enrolment_pb2.GetStandingsResponse(
            standings=[
                judged(code, name, *PERFORMANCE[code])
                for code, name in ((ENTERPRISE_A, NAME_A), (ENTERPRISE_B, NAME_B))
            ]
        )

    @refusing
    async def GetRoster(self, request: Any, context: Any) -> Any:
        self._officer(context)
        since = stamp(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        return enrolment_pb2.OdrRoster(
            version=7,
            signed_by="n370102",
            entries=[
                enrolment_pb2.RosterEntry(
                    credit_code=ENTERPRISE_A,
                    name=NAME_A,
                    kind=enrolment_pb2.APPLICANT_KIND_MALL_DESK,
                    unit="370102",
                    standing=enrolment_pb2.ROSTER_STANDING_ENROLLED,
                    since=since,
                ),
                enrolment_pb2.RosterEntry(
                    credit_code=ENTERPRISE_B,
                    name=NAME_B,
                    kind=enrolment_pb2.APPLICANT_KIND_ENTERPRISE,
                    unit="370102",
                    standing=enrolment_pb2.ROSTER_STANDING_WARNED,
                    since=since,
                    reason="按期答复率50%，低于80%",
                ),
            ],
        )


@dataclass
class FakeNode:
    """A running fake node: its address, the root its certificate chains to, its world."""

    server: aio.Server
    target: str
    root_pem: bytes
    world: FakeWorld


async def start_fake_node(world: FakeWorld) -> FakeNode:
    """Serve the fakes over TLS on a free loopback port."""
    root_pem, key_pem, leaf_pem = tls_pair()
    server = aio.server()
    access_pb2_grpc.add_AccessServiceServicer_to_server(FakeAccess(world), server)  # type: ignore[abstract]
    odr_pb2_grpc.add_OdrServiceServicer_to_server(FakeOdr(world), server)
    consumer_pb2_grpc.add_ConsumerServiceServicer_to_server(FakeConsumer(world), server)
    enrolment_pb2_grpc.add_EnrolmentServiceServicer_to_server(FakeEnrolment(world), server)  # type: ignore[abstract]
    credentials = grpc.ssl_server_credentials([(key_pem, leaf_pem)])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    return FakeNode(server, f"127.0.0.1:{port}", root_pem, world)
