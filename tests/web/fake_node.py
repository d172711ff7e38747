"""TEST-ONLY fake node for the web front's tests: canned disputes behind the real contracts.

The servicers behind OdrService, ConsumerService and EnrolmentService are written elsewhere;
these fakes let the pages be tested now. They hold a few canned disputes of two enterprises,
speak TLS with a throwaway root (as a real node's client port does), check the bearer token,
and refuse the way the contracts say (INVALID_ARGUMENT naming the field, PERMISSION_DENIED for
another enterprise's dispute, a lockout after wrong codes). They decide nothing real.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

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

ENTERPRISE_A = "91370100MA3C00001X"
ENTERPRISE_B = "91370100MA3C00002Y"
NAME_A = "济南某某商场有限公司"
NAME_B = "济南另一家电器有限公司"
USER = "clerk"
PASSWORD = "Correct-Horse-9"
TOTP = "123456"
OFFICER = "county-sup"
LOCK_AFTER = 3
"""Wrong verification codes after which a ticket is locked (as the real desk does)."""


def _tls_pair() -> tuple[bytes, bytes, bytes]:
    """A throwaway root and a leaf for ``node.hotline``: (root PEM, key PEM, leaf PEM)."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-only root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node.hotline")]))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("node.hotline")]), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return root.public_bytes(pem), key_pem, leaf.public_bytes(pem)


def _stamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class Refused(Exception):
    """A fake refusal: the status code and the detail a real node would send."""

    def __init__(self, code: grpc.StatusCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class FakeWorld:
    """What the fake node holds: sessions, disputes, tickets and their codes."""

    sessions: dict[str, access_pb2.Session] = field(default_factory=dict)
    disputes: dict[str, odr_pb2.Dispute] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    wrong_codes: dict[str, int] = field(default_factory=dict)
    ratings: dict[str, int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    next_ticket: int = 100

    def session_of(self, context: aio.ServicerContext[Any, Any]) -> access_pb2.Session:
        for key, value in context.invocation_metadata() or ():
            if key == "authorization" and str(value).startswith("Bearer "):
                session = self.sessions.get(str(value)[len("Bearer ") :])
                if session is not None:
                    return session
        raise Refused(grpc.StatusCode.UNAUTHENTICATED, "no session: sign in first")

    def open_session(self, **fields: Any) -> access_pb2.SignInResponse:
        token = secrets.token_hex(16)
        session = access_pb2.Session(session_id=secrets.token_hex(8), **fields)
        self.sessions[token] = session
        return access_pb2.SignInResponse(token=token, session=session)

    def add_dispute(self, credit_code: str, name: str, days_left: int, **fields: Any) -> str:
        self.next_ticket += 1
        ticket_id = f"T3701022026120300{self.next_ticket}"
        now = dt.datetime.now(dt.UTC)
        dispute = odr_pb2.Dispute(
            ticket_id=ticket_id,
            status=odr_pb2.DISPUTE_STATUS_NEGOTIATING,
            credit_code=credit_code,
            enterprise_name=name,
            enterprise_unit="370102",
            opened_at=_stamp(now - dt.timedelta(days=3)),
            due_at=_stamp(now + dt.timedelta(days=days_left)),
            overdue=days_left < 0,
            working_days_left=max(days_left, 0),
            **fields,
        )
        dispute.history.add(at=dispute.opened_at, kind=odr_pb2.ODR_STEP_KIND_OPENED, by="consumer")
        self.disputes[ticket_id] = dispute
        self.codes[ticket_id] = secrets.token_hex(4).upper()
        return ticket_id

    def own_dispute(self, session: access_pb2.Session, ticket_id: str) -> odr_pb2.Dispute:
        if not ticket_id:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "ticket_id: required")
        dispute = self.disputes.get(ticket_id)
        if dispute is None:
            raise Refused(grpc.StatusCode.NOT_FOUND, f"no dispute {ticket_id} here")
        if dispute.credit_code != session.credit_code:
            self.calls.append(f"refused:{session.credit_code}:{ticket_id}")
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, "not a dispute of your enterprise")
        return dispute


def seeded_world() -> FakeWorld:
    """Two disputes of enterprise A (one overdue) and one of enterprise B."""
    world = FakeWorld()
    world.add_dispute(
        ENTERPRISE_A,
        NAME_A,
        5,
        category="家用电器",
        facts="购买的电饭煲三天后不能加热",
        request="退货退款",
        amount_fen=39900,
        consumer_name="张三",
        consumer_phone="13800000001",
    )
    world.add_dispute(
        ENTERPRISE_A,
        NAME_A,
        -1,
        category="服装",
        facts="外套洗后严重褪色",
        request="换货",
        amount_fen=59900,
        consumer_name="李四",
        consumer_phone="13800000002",
    )
    world.add_dispute(
        ENTERPRISE_B,
        NAME_B,
        7,
        category="家用电器",
        facts="空调安装后漏水",
        request="维修并赔偿",
        amount_fen=12000,
        consumer_name="王五",
        consumer_phone="13800000003",
    )
    return world


def refusing(method: Any) -> Any:
    """Turn a ``Refused`` into the call's status (as the real edge does)."""

    async def wrapped(self: Any, request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await method(self, request, context)
        except Refused as refusal:
            await context.abort(refusal.code, refusal.detail)

    return wrapped


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
        for dispute in self.world.disputes.values():
            if dispute.credit_code == session.credit_code:
                listed = answer.disputes.add()
                listed.CopyFrom(dispute)
                del listed.history[:]
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
            at=_stamp(dt.datetime.now(dt.UTC)),
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
            at=_stamp(dt.datetime.now(dt.UTC)),
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
        now = dt.datetime.now(dt.UTC)
        return odr_pb2.EnterpriseStanding(
            credit_code=session.credit_code,
            enterprise_name=session.enterprise_name,
            period_start=_stamp(now - dt.timedelta(days=90)),
            period_end=_stamp(now),
            received=12,
            answered_in_time=11,
            settled=9,
            accepted=9,
            converted=2,
            verdict=odr_pb2.STANDING_VERDICT_GOOD,
        )


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
        proposed = dispute.status == odr_pb2.DISPUTE_STATUS_PROPOSED
        settled = dispute.status == odr_pb2.DISPUTE_STATUS_SETTLED
        rating = self.world.ratings.get(dispute.ticket_id, 0)
        progress = consumer_pb2.TicketProgress(
            ticket_id=dispute.ticket_id,
            kind=common_pb2.TICKET_KIND_COMPLAINT,
            status="CLOSED" if settled else "ODR",
            holding_unit=dispute.credit_code,
            holding_unit_name=dispute.enterprise_name,
            registered_at=dispute.opened_at,
            odr=dispute,
            can_answer_proposal=proposed,
            can_rate=settled and not rating,
            rating=common_pb2.Satisfaction.ValueType(rating),
        )
        if not settled:
            progress.current_duty = common_pb2.DUTY_ODR_ANSWER
            progress.due_at.CopyFrom(dispute.due_at)
        for step in dispute.history:
            progress.steps.add(
                at=step.at,
                what=odr_pb2.OdrStepKind.Name(step.kind),
                unit_name=dispute.enterprise_name,
                text=step.text,
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
            at=_stamp(dt.datetime.now(dt.UTC)),
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
        now = dt.datetime.now(dt.UTC)
        start, end = _stamp(now - dt.timedelta(days=90)), _stamp(now)
        return enrolment_pb2.GetStandingsResponse(
            standings=[
                odr_pb2.EnterpriseStanding(
                    credit_code=ENTERPRISE_A,
                    enterprise_name=NAME_A,
                    period_start=start,
                    period_end=end,
                    received=12,
                    answered_in_time=11,
                    settled=9,
                    accepted=9,
                    converted=2,
                    verdict=odr_pb2.STANDING_VERDICT_GOOD,
                ),
                odr_pb2.EnterpriseStanding(
                    credit_code=ENTERPRISE_B,
                    enterprise_name=NAME_B,
                    period_start=start,
                    period_end=end,
                    received=10,
                    answered_in_time=5,
                    settled=3,
                    accepted=3,
                    converted=7,
                    verdict=odr_pb2.STANDING_VERDICT_WARNING,
                    reason="按期答复率50%，低于80%",
                ),
            ]
        )

    @refusing
    async def GetRoster(self, request: Any, context: Any) -> Any:
        self._officer(context)
        since = _stamp(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
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
    root_pem, key_pem, leaf_pem = _tls_pair()
    server = aio.server()
    access_pb2_grpc.add_AccessServiceServicer_to_server(FakeAccess(world), server)
    odr_pb2_grpc.add_OdrServiceServicer_to_server(FakeOdr(world), server)
    consumer_pb2_grpc.add_ConsumerServiceServicer_to_server(FakeConsumer(world), server)
    enrolment_pb2_grpc.add_EnrolmentServiceServicer_to_server(FakeEnrolment(world), server)
    credentials = grpc.ssl_server_credentials([(key_pem, leaf_pem)])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    return FakeNode(server, f"127.0.0.1:{port}", root_pem, world)
