"""Signing and checking officer account records (``core.officer_accounts``) on the wire.

A record travels as ``hotline.v1.SignedOfficerAccount``: the serialized ``OfficerAccount``
(deterministic protobuf, serialized once by the issuer and kept verbatim after), the issuing
node's Ed25519 signature over ``"hotline.v1.officer_account\\0" || bytes`` with its event key
(a prefix of its own, so a record can never pass for an event, a token or a rule book) and
that node's certificate. A receiver takes a record only when the certificate chains to the
national root and counted when the record was issued, the signature verifies, the certificate
is of the node and unit the record names as issuer, and that unit covers the officer's unit
(``core.officer_accounts.why_issuer_may_not``): a county cannot sign a city officer's account
nor another county's. Anything else is refused whole, with the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Protocol

from cryptography import x509

from core.errors import HotlineError, InvalidInput
from core.limits import check_text
from core.officer_accounts import AccountStatus, OfficerAccount, why_issuer_may_not
from core.officers import Role
from core.regions import check_region_code_format, check_station_code_format
from core.units import STATION_CODE_LENGTH
from proto.hotline.v1 import accounts_pb2
from sync.codec import enum_member, enum_number
from sync.identity import NodeIdentity
from sync.pki import NodeCertificate, PkiError
from sync.reasons import AlertKind
from sync.signatures import verify
from sync.trust import TrustStore
from sync.writer import LogBatch

ACCOUNT_CONTEXT = b"hotline.v1.officer_account\x00"
"""Prefix of the signed bytes of an officer account record."""

_STATUS_NUMBER = {
    AccountStatus.ACTIVE: accounts_pb2.ACCOUNT_STATUS_ACTIVE,
    AccountStatus.REVOKED: accounts_pb2.ACCOUNT_STATUS_REVOKED,
}
_STATUS_OF: dict[int, AccountStatus] = {
    int(number): status for status, number in _STATUS_NUMBER.items()
}


class AccountRefused(HotlineError):
    """A received officer account record cannot be trusted; says why."""


def status_number(status: AccountStatus) -> accounts_pb2.AccountStatus.ValueType:
    """The proto number of an account status."""
    return _STATUS_NUMBER[status]


def status_of(number: int, path: str = "status") -> AccountStatus:
    """The account status of a proto number; ``InvalidInput`` naming ``path`` otherwise."""
    found = _STATUS_OF.get(number)
    if found is None:
        raise InvalidInput(path, "must be set" if number == 0 else f"unknown value {number}")
    return found


def check_unit_code(code: str, field: str) -> str:
    """A county-or-above division code or a station code, by its format."""
    code = code.strip()
    if len(code) == STATION_CODE_LENGTH:
        check_station_code_format(code, field)
    else:
        check_region_code_format(code, field)
    return code


def check_officer_id(officer_id: str, field: str = "officer_id") -> str:
    """An officer id: 1 to 32 characters, no spaces."""
    officer_id = officer_id.strip()
    if not officer_id or len(officer_id) > 32 or any(c.isspace() for c in officer_id):
        raise InvalidInput(field, "must be 1 to 32 characters without spaces")
    return officer_id


def account_message(account: OfficerAccount) -> accounts_pb2.OfficerAccount:
    """A record as signed and sent (without its digest, which is of these bytes)."""
    return accounts_pb2.OfficerAccount(
        officer_id=account.officer_id,
        name=account.name,
        unit_code=account.unit_code,
        roles=sorted(enum_number(r) for r in account.roles),
        status=status_number(account.status),
        version=account.version,
        issuer_unit=account.issuer_unit,
        issuer_node=account.issuer_node,
        issued_by=account.issued_by,
        issued_ms=account.issued_ms,
        reason=account.reason,
    )


def account_from(msg: accounts_pb2.OfficerAccount, digest: bytes) -> OfficerAccount:
    """A record as received; ``InvalidInput`` names a malformed field."""
    status = status_of(msg.status)
    return OfficerAccount(
        officer_id=check_officer_id(msg.officer_id),
        name=check_text(
            msg.name, "name", required=status is AccountStatus.ACTIVE, kind="officer.name"
        ),
        unit_code=check_unit_code(msg.unit_code, "unit_code"),
        roles=frozenset(enum_member(Role, r, "roles") for r in msg.roles),
        status=status,
        version=msg.version,
        issuer_unit=check_unit_code(msg.issuer_unit, "issuer_unit"),
        issuer_node=msg.issuer_node,
        issued_by=msg.issued_by[:32],
        issued_ms=msg.issued_ms,
        reason=check_text(msg.reason, "reason", required=False),
        digest=digest,
    )


def sign_account(
    account: OfficerAccount, identity: NodeIdentity, certificate: NodeCertificate
) -> tuple[accounts_pb2.SignedOfficerAccount, OfficerAccount]:
    """The record signed by the issuing node, and the record with its digest."""
    raw = account_message(account).SerializeToString(deterministic=True)
    signed = accounts_pb2.SignedOfficerAccount(
        account=raw,
        signature=identity.sign(ACCOUNT_CONTEXT + raw),
        certificate=certificate.der,
    )
    return signed, _with_digest(account, raw)


def _with_digest(account: OfficerAccount, raw: bytes) -> OfficerAccount:
    return replace(account, digest=hashlib.sha256(raw).digest())


def read_stored(signed: accounts_pb2.SignedOfficerAccount) -> OfficerAccount:
    """A record kept by this node (checked when it was stored), read back."""
    msg = accounts_pb2.OfficerAccount()
    msg.ParseFromString(signed.account)
    return account_from(msg, hashlib.sha256(signed.account).digest())


def open_account(
    signed: accounts_pb2.SignedOfficerAccount, trust: TrustStore
) -> tuple[OfficerAccount, NodeCertificate]:
    """The record and its signer, if the record may be trusted; else ``AccountRefused``."""
    try:
        node = trust.add_node(x509.load_der_x509_certificate(signed.certificate))
    except (ValueError, PkiError) as exc:
        raise AccountRefused(f"issuer certificate not trusted: {exc}") from None
    if not verify(node.event_public_key, signed.signature, ACCOUNT_CONTEXT + signed.account):
        raise AccountRefused(f"signature of {node.node_id} does not verify")
    msg = accounts_pb2.OfficerAccount()
    try:
        msg.ParseFromString(signed.account)
        account = account_from(msg, hashlib.sha256(signed.account).digest())
    except (ValueError, InvalidInput) as exc:
        raise AccountRefused(f"malformed record: {exc}") from None
    if node.node_id != account.issuer_node or node.unit_code != account.issuer_unit:
        raise AccountRefused(
            f"record names {account.issuer_node} ({account.issuer_unit}) as issuer, but "
            f"{node.node_id} ({node.unit_code}) signed it"
        )
    why = why_issuer_may_not(account)
    if why is not None:
        raise AccountRefused(why)
    reason = trust.judge(node, account.issued_ms)
    if reason:
        raise AccountRefused(f"issuer {node.node_id} did not count when it issued: {reason}")
    return account, node


class AccountExchange(Protocol):
    """What replication needs of a node's officer accounts (``node.desks.officer_accounts``).

    Every method blocks (the database, signatures): replication runs them on the node's pool.
    """

    def for_child(self, child_prefix: str, after: int) -> accounts_pb2.AccountBatch:
        """The next page for a child under ``child_prefix`` that holds up to ``after``."""
        ...

    def take_from_child(
        self, child_node: str, child_prefix: str, signed: list[accounts_pb2.SignedOfficerAccount]
    ) -> AccountReceiptLike:
        """Records a child pushed up."""
        ...

    def for_parent(
        self, parent_node: str
    ) -> tuple[list[accounts_pb2.SignedOfficerAccount], int, bool]:
        """The next page to push up: records, the position to note once taken (0: none),
        more waiting."""
        ...

    def parent_took(self, parent_node: str, upto: int) -> None:
        """Note how far the parent holds this node's records."""
        ...

    def down_cursor(self, parent_node: str) -> int:
        """The parent's position held here."""
        ...

    def take_from_parent(
        self, parent_node: str, batch: accounts_pb2.AccountBatch
    ) -> AccountReceiptLike:
        """A page from the parent, stored with its cursor."""
        ...


class AccountReceiptLike(Protocol):
    """What became of a page of records: counts and refusals (officer id, version, reason)."""

    accepted: int
    duplicates: int
    rejections: list[tuple[str, int, str]]

    def message(self) -> accounts_pb2.AccountReceipt:
        """As sent back to a child."""
        ...


def alert_refused(batch: LogBatch, *, sender: str, rejections: list[tuple[str, int, str]]) -> None:
    """Raise an alert for each refused record (a writer job); the same again is counted."""
    for officer_id, version, reason in rejections:
        batch.raise_alert(
            AlertKind.OFFICER_ACCOUNT_REFUSED,
            officer_id or sender,
            f"officer account {officer_id} v{version} from {sender} refused: {reason}",
        )
