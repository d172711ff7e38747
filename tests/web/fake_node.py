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
    odr_pb2,
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


def tls_pair() -> tuple[bytes, bytes, bytes]:
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


def stamp(moment: dt.datetime) -> Timestamp:
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
            opened_at=stamp(now - dt.timedelta(days=3)),
            due_at=stamp(now + dt.timedelta(days=days_left)),
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
