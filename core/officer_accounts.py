"""Officer accounts made above a county and handed down: who an officer is, everywhere alike.

An officer account record (人员账户) says, for one officer id, their name, unit and roles and
whether the account is active or revoked (已注销), at a version. A city or province security
administrator makes one for any unit inside their node's jurisdiction; the node signs it and
replication carries it down to the node that signs the officer in, and up to the nodes above
(docs/security.md, "Officer accounts from above"). An officer moved between units keeps their
id: a later record names the new unit.

Every node that holds the same records computes the same standing account for an officer
(``standing``), whatever order the records came in:

* records are taken in the order of ``(version, revoked, rank of the signer's level,
  digest)``: the higher version later; at one version a revocation after an activation
  ("revocation is final for that version"), then the higher signer, then the digest;
* each record replaces the one standing before it **unless its signer sits below the
  signer of the standing one** (does not cover that signer's unit): an account set from
  above is managed from above (上级管理). A county can therefore neither re-activate an officer
  a city revoked nor undo a city's change with a higher version of its own.

Pure: records come in, the standing one goes out; no clock, no signatures (``sync``'s
``officer_account_signing`` checks those before a record gets here).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from core.officers import Role, why_roles_conflict
from core.units import UnitLevel, jurisdiction_prefix, level_of


class AccountStatus(enum.Enum):
    """Whether an officer account lets its officer sign in."""

    ACTIVE = "active"
    """在用: the officer signs in to the node of their unit."""
    REVOKED = "revoked"
    """已注销: nobody signs in as them; a revocation from above is final below."""


@dataclass(frozen=True)
class OfficerAccount:
    """One signed record of an officer's account (人员账户记录), as every node reads it."""

    officer_id: str
    name: str
    unit_code: str
    """The unit the officer works at: the node of this unit signs them in."""
    roles: frozenset[Role]
    status: AccountStatus
    version: int
    """1, 2, 3 ... per officer: the issuer takes one above every version it holds."""
    issuer_unit: str
    """The unit of the node that signed the record."""
    issuer_node: str
    issued_by: str = ""
    """The security administrator who made it ('' while the node was being provisioned)."""
    issued_ms: int = 0
    reason: str = ""
    """Why (a revocation's reason, a move's note)."""
    digest: bytes = b""
    """SHA-256 of the signed bytes: the last word between two records alike in all else."""

    @property
    def active(self) -> bool:
        """True when the record lets the officer sign in."""
        return self.status is AccountStatus.ACTIVE

    @property
    def issuer_level(self) -> UnitLevel:
        """The level of the signing node."""
        return level_of(self.issuer_unit)

    def order_key(self) -> tuple[int, int, int, bytes]:
        """Where the record stands among the records of its officer (see the module)."""
        revoked = 0 if self.active else 1
        return (self.version, revoked, -self.issuer_level.rank, self.digest)


def unit_covers(unit_code: str, code: str) -> bool:
    """True when ``code`` lies inside the jurisdiction of unit ``unit_code``."""
    return code.startswith(jurisdiction_prefix(unit_code, level_of(unit_code)))


def why_issuer_may_not(account: OfficerAccount) -> str | None:
    """Why the record's own signer could not have made it, or None: a node signs accounts only
    for units inside its jurisdiction, and an active account needs roles that go together."""
    if not unit_covers(account.issuer_unit, account.unit_code):
        return (
            f"{account.issuer_unit} signed an account for unit {account.unit_code}, which is "
            "outside its jurisdiction"
        )
    if account.version < 1:
        return "an account's version starts at 1"
    if account.active:
        if not account.roles:
            return "an active account needs at least one role"
        conflict = why_roles_conflict(account.roles)
        if conflict is not None:
            return conflict
    return None


def may_replace(standing: OfficerAccount | None, record: OfficerAccount) -> bool:
    """True when ``record`` takes the place of ``standing``: its signer covers the unit of the
    standing record's signer (the same node, or one above it)."""
    return standing is None or unit_covers(record.issuer_unit, standing.issuer_unit)


def standing(records: Iterable[OfficerAccount]) -> OfficerAccount | None:
    """The account that stands for one officer, from every record of theirs held (None when
    there are none); the same set gives the same answer in any order."""
    current: OfficerAccount | None = None
    for record in sorted(records, key=OfficerAccount.order_key):
        if may_replace(current, record):
            current = record
    return current


def why_node_may_not_issue(
    node_unit: str, held: OfficerAccount | None, unit_code: str
) -> str | None:
    """Why the node of ``node_unit`` may not issue the next record of an officer whose
    standing record is ``held`` (None: no record yet), placing them at ``unit_code``."""
    if not unit_covers(node_unit, unit_code):
        return f"unit {unit_code} is outside the jurisdiction of {node_unit}"
    if held is not None and not unit_covers(node_unit, held.issuer_unit):
        return (
            f"officer {held.officer_id}'s account is managed by {held.issuer_unit} "
            f"(上级管理, version {held.version}, {held.status.value}): change it there"
        )
    return None


def next_version(records: Iterable[OfficerAccount]) -> int:
    """The version a new record of an officer takes: one above every version held."""
    return max((r.version for r in records), default=0) + 1
