"""The pure rules behind the people outside the bureau and the limits on sign-in tries.

Issue 11, items 5 and 7: consumers' verification codes, enterprise users' ids and credit codes,
sessions that say whom they stand for, the table's rows for enterprise users and consumers, and
the token buckets that hold back a guesser.
"""

from __future__ import annotations

import dataclasses

import pytest

from core.access import consumer_codes
from core.access.permissions import PERMISSIONS, permission_of, why_outsider_refused
from core.access.policy import SignInPolicy
from core.access.principals import Principal, PrincipalKind, check_enterprise_user
from core.access.reasons import CallRefusal, TokenRefusal
from core.access.sessions import BadToken, SessionClaims, new_session, refusal
from core.access.throttle import (
    BURST_ROW_MS,
    BucketRule,
    ended_burst,
    full_bucket,
    give_back,
    take,
)
from core.errors import InvalidInput
from core.identifiers import credit_code_check_character

NOW = 1_800_000_000_000
CREDIT = "91620102MA74A1B2C9"
TICKET = "620102-6f27e4-000001"


# -- consumers' codes ------------------------------------------------------------------------------


def test_a_code_is_eight_characters_of_an_alphabet_without_look_alikes() -> None:
    assert len(consumer_codes.ALPHABET) == 32 and not set("01IO") & set(consumer_codes.ALPHABET)
    code = consumer_codes.code_from(bytes(range(8)))
    assert code == "ABCDEFGH"
    assert consumer_codes.code_from(bytes([255] * 8)) == "99999999"
    with pytest.raises(ValueError):
        consumer_codes.code_from(b"short")


def test_a_code_is_read_back_whatever_its_case_spaces_and_hyphen() -> None:
    assert consumer_codes.normalized(" abcd-ef23 ") == "ABCDEF23"
    assert consumer_codes.grouped("ABCDEF23") == "ABCD-EF23"


@pytest.mark.parametrize("typed", ["ABCDEF2", "ABCDEF234", "ABCDEF20", "ABCDEFGI", "ABCDEF2√"])
def test_what_cannot_be_a_code_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        consumer_codes.normalized(typed, "code")
    assert refused.value.field == "code"


# -- enterprise users ------------------------------------------------------------------------------


def test_an_enterprise_user_is_checked_field_by_field() -> None:
    draft = check_enterprise_user(CREDIT.lower(), " 兰州某健身有限公司 ", " zhang.3 ", "张经理")
    assert (draft.credit_code, draft.enterprise_name, draft.user_id) == (
        CREDIT,
        "兰州某健身有限公司",
        "zhang.3",
    )


@pytest.mark.parametrize(
    ("credit", "user", "name", "field"),
    [
        (CREDIT[:-1] + ("0" if CREDIT[-1] != "0" else "1"), "zhang", "张", "credit_code"),
        (CREDIT[:17], "zhang", "张", "credit_code"),
        ("", "zhang", "张", "credit_code"),
        (CREDIT, "", "张", "user_id"),
        (CREDIT, "张经理", "张", "user_id"),
        (CREDIT, "x" * 33, "张", "user_id"),
        (CREDIT, "zhang", "", "name"),
        (CREDIT, "zhang", "张" * 51, "name"),
    ],
    ids=["check-character", "short", "empty", "no-id", "id-chinese", "id-long", "no-name", "long"],
)
def test_a_malformed_enterprise_user_is_refused_naming_the_field(
    credit: str, user: str, name: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_enterprise_user(credit, "某公司", user, name)
    assert refused.value.field == field


def test_the_sample_credit_code_is_valid() -> None:
    assert credit_code_check_character(CREDIT[:17]) == CREDIT[17]


def test_the_access_record_names_each_kind_of_principal_apart() -> None:
    assert Principal(PrincipalKind.OFFICER, "620102-07").label == "620102-07"
    assert (
        Principal(PrincipalKind.ENTERPRISE, "zhang", CREDIT).label == f"enterprise:{CREDIT}:zhang"
    )
    assert Principal(PrincipalKind.CONSUMER, "consumer", TICKET).label == f"consumer:{TICKET}"


# -- sessions --------------------------------------------------------------------------------------


POLICY = SignInPolicy()


def test_an_officers_claims_read_as_before_and_an_outsiders_say_whom_they_stand_for() -> None:
    officer, _ = new_session("ab" * 16, "620102-6f27e4", "620102-07", NOW, POLICY)
    assert b"kind" not in officer.to_bytes() and b"scope" not in officer.to_bytes()
    consumer, row = new_session(
        "cd" * 16, "620102-6f27e4", "consumer", NOW, POLICY,
        kind=PrincipalKind.CONSUMER, scope=TICKET,
    )  # fmt: skip
    again = SessionClaims.from_bytes(consumer.to_bytes())
    assert (again.kind, again.scope) == ("consumer", TICKET)
    assert row.principal == Principal(PrincipalKind.CONSUMER, "consumer", TICKET)
    assert refusal(again, row, "620102-6f27e4", NOW, POLICY) is None


def test_a_session_row_of_another_kind_or_scope_does_not_hold_the_token() -> None:
    claims, row = new_session(
        "cd" * 16, "620102-6f27e4", "zhang", NOW, POLICY,
        kind=PrincipalKind.ENTERPRISE, scope=CREDIT,
    )  # fmt: skip
    for changed in (
        dataclasses.replace(row, kind="officer", scope=""),
        dataclasses.replace(row, scope="91620102MA74CD3E5Q"),
    ):
        assert refusal(claims, changed, "620102-6f27e4", NOW, POLICY) is (
            TokenRefusal.UNKNOWN_SESSION
        )


@pytest.mark.parametrize(
    "claims",
    [
        b'{"exp":2,"iat":1,"kind":"root","node":"n","officer":"o","scope":"s","sid":"s","v":1}',
        b'{"exp":2,"iat":1,"kind":"consumer","node":"n","officer":"o","scope":"","sid":"s","v":1}',
        b'{"exp":2,"iat":1,"kind":"officer","node":"n","officer":"o","scope":"x","sid":"s","v":1}',
        b'{"exp":2,"iat":1,"kind":["x"],"node":"n","officer":"o","scope":"x","sid":"s","v":1}',
    ],
    ids=["unknown-kind", "consumer-without-ticket", "officer-with-scope", "kind-not-text"],
)
def test_claims_whose_kind_and_scope_do_not_fit_are_not_a_token(claims: bytes) -> None:
    with pytest.raises(BadToken):
        SessionClaims.from_bytes(claims)


# -- the table -------------------------------------------------------------------------------------

ENTERPRISE = Principal(PrincipalKind.ENTERPRISE, "zhang", CREDIT)
CONSUMER = Principal(PrincipalKind.CONSUMER, "consumer", TICKET)


def test_an_enterprise_user_passes_only_the_rows_about_their_session_and_the_odr() -> None:
    passed = {
        f"{service}.{name}"
        for service, methods in PERMISSIONS.items()
        for name, rule in methods.items()
        if not rule.open
        and why_outsider_refused(f"/hotline.v1.{service}/{name}", rule, ENTERPRISE, "") is None
    }
    # Whose dispute it is, the ODR desk checks against the session's credit code.
    odr = {f"OdrService.{name}" for name in PERMISSIONS["OdrService"]}
    assert passed == {"AccessService.SignOut", "AccessService.WhoAmI", *odr}


def test_a_consumer_reads_their_own_ticket_and_nothing_else() -> None:
    get = "/hotline.v1.IntakeService/GetTicket"
    rule = permission_of(get)
    assert rule is not None
    assert why_outsider_refused(get, rule, CONSUMER, TICKET) is None
    other = why_outsider_refused(get, rule, CONSUMER, "620102-6f27e4-000002")
    assert other is not None and other.denial is CallRefusal.OUTSIDE_JURISDICTION
    history = "/hotline.v1.IntakeService/GetTicketHistory"
    rule = permission_of(history)
    assert rule is not None
    refused = why_outsider_refused(history, rule, CONSUMER, TICKET)
    assert refused is not None and refused.denial is CallRefusal.MISSING_ROLE


# -- token buckets ---------------------------------------------------------------------------------

RULE = BucketRule(burst=3, per_minute=6)  # a token every 10 s


def test_a_bucket_admits_its_burst_then_refuses_with_the_time_to_the_next_token() -> None:
    bucket = full_bucket(RULE, NOW)
    for _ in range(3):
        taken = take(bucket, RULE, NOW)
        assert taken.admitted
        bucket = taken.bucket
    refused = take(bucket, RULE, NOW + 4_000)
    assert not refused.admitted and refused.retry_after_ms == 6_000
    assert refused.bucket.burst is not None and refused.bucket.burst.refused == 1


def test_refusals_in_a_row_are_one_burst_recorded_when_a_try_is_admitted_again() -> None:
    bucket = full_bucket(RULE, NOW)
    for _ in range(3):
        bucket = take(bucket, RULE, NOW).bucket
    for i in range(5):
        refused = take(bucket, RULE, NOW + i * 1_000)
        assert not refused.admitted and refused.ended is None
        bucket = refused.bucket
    admitted = take(bucket, RULE, NOW + 10_000)
    assert admitted.admitted and admitted.ended is not None
    assert (admitted.ended.refused, admitted.ended.first_ms, admitted.ended.last_ms) == (
        5,
        NOW,
        NOW + 4_000,
    )
    assert admitted.bucket.burst is None


def test_a_burst_that_goes_on_is_recorded_every_minute() -> None:
    bucket = full_bucket(BucketRule(burst=1, per_minute=0.5), NOW)  # a token every 2 minutes
    rule = BucketRule(burst=1, per_minute=0.5)
    bucket = take(bucket, rule, NOW).bucket
    ended = []
    for second in range(0, 90):
        taken = take(bucket, rule, NOW + second * 1_000)
        assert not taken.admitted
        bucket = taken.bucket
        if taken.ended is not None:
            ended.append(taken.ended)
    assert [b.refused for b in ended] == [BURST_ROW_MS // 1_000]


def test_a_full_bucket_ends_its_burst_and_a_right_try_gives_its_token_back() -> None:
    bucket = take(take(take(full_bucket(RULE, NOW), RULE, NOW).bucket, RULE, NOW).bucket, RULE, NOW)
    refused = take(bucket.bucket, RULE, NOW)
    assert ended_burst(refused.bucket, RULE, NOW + 29_000) is None
    ended = ended_burst(refused.bucket, RULE, NOW + 30_000)
    assert ended is not None and ended.refused == 1
    assert give_back(bucket.bucket, RULE, NOW).tokens == 1
    assert give_back(full_bucket(RULE, NOW), RULE, NOW).tokens == 3


@pytest.mark.parametrize(("burst", "per_minute"), [(0, 1), (1, 0), (1, float("nan"))])
def test_a_bucket_that_cannot_work_is_refused(burst: int, per_minute: float) -> None:
    with pytest.raises(InvalidInput):
        BucketRule(burst, per_minute)
