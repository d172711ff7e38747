"""Signing, checking and translating ODR roster records (``core.odr.roster_record``).

A record travels as ``hotline.v1.SignedRosterRecord``: the serialized ``RosterRecord``
(deterministic protobuf, serialized once by the issuer and kept verbatim after), the issuing
node's Ed25519 signature over ``"hotline.v1.odr_roster\\0" || bytes`` with its event key (a
prefix of its own, so a record can never pass for an event, an account record or a rule book)
and that node's certificate. A receiver takes a record only when the certificate chains to the
national root and counted when the record was issued, the signature verifies, the certificate is
of the node and unit the record names as issuer, and that unit is the record's county or above
it (``core.odr.roster_record.why_issuer_may_not``). Anything else is refused whole, with why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

from cryptography import x509

from core.errors import HotlineError, InvalidInput
from core.identifiers import check_credit_code
from core.odr.roster import ApplicantKind, Standing
from core.odr.roster_record import Listing, RosterRecord, why_issuer_may_not
from core.regions import check_region_code_format
from proto.hotline.v1 import enrolment_pb2 as pb
from sync.identity import NodeIdentity
from sync.pki import NodeCertificate, PkiError
from sync.signatures import verify
from sync.trust import TrustStore

E = TypeVar("E")

ROSTER_CONTEXT = b"hotline.v1.odr_roster\x00"
"""Prefix of the signed bytes of a roster record."""

KIND_NUMBER = {
    ApplicantKind.ENTERPRISE: pb.APPLICANT_KIND_ENTERPRISE,
    ApplicantKind.MALL_DESK: pb.APPLICANT_KIND_MALL_DESK,
    ApplicantKind.ASSOCIATION: pb.APPLICANT_KIND_ASSOCIATION,
}
STANDING_NUMBER = {
    Standing.ENROLLED: pb.ROSTER_STANDING_ENROLLED,
    Standing.WARNED: pb.ROSTER_STANDING_WARNED,
    Standing.REMOVED: pb.ROSTER_STANDING_REMOVED,
    Standing.DISQUALIFIED: pb.ROSTER_STANDING_DISQUALIFIED,
}
LISTING_NUMBER = {
    Listing.ABNORMAL_OPERATIONS: pb.LISTING_KIND_ABNORMAL_OPERATIONS,
    Listing.BLACKLIST: pb.LISTING_KIND_BLACKLIST,
}


class RosterRecordRefused(HotlineError):
    """A received roster record cannot be trusted; says why."""


def member_of(table: Mapping[E, int], number: int, path: str) -> E:
    """The member a proto number stands for in ``table``; ``InvalidInput`` naming ``path``."""
    for member, value in table.items():
        if value == number:
            return member
    raise InvalidInput(path, "must be set" if number == 0 else f"unknown value {number}")


def record_message(record: RosterRecord) -> pb.RosterRecord:
    """A record as signed and sent (without its digest, which is of these bytes)."""
    return pb.RosterRecord(
        credit_code=record.credit_code,
        name=record.name,
        kind=KIND_NUMBER[record.kind],
        unit_code=record.unit_code,
        standing=STANDING_NUMBER[record.standing],
        since_ms=record.since_ms,
        reason=record.reason,
        version=record.version,
        issuer_unit=record.issuer_unit,
        issuer_node=record.issuer_node,
        issued_by=record.issued_by,
        issued_ms=record.issued_ms,
        listings=sorted(LISTING_NUMBER[k] for k in record.listings),
        enrolled=record.enrolled,
        removal_proposed=record.removal_proposed,
        poor_periods=record.poor_periods,
        last_period_end_ms=record.last_period_end_ms,
    )


def record_from(msg: pb.RosterRecord, digest: bytes) -> RosterRecord:
    """A record as received; ``InvalidInput`` names a malformed field."""
    check_region_code_format(msg.unit_code, "unit_code")
    check_region_code_format(msg.issuer_unit, "issuer_unit")
    if msg.version < 1:
        raise InvalidInput("version", "must be at least 1")
    return RosterRecord(
        credit_code=check_credit_code(msg.credit_code, "credit_code"),
        name=msg.name[:200],
        kind=member_of(KIND_NUMBER, msg.kind, "kind"),
        unit_code=msg.unit_code,
        standing=member_of(STANDING_NUMBER, msg.standing, "standing"),
        since_ms=msg.since_ms,
        reason=msg.reason[:2000],
        version=msg.version,
        issuer_unit=msg.issuer_unit,
        issuer_node=msg.issuer_node[:64],
        issued_by=msg.issued_by[:32],
        issued_ms=msg.issued_ms,
        listings=frozenset(member_of(LISTING_NUMBER, n, "listings") for n in msg.listings),
        enrolled=msg.enrolled,
        removal_proposed=msg.removal_proposed,
        poor_periods=msg.poor_periods,
        last_period_end_ms=msg.last_period_end_ms,
        digest=digest,
    )


def sign_record(
    record: RosterRecord, identity: NodeIdentity, certificate: NodeCertificate
) -> tuple[pb.SignedRosterRecord, RosterRecord]:
    """The record signed by the issuing node, and the record with its digest."""
    raw = record_message(record).SerializeToString(deterministic=True)
    signed = pb.SignedRosterRecord(
        record=raw,
        signature=identity.sign(ROSTER_CONTEXT + raw),
        certificate=certificate.der,
    )
    return signed, replace(record, digest=hashlib.sha256(raw).digest())


def read_stored(signed: pb.SignedRosterRecord) -> RosterRecord:
    """A record kept by this node (checked when it was stored), read back."""
    msg = pb.RosterRecord()
    msg.ParseFromString(signed.record)
    return record_from(msg, hashlib.sha256(signed.record).digest())


def open_record(signed: pb.SignedRosterRecord, trust: TrustStore) -> RosterRecord:
    """The record, if it may be trusted; else ``RosterRecordRefused`` saying why."""
    try:
        node = trust.add_node(x509.load_der_x509_certificate(signed.certificate))
    except (ValueError, PkiError) as exc:
        raise RosterRecordRefused(f"issuer certificate not trusted: {exc}") from None
    if not verify(node.event_public_key, signed.signature, ROSTER_CONTEXT + signed.record):
        raise RosterRecordRefused(f"signature of {node.node_id} does not verify")
    msg = pb.RosterRecord()
    try:
        msg.ParseFromString(signed.record)
        record = record_from(msg, hashlib.sha256(signed.record).digest())
    except (ValueError, InvalidInput) as exc:
        raise RosterRecordRefused(f"malformed record: {exc}") from None
    if node.node_id != record.issuer_node or node.unit_code != record.issuer_unit:
        raise RosterRecordRefused(
            f"record names {record.issuer_node} ({record.issuer_unit}) as issuer, but "
            f"{node.node_id} ({node.unit_code}) signed it"
        )
    why = why_issuer_may_not(record)
    if why is not None:
        raise RosterRecordRefused(why)
    reason = trust.judge(node, record.issued_ms)
    if reason:
        raise RosterRecordRefused(f"issuer {node.node_id} did not count when it issued: {reason}")
    return record


def claimed(signed: pb.SignedRosterRecord) -> str:
    """The credit code and version a refused record claims (for the reason), if readable."""
    msg = pb.RosterRecord()
    try:
        msg.ParseFromString(signed.record)
    except ValueError:
        return "?"
    return f"{msg.credit_code[:18]} v{msg.version}"
