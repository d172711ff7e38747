"""The ODR roster's records: who may sign one, which one stands, what a listing does.

Issue 13, items 1 and 2. Pure: a county signs its own units' records, a unit above it may too,
a sibling county may not; the highest version stands (two of one version ordered the same way
everywhere); a listed unit cannot enrol and is disqualified; units never enrolled stay off the
published roster.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.odr.roster import ApplicantKind, Standing
from core.odr.roster_record import (
    Listing,
    RosterRecord,
    newest,
    next_record,
    roster_of,
    why_cannot_enrol,
    why_issuer_may_not,
    with_listing,
)

CODE = "91620102MA74A1B2C9"


def enrolled(issuer: str = "620102", version: int = 1) -> RosterRecord:
    return RosterRecord(
        credit_code=CODE,
        name="兰州某健身有限公司",
        kind=ApplicantKind.ENTERPRISE,
        unit_code="620102",
        standing=Standing.ENROLLED,
        since_ms=1,
        reason="",
        version=version,
        issuer_unit=issuer,
        issuer_node=f"node-{issuer}",
        issued_by="620102-01",
        issued_ms=1,
    )


@pytest.mark.parametrize(
    ("issuer", "may"),
    [("620102", True), ("620100", True), ("620000", True), ("100000", True), ("620103", False)],
)
def test_the_county_or_a_unit_above_it_signs_its_units_records(issuer: str, may: bool) -> None:
    assert (why_issuer_may_not(enrolled(issuer)) is None) is may


def test_the_highest_version_stands_and_a_tie_is_broken_the_same_everywhere() -> None:
    first = enrolled()
    warned = next_record(first, standing=Standing.WARNED, issued_ms=5)
    listed = replace(next_record(first, standing=Standing.DISQUALIFIED, issued_ms=7), digest=b"b")
    assert newest([warned, first]) is warned
    assert newest([listed, replace(warned, digest=b"a")]) == listed
    assert newest([replace(warned, digest=b"a"), listed]) == listed


def test_a_listed_unit_cannot_enrol_and_is_disqualified_until_it_applies_again() -> None:
    listings, standing, reason = with_listing(enrolled(), Listing.BLACKLIST, True, "失信")
    assert standing is Standing.DISQUALIFIED and "blacklist" in reason
    listed = next_record(enrolled(), listings=listings, standing=standing, reason=reason)
    assert "blacklist" in (why_cannot_enrol(listed) or "")
    listings, standing, _ = with_listing(listed, Listing.BLACKLIST, False, "移出名单")
    lifted = next_record(listed, listings=listings, standing=standing)
    assert lifted.standing is Standing.DISQUALIFIED and why_cannot_enrol(lifted) is None
    assert "already" in (why_cannot_enrol(enrolled()) or "")


def test_a_unit_listed_but_never_enrolled_is_not_on_the_published_roster() -> None:
    listed = replace(enrolled("620000"), enrolled=False, standing=Standing.DISQUALIFIED)
    other = replace(enrolled(), credit_code="91620102MA74CD3E5Q")
    roster = roster_of([listed, other])
    assert roster.entry(CODE) is None and roster.routable(other.credit_code) is not None
