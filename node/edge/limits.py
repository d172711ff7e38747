"""How many bytes each request may weigh: one table for every method of every service.

gRPC Python sets the largest message a server receives once per server, for every method it
serves (``grpc.max_receive_message_length``), and a message within it is received whole and
parsed before a servicer sees it. One limit per port cannot say that a registration weighs
kilobytes while a trust bundle may weigh a megabyte. So there are two:

* **per port**, the largest request any of its methods takes (``port_limit``): the client port
  1 MiB (``PublishTrust``), the peer port ``sync.batch_limits.BATCH_MESSAGE_LIMIT`` (a batch of
  events). Anything bigger is refused by gRPC itself, RESOURCE_EXHAUSTED, before it is read in
  full, and never reaches Python;
* **per method**, the table below, checked in one place at the edge (``node.edge.gate``) on the
  request's bytes *before* they are parsed: a 900 KB RegisterTicket is refused as
  INVALID_ARGUMENT naming ``request`` without ever becoming a Python object.

The sizes come from the field limits (``core.limits``): the largest valid registration, every
text at its limit in four-byte characters, weighs 77 KB; the largest handling step
(a 10,000-character result) about 40 KB. A method missing from the table is a programming
error that ``tests/node/test_request_limits.py`` catches before any node serves it.
"""

from __future__ import annotations

from google.protobuf.descriptor import FileDescriptor

from proto.hotline.v1 import (
    access_pb2,
    admin_pb2,
    casework_pb2,
    consumer_pb2,
    enrolment_pb2,
    intake_pb2,
    odr_pb2,
    rules_pb2,
    supervision_pb2,
    sync_pb2,
)
from sync.batch_limits import BATCH_MESSAGE_LIMIT

KIB = 1024

SMALL = 4 * KIB
"""A read or a lookup: an id, a prefix, a page token."""

STEP = 64 * KIB
"""A handling step: its longest text (10,000 characters) in four-byte characters, and more."""

REGISTRATION = 128 * KIB
"""A registration: every text of a ticket at its limit, tags and attachments."""

TRUST = 1024 * KIB
"""Authority certificates and revocation lists (a list of thousands of revoked certificates)."""


def _service(module: FileDescriptor, name: str, default: int, **methods: int) -> dict[str, int]:
    """Every method of service ``name`` with ``default``, or its own size from ``methods``."""
    service = module.services_by_name[name]
    unknown = set(methods) - set(service.methods_by_name)
    if unknown:
        raise LookupError(f"{name} has no method {sorted(unknown)}")
    return {
        f"/{service.full_name}/{method.name}": methods.get(method.name, default)
        for method in service.methods
    }


REQUEST_LIMITS: dict[str, int] = {
    **_service(intake_pb2.DESCRIPTOR, "IntakeService", SMALL, RegisterTicket=REGISTRATION),
    **_service(casework_pb2.DESCRIPTOR, "CaseworkService", STEP),
    **_service(
        admin_pb2.DESCRIPTOR,
        "AdminService",
        SMALL,
        Ping=STEP,
        ReleaseQuarantine=16 * KIB,
        # A note or a reason of up to 2,000 characters.
        PushOfficer=STEP,
        RevokeOfficer=STEP,
        PublishTrust=TRUST,
    ),
    **_service(supervision_pb2.DESCRIPTOR, "SupervisionService", SMALL),
    **_service(rules_pb2.DESCRIPTOR, "RulesService", SMALL, AmendRules=STEP),
    # Sign-in: an officer id, a password, a six-digit code, a token; nothing grows.
    **_service(access_pb2.DESCRIPTOR, "AccessService", SMALL),
    # The ODR's enterprise side: a contact's result, a proposal's terms (5,000 characters).
    **_service(
        odr_pb2.DESCRIPTOR,
        "OdrService",
        SMALL,
        RecordContact=STEP,
        ProposeSettlement=STEP,
        CloseDispute=STEP,
    ),
    # A complaint filed online weighs what a registration does; an answer or a rating a note.
    **_service(
        consumer_pb2.DESCRIPTOR,
        "ConsumerService",
        SMALL,
        FileComplaint=REGISTRATION,
        AnswerProposal=STEP,
        RateHandling=STEP,
    ),
    **_service(
        sync_pb2.DESCRIPTOR,
        "SyncService",
        SMALL,
        Hello=TRUST,
        PushEvents=BATCH_MESSAGE_LIMIT,
        # A page of 100 signed officer account records, each with its signer's certificate.
        PushAccounts=TRUST,
    ),
    # The ODR enrolment (an application: a few short texts); its roster exchange on the peer
    # port carries a page of signed records.
    **_service(enrolment_pb2.DESCRIPTOR, "EnrolmentService", STEP),
    **_service(enrolment_pb2.DESCRIPTOR, "OdrRosterSync", BATCH_MESSAGE_LIMIT),
}
"""The largest request, in bytes, each method of our services takes (``/package.Service/Method``;
for a client stream, each message of it)."""


def request_limit(method: str) -> int:
    """The largest request ``method`` takes; ``KeyError`` for a method of ours not sized."""
    return REQUEST_LIMITS[method]


def port_limit(services: list[str]) -> int:
    """The largest request any method of ``services`` (full names) takes: the port's limit."""
    prefixes = tuple(f"/{name}/" for name in services)
    return max(size for method, size in REQUEST_LIMITS.items() if method.startswith(prefixes))
