"""The loss check after a surge: every acknowledged ticket at the province and at its holder,
none twice."""

from __future__ import annotations

from loadtest.ticket_audit import Listing, audit

PROVINCE = Listing("620000", (("t1", "620000"), ("t2", "620102"), ("t3", "620103")))
COUNTIES = {
    "620102": Listing("620102", (("t2", "620102"),)),
    "620103": Listing("620103", (("t3", "620103"),)),
}


def test_a_network_holding_every_acknowledged_ticket_once_is_intact_and_caught_up() -> None:
    found = audit(["t1", "t2", "t3"], PROVINCE, COUNTIES)
    assert found.intact and found.caught_up
    assert found.acknowledged == 3


def test_an_acknowledged_ticket_the_province_does_not_hold_is_lost() -> None:
    found = audit(["t1", "t2", "t3", "never-held"], PROVINCE, COUNTIES)
    assert found.lost_at_province == ["never-held"]
    assert not found.intact


def test_a_ticket_not_yet_at_its_county_is_not_caught_up_but_not_lost() -> None:
    behind = {**COUNTIES, "620103": Listing("620103", ())}
    found = audit(["t1", "t2", "t3"], PROVINCE, behind)
    assert found.missing_at_holder == ["t3"]
    assert found.intact and not found.caught_up


def test_one_ticket_id_answered_for_two_calls_is_a_duplicate() -> None:
    found = audit(["t1", "t2", "t2"], PROVINCE, COUNTIES)
    assert found.duplicated == ["t2"]
    assert not found.intact


def test_a_ticket_listed_twice_on_a_node_is_a_duplicate() -> None:
    doubled = {**COUNTIES, "620102": Listing("620102", (("t2", "620102"), ("t2", "620102")))}
    found = audit(["t2"], PROVINCE, doubled)
    assert found.duplicated == ["620102:t2"]


def test_a_holder_outside_the_run_is_checked_at_the_province_only() -> None:
    province = Listing("620000", (("t9", "620402"),))
    found = audit(["t9"], province, COUNTIES)
    assert found.holders_outside == 1
    assert found.intact and found.caught_up
