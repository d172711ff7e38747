"""The ODR roster's records: who may sign one, which one stands, what a listing does.

Issue 13, items 1 and 2. Pure: a county signs its own units' records, a unit above it may too,
a sibling county may not; the highest version stands (two of one version ordered the same way
everywhere); a listed unit cannot enrol and is disqualified; units never enrolled stay off the
published roster.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import EnrolmentForbidden, NotFound, NotPermitted
from core.odr.roster import ApplicantKind, Standing
from core.odr.roster_changes import (
    Signer,
    enrolment,
    judged_before,
    judged_period,
    listing_change,
    removal_decision,
)
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
from core.odr.standing import OdrThresholds, StandingFigures, judge

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


COUNTY = Signer("620102", "node-620102", "620102-01", 100)
PROVINCE = Signer("620000", "node-620000", "620000-02", 200)


def test_a_listing_before_enrolment_is_a_record_of_the_listers_unit_off_the_roster() -> None:
    listed = listing_change(None, PROVINCE, CODE, Listing.BLACKLIST, True, "失信")
    assert (listed.version, listed.unit_code, listed.enrolled) == (1, "620000", False)
    assert listed.listings == {Listing.BLACKLIST} and "blacklist" in listed.reason
    with pytest.raises(EnrolmentForbidden):
        enrolment(
            listed,
            COUNTY,
            credit_code=CODE,
            name="x",
            kind=ApplicantKind.ENTERPRISE,
            application_id="A",
        )
    with pytest.raises(NotFound):
        listing_change(None, PROVINCE, CODE, Listing.BLACKLIST, False, "无")


def test_a_sibling_county_may_not_change_the_entry_and_a_removal_needs_a_proposal() -> None:
    sibling = Signer("620103", "node-620103", "620103-01", 300)
    with pytest.raises(NotPermitted):
        listing_change(enrolled(), sibling, CODE, Listing.BLACKLIST, True, "越权")
    with pytest.raises(EnrolmentForbidden):
        removal_decision(enrolled(), COUNTY, CODE, True, "无建议")


def test_two_poor_periods_propose_removal_and_the_unit_head_removes() -> None:
    rules = OdrThresholds()
    poor = StandingFigures(CODE, 0, 10, received=4, answered_in_time=1)
    first = judged_period(enrolled(), COUNTY, judge(poor, rules, 0), 10)
    assert (first.standing, first.poor_periods, first.removal_proposed) == (
        Standing.WARNED,
        1,
        False,
    )
    assert judged_before(first, 10) and not judged_before(first, 20)
    second = judged_period(first, COUNTY, judge(poor, rules, first.poor_periods), 20)
    assert second.removal_proposed and judged_before(second, 30)
    removed = removal_decision(second, COUNTY, CODE, True, "连续两期")
    assert (removed.standing, removed.version, removed.removal_proposed) == (
        Standing.REMOVED,
        4,
        False,
    )
