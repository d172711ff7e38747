"""The province's rules for personal data in its rule book: suite, retention, look-up key id.

The rule book says which cipher suite new registrations are sealed with (国际算法 or 商用密码),
how many days a ticket's personal data is kept after it ends (three years unless the province
says otherwise), and which look-up key is in force. Each is amended like any other rule, and
survives the book's translation to and from the wire; a book issued before these rules existed
reads as the defaults.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.deadlines.rulebook import (
    COMMERCIAL_SUITE,
    DEFAULT_RETENTION_DAYS,
    INTERNATIONAL_SUITE,
    MAX_RETENTION_DAYS,
    RuleBook,
)
from core.errors import InvalidInput
from proto.hotline.v1 import rules_pb2
from sync.rule_book_signing import rule_book_from, rule_book_message

NOW_MS = 1_773_624_600_000  # 2026-03-16 09:30 China time
DAY_MS = 86_400_000


def over_the_wire(book: RuleBook) -> RuleBook:
    """``book`` as a receiving node reads it from the bytes the province signs."""
    raw = rule_book_message(book).SerializeToString(deterministic=True)
    msg = rules_pb2.RuleBook()
    msg.ParseFromString(raw)
    return rule_book_from(msg)


def test_a_new_book_seals_with_the_international_suite_and_keeps_data_three_years() -> None:
    book = RuleBook("620000")
    assert book.personal_suite == INTERNATIONAL_SUITE == "aes-256-gcm/sha-256"
    assert book.retention_days == 0 and book.retention_days_in_force == DEFAULT_RETENTION_DAYS
    assert DEFAULT_RETENTION_DAYS == 1095
    assert book.retention_ms == 1095 * DAY_MS
    assert book.lookup_key_id == ""


def test_each_personal_rule_is_its_own_numbered_publication() -> None:
    book = RuleBook("620000").with_personal_suite(COMMERCIAL_SUITE, NOW_MS)
    book = book.with_retention_days(1825, NOW_MS + 1)
    book = book.with_lookup_key("L20260316a1b2c3", NOW_MS + 2)
    assert (book.number, book.issued_ms) == (3, NOW_MS + 2)
    assert book.personal_suite == "sm4-gcm/sm3"
    assert book.retention_days_in_force == 1825 and book.retention_ms == 1825 * DAY_MS
    assert book.lookup_key_id == "L20260316a1b2c3"
    rotated = book.with_lookup_key("L20260401d4e5f6", NOW_MS + 3)
    assert (rotated.number, rotated.lookup_key_id) == (4, "L20260401d4e5f6")
    assert rotated.personal_suite == COMMERCIAL_SUITE  # the other rules stay as they were


def test_naming_the_first_look_up_key_does_not_make_another_publication() -> None:
    book = RuleBook("620000").with_retention_days(400, NOW_MS)
    named = book.naming_lookup_key("L20260316000001")
    assert (named.number, named.issued_ms) == (book.number, book.issued_ms)
    assert named.lookup_key_id == "L20260316000001"


@pytest.mark.parametrize(
    ("amend", "field"),
    [
        (lambda b: b.with_personal_suite("aes-128-cbc/md5", NOW_MS), "personal_suite"),
        (lambda b: b.with_personal_suite("", NOW_MS), "personal_suite"),
        (lambda b: b.with_retention_days(0, NOW_MS), "retention_days"),
        (lambda b: b.with_retention_days(-1, NOW_MS), "retention_days"),
        (lambda b: b.with_retention_days(MAX_RETENTION_DAYS + 1, NOW_MS), "retention_days"),
        (lambda b: b.with_lookup_key("", NOW_MS), "lookup_key_id"),
        (lambda b: b.with_lookup_key("../../node.key", NOW_MS), "lookup_key_id"),
        (lambda b: b.with_lookup_key("L" * 33, NOW_MS), "lookup_key_id"),
        (lambda b: b.naming_lookup_key("key id"), "lookup_key_id"),
        (lambda b: RuleBook("620000", personal_suite="sm4"), "rules.personal_suite"),
        (lambda b: RuleBook("620000", retention_days=40_000), "rules.retention_days"),
        (lambda b: RuleBook("620000", lookup_key_id="a/b"), "rules.lookup_key_id"),
    ],
)
def test_bad_personal_rules_are_refused_naming_the_field(amend: object, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        amend(RuleBook("620000"))  # type: ignore[operator]
    assert refused.value.field == field


def test_retention_bounds_are_one_day_and_a_hundred_years() -> None:
    book = RuleBook("620000")
    assert book.with_retention_days(1, NOW_MS).retention_days_in_force == 1
    assert book.with_retention_days(36_500, NOW_MS).retention_days_in_force == 36_500


@given(
    suite=st.sampled_from([INTERNATIONAL_SUITE, COMMERCIAL_SUITE]),
    days=st.integers(min_value=0, max_value=MAX_RETENTION_DAYS),
    key_id=st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", fullmatch=True)),
)
def test_the_personal_rules_survive_the_wire(suite: str, days: int, key_id: str) -> None:
    book = RuleBook(
        "620000",
        number=7,
        issued_ms=NOW_MS,
        personal_suite=suite,
        retention_days=days,
        lookup_key_id=key_id,
    )
    assert over_the_wire(book) == book


def test_a_book_issued_before_the_personal_rules_reads_as_the_defaults() -> None:
    old = rules_pb2.RuleBook(issuer_unit="620000", number=3, issued_ms=NOW_MS)
    assert not old.personal_suite and not old.retention_days and not old.lookup_key_id
    book = rule_book_from(old)
    assert book.personal_suite == INTERNATIONAL_SUITE
    assert book.retention_days_in_force == DEFAULT_RETENTION_DAYS
    assert book.lookup_key_id == "" and book.number == 3


def test_a_book_with_an_unknown_suite_on_the_wire_is_refused_naming_the_field() -> None:
    msg = rule_book_message(RuleBook("620000", number=1))
    msg.personal_suite = "rot13"
    with pytest.raises(InvalidInput) as refused:
        rule_book_from(msg)
    assert refused.value.field == "rules.personal_suite"
