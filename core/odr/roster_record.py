"""Roster records (名录记录): the signed versions that make up the ODR roster.

The roster (``core.odr.roster``) is not edited in place: every change to a credit code's entry
is a new record with the next version, signed by a node entitled to it and replicated; each
node derives its roster from the newest record of each credit code. A county signs the records
of the units it enrolled; a unit above it (city, province, national) may sign a listing, a
warning or a removal of them. A listing of a credit code never enrolled is a record too, so a
county refuses to enrol a listed unit whichever node listed it. Pure: signing and storage are
``sync.odr_roster_signing`` and ``node.enrolment.roster``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace

from core.odr.roster import ApplicantKind, OdrRoster, RosterEntry, Standing
from core.units import jurisdiction_prefix, level_of


class Listing(enum.Enum):
    """A public list that disqualifies a unit from the channel."""

    ABNORMAL_OPERATIONS = "abnormal_operations"  # 经营异常名录
    BLACKLIST = "blacklist"  # 严重违法失信名单


@dataclass(frozen=True)
class RosterRecord:
    """One version of one credit code's roster entry, as signed by ``issuer_node``."""

    credit_code: str
    name: str
    kind: ApplicantKind
    unit_code: str
    """The county that enrolled it; for a unit listed but never enrolled, the lister's unit."""
    standing: Standing
    since_ms: int
    reason: str
    version: int
    issuer_unit: str
    issuer_node: str
    issued_by: str
    issued_ms: int
    listings: frozenset[Listing] = frozenset()
    enrolled: bool = True
    """False for a listing of a unit that never enrolled: not on the published roster."""
    removal_proposed: bool = False
    """Supervision proposed removal; a unit head decides (``DecideRemoval``)."""
    poor_periods: int = 0
    """Consecutive poor periods supervision found (a second one proposes removal)."""
    last_period_end_ms: int = 0
    """The end of the last period supervision judged (a period is judged once)."""
    digest: bytes = b""
    """SHA-256 of the signed bytes (set when signed or received)."""

    def entry(self) -> RosterEntry:
        """The roster entry this record stands for."""
        return RosterEntry(
            credit_code=self.credit_code,
            name=self.name,
            kind=self.kind,
            unit_code=self.unit_code,
            standing=self.standing,
            since_ms=self.since_ms,
            reason=self.reason,
        )


def newest(records: Iterable[RosterRecord]) -> RosterRecord | None:
    """The record that stands for its credit code: the highest version; two records of one
    version (a county and a province changing the entry at once) are ordered by their time of
    issue, then their digest, so every node picks the same one."""
    return max(records, key=lambda r: (r.version, r.issued_ms, r.digest), default=None)


def roster_of(records: Iterable[RosterRecord]) -> OdrRoster:
    """The roster the newest record of each credit code makes (units never enrolled left out);
    its version is the sum of the versions, so it grows with every change taken."""
    by_code: dict[str, list[RosterRecord]] = {}
    for record in records:
        by_code.setdefault(record.credit_code, []).append(record)
    tops = [t for t in (newest(rs) for rs in by_code.values()) if t is not None]
    return OdrRoster.of(sum(t.version for t in tops), (t.entry() for t in tops if t.enrolled))


def why_issuer_may_not(record: RosterRecord) -> str | None:
    """Why the issuer of ``record`` may not sign it, or None: the issuer's unit must be the
    record's county or a unit above it."""
    if not record.unit_code.startswith(
        jurisdiction_prefix(record.issuer_unit, level_of(record.issuer_unit))
    ):
        return (
            f"{record.issuer_unit} may not sign the roster record of {record.credit_code}, "
            f"enrolled at {record.unit_code}: only that county or a unit above it may"
        )
    return None


def why_cannot_enrol(current: RosterRecord | None) -> str | None:
    """Why a unit cannot be enrolled now, or None: listed, or already on the roster."""
    if current is None:
        return None
    if current.listings:
        lists = " and ".join(_LISTING_TERMS[k] for k in sorted(current.listings, key=_order))
        return f"{current.credit_code} is on the {lists}: it cannot join the ODR channel"
    if current.enrolled and current.standing.routable:
        return (
            f"{current.credit_code} is already on the ODR roster (enrolled at {current.unit_code})"
        )
    return None


def with_listing(
    current: RosterRecord, listing: Listing, listed: bool, note: str
) -> tuple[frozenset[Listing], Standing, str]:
    """The listings, standing and reason of ``current`` once ``listing`` is set or lifted: any
    listing disqualifies; lifting the last does not restore the entry (it must apply again)."""
    listings = current.listings | {listing} if listed else current.listings - {listing}
    if listed:
        return listings, Standing.DISQUALIFIED, f"{_LISTING_TERMS[listing]}: {note}"
    return listings, current.standing, f"taken off the {_LISTING_TERMS[listing]}: {note}"


def next_record(current: RosterRecord | None, **changes: object) -> RosterRecord:
    """The next version after ``current`` with ``changes`` (all fields when ``current`` is
    None), unsigned (no digest)."""
    if current is None:
        return RosterRecord(version=1, **changes)  # type: ignore[arg-type]
    return replace(current, version=current.version + 1, digest=b"", **changes)  # type: ignore[arg-type]


def _order(listing: Listing) -> int:
    return list(Listing).index(listing)


_LISTING_TERMS = {
    Listing.ABNORMAL_OPERATIONS: "abnormal-operations list (经营异常名录)",
    Listing.BLACKLIST: "blacklist (严重违法失信名单)",
}
