"""The changes a node makes to the ODR roster (名录变更): each the next signed record of a unit.

Enrolment (approved application), a listing set or lifted, a removal decided, a period's
verdict: each is drafted here as the next ``RosterRecord`` of the credit code, refused when the
state forbids it (``EnrolmentForbidden``) or when the signing node's unit may not sign it
(``NotPermitted``: only the unit's county or a unit above it). Pure: the node signs and keeps the
draft (``node.enrolment``).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import EnrolmentForbidden, NotFound, NotPermitted
from core.odr.roster import ApplicantKind, Standing
from core.odr.roster_record import (
    Listing,
    RosterRecord,
    next_record,
    why_cannot_enrol,
    why_issuer_may_not,
    with_listing,
)
from core.odr.standing import Judgement, Verdict


@dataclass(frozen=True)
class Signer:
    """Who makes a change: the signing node and its unit, the officer, when (node's clock)."""

    unit_code: str
    node_id: str
    officer_id: str
    at_ms: int


def drafted(current: RosterRecord | None, signer: Signer, **changes: object) -> RosterRecord:
    """The next record after ``current`` with ``changes``, issued by ``signer``; refused when
    the signer's unit may not sign it."""
    draft = next_record(
        current,
        **changes,
        issuer_unit=signer.unit_code,
        issuer_node=signer.node_id,
        issued_by=signer.officer_id,
        issued_ms=signer.at_ms,
    )
    why = why_issuer_may_not(draft)
    if why is not None:
        raise NotPermitted(why)
    return draft


def check_may_apply(current: RosterRecord | None) -> None:
    """Refuse an application of a listed unit, or of one already on the roster."""
    why = why_cannot_enrol(current)
    if why is not None:
        raise EnrolmentForbidden(why)


def enrolment(
    current: RosterRecord | None,
    signer: Signer,
    *,
    credit_code: str,
    name: str,
    kind: ApplicantKind,
    application_id: str,
) -> RosterRecord:
    """The record that enrols a unit at the signer's county (an approved application)."""
    check_may_apply(current)
    return drafted(
        current,
        signer,
        credit_code=credit_code,
        name=name,
        kind=kind,
        unit_code=signer.unit_code,
        standing=Standing.ENROLLED,
        since_ms=signer.at_ms,
        reason=f"enrolled on application {application_id} (经申请审核入册)",
        listings=frozenset(),
        enrolled=True,
        removal_proposed=False,
        poor_periods=0,
        last_period_end_ms=0,
    )


def listing_change(
    current: RosterRecord | None,
    signer: Signer,
    credit_code: str,
    listing: Listing,
    listed: bool,
    note: str,
) -> RosterRecord:
    """The record of a unit put on (or taken off) a list. A unit listed before it ever enrolled
    gets a record of the signer's unit, off the published roster, so no county enrols it."""
    if current is None:
        if not listed:
            raise NotFound(f"{credit_code} is on no list known here")
        first = drafted(
            None,
            signer,
            credit_code=credit_code,
            name=credit_code,
            kind=ApplicantKind.ENTERPRISE,
            unit_code=signer.unit_code,
            standing=Standing.DISQUALIFIED,
            since_ms=signer.at_ms,
            reason="",
            enrolled=False,
        )
        listings, _, reason = with_listing(first, listing, True, note)
        return drafted(None, signer, **{**_fields(first), "listings": listings, "reason": reason})
    listings, standing, reason = with_listing(current, listing, listed, note)
    return drafted(
        current,
        signer,
        listings=listings,
        standing=standing,
        since_ms=signer.at_ms if standing is not current.standing else current.since_ms,
        reason=reason,
    )


def removal_decision(
    current: RosterRecord | None, signer: Signer, credit_code: str, approve: bool, note: str
) -> RosterRecord:
    """A unit head's decision on a proposed removal: removed (已移出), or kept warned."""
    if current is None or not current.enrolled:
        raise NotFound(f"{credit_code} is not on the ODR roster")
    if not current.removal_proposed:
        raise EnrolmentForbidden(f"no removal of {credit_code} is proposed")
    return drafted(
        current,
        signer,
        standing=Standing.REMOVED if approve else Standing.WARNED,
        since_ms=signer.at_ms,
        reason=("removed (已移出): " if approve else "kept, warned (已警告): ") + note,
        removal_proposed=False,
    )


def judged_period(
    current: RosterRecord, signer: Signer, found: Judgement, period_end_ms: int
) -> RosterRecord:
    """The record of a period's verdict: a warning marks the unit WARNED, a removal proposal
    awaits a unit head, a good period restores ENROLLED and clears the poor periods."""
    if found.verdict is Verdict.GOOD:
        standing, reason = Standing.ENROLLED, f"good standing (良好): {found.reason}"
    elif found.verdict is Verdict.WARNING:
        standing, reason = Standing.WARNED, f"warned (警告): {found.reason}"
    else:
        standing, reason = Standing.WARNED, f"removal proposed (建议移出): {found.reason}"
    return drafted(
        current,
        signer,
        standing=standing,
        since_ms=signer.at_ms if standing is not current.standing else current.since_ms,
        reason=reason,
        removal_proposed=found.verdict is Verdict.REMOVAL_PROPOSED,
        poor_periods=found.poor_periods,
        last_period_end_ms=period_end_ms,
    )


def judged_before(current: RosterRecord, period_end_ms: int) -> bool:
    """True when a period ending then is not to be judged for this unit: not supervised (not
    enrolled, or out), already judged up to it, or a removal awaits a unit head's decision."""
    return (
        not current.enrolled
        or not current.standing.routable
        or period_end_ms <= current.last_period_end_ms
        or current.removal_proposed
    )


def _fields(record: RosterRecord) -> dict[str, object]:
    """The fields a first record is drafted from (without version, issuer and digest)."""
    skip = {"version", "issuer_unit", "issuer_node", "issued_by", "issued_ms", "digest"}
    return {k: v for k, v in vars(record).items() if k not in skip}
