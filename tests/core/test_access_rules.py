"""The pure rules of signing in: lockout, sessions and tokens, passwords, the record's chain."""

from __future__ import annotations

import dataclasses

import pytest

from core.access.lockout import AccountGuard, after_failure, after_success, judge_try
from core.access.passwords import check_password
from core.access.policy import SignInPolicy
from core.access.reasons import SignInRefusal, TokenRefusal
from core.access.record import (
    GENESIS,
    AccessAction,
    AccessEntry,
    AccessOutcome,
    ChainedEntry,
    digest_of,
    first_break,
)
from core.access.sessions import (
    BadToken,
    SessionClaims,
    SessionEnd,
    needs_touch,
    new_session,
    refusal,
    token_parts,
    token_text,
)
from core.errors import InvalidInput

MIN = 60_000
POLICY = SignInPolicy(max_failures=3, lockout_ms=15 * MIN, idle_ms=30 * MIN, lifetime_ms=480 * MIN)
NOW = 1_800_000_000_000


# -- lockout ---------------------------------------------------------------------------------------


def test_the_third_wrong_try_in_a_row_locks_the_account_for_the_lockout_period() -> None:
    guard = AccountGuard()
    first = after_failure(guard, NOW, POLICY)
    second = after_failure(first.guard, NOW + 1, POLICY)
    third = after_failure(second.guard, NOW + 2, POLICY)
    assert not first.locked_now and not second.locked_now
    assert third.locked_now
    assert third.guard.locked(NOW + 2)
    assert third.guard.locked(NOW + 2 + 15 * MIN - 1)
    assert not third.guard.locked(NOW + 2 + 15 * MIN)


def test_after_a_lock_ends_the_count_starts_again() -> None:
    guard = AccountGuard()
    for i in range(3):
        guard = after_failure(guard, NOW + i, POLICY).guard
    later = NOW + 20 * MIN
    again = after_failure(guard, later, POLICY)
    assert not again.locked_now and again.guard.failures == 1


def test_a_right_try_clears_the_count_and_spends_its_code() -> None:
    guard = after_failure(AccountGuard(), NOW, POLICY).guard
    signed = after_success(guard, step=1000)
    assert signed.failures == 0
    assert signed.code_spent(1000) and signed.code_spent(999)
    assert not signed.code_spent(1001)


def test_a_try_is_judged_lock_first_then_password_then_code_then_spent_code() -> None:
    locked = AccountGuard(locked_until_ms=NOW + 1, last_code_step=10)
    fresh = AccountGuard(last_code_step=10)
    assert judge_try(locked, NOW, password_ok=True, code_step=11) is SignInRefusal.LOCKED
    assert judge_try(fresh, NOW, password_ok=False, code_step=11) is SignInRefusal.WRONG_PASSWORD
    assert judge_try(fresh, NOW, password_ok=True, code_step=None) is SignInRefusal.WRONG_CODE
    assert judge_try(fresh, NOW, password_ok=True, code_step=10) is SignInRefusal.SPENT_CODE
    assert judge_try(fresh, NOW, password_ok=True, code_step=11) is None
    assert judge_try(locked, NOW + 1, password_ok=True, code_step=11) is None  # lock over


def test_a_policy_that_cannot_work_is_refused() -> None:
    with pytest.raises(InvalidInput, match="max_failures"):
        SignInPolicy(max_failures=0)
    with pytest.raises(InvalidInput, match="idle_ms"):
        SignInPolicy(idle_ms=10 * MIN, lifetime_ms=5 * MIN)


# -- sessions and tokens ---------------------------------------------------------------------------


def test_a_fresh_session_holds_on_its_node() -> None:
    claims, record = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    assert claims.expires_ms == NOW + 480 * MIN
    assert refusal(claims, record, "620102-aaaaaa", NOW + MIN, POLICY) is None


def test_a_token_for_another_node_is_refused_first() -> None:
    claims, record = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    assert refusal(claims, record, "620000-bbbbbb", NOW, POLICY) is TokenRefusal.OTHER_NODE


def test_a_session_unknown_here_or_of_another_officer_is_refused() -> None:
    claims, record = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    node = "620102-aaaaaa"
    assert refusal(claims, None, node, NOW, POLICY) is TokenRefusal.UNKNOWN_SESSION
    other = dataclasses.replace(record, officer_id="620102-01")
    assert refusal(claims, other, node, NOW, POLICY) is TokenRefusal.UNKNOWN_SESSION


def test_a_session_ends_at_its_lifetime_however_busy() -> None:
    claims, record = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    busy = dataclasses.replace(record, last_seen_ms=NOW + 480 * MIN - 1)
    node = "620102-aaaaaa"
    assert refusal(claims, busy, node, NOW + 480 * MIN - 1, POLICY) is None
    assert refusal(claims, busy, node, NOW + 480 * MIN, POLICY) is TokenRefusal.EXPIRED


def test_a_session_without_calls_for_the_idle_time_is_refused() -> None:
    claims, record = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    node = "620102-aaaaaa"
    assert refusal(claims, record, node, NOW + 30 * MIN - 1, POLICY) is None
    assert refusal(claims, record, node, NOW + 30 * MIN, POLICY) is TokenRefusal.IDLE


def test_an_ended_session_is_refused_for_the_reason_it_ended() -> None:
    claims, record = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    node = "620102-aaaaaa"
    for end, expected in (
        (SessionEnd.SIGNED_OUT, TokenRefusal.SIGNED_OUT),
        (SessionEnd.IDLE, TokenRefusal.IDLE),
        (SessionEnd.CREDENTIALS_CHANGED, TokenRefusal.SIGNED_OUT),
    ):
        ended = dataclasses.replace(record, ended_ms=NOW + 1, end_reason=end.value)
        assert refusal(claims, ended, node, NOW + 2, POLICY) is expected


def test_a_call_writes_last_seen_only_when_it_is_a_minute_stale() -> None:
    _, record = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    assert not needs_touch(record, NOW + MIN - 1, POLICY)
    assert needs_touch(record, NOW + MIN, POLICY)
    quick = SignInPolicy(idle_ms=2 * MIN, lifetime_ms=10 * MIN)
    assert needs_touch(record, NOW + 30_000, quick)  # a quarter of a short idle time


def test_a_token_reads_back_to_the_claims_and_signature_it_was_made_of() -> None:
    claims, _ = new_session("ab" * 16, "620102-aaaaaa", "620102-07", NOW, POLICY)
    text = token_text(claims.to_bytes(), b"\x01" * 64)
    assert text.startswith("hs1.")
    data, signature = token_parts(text)
    assert SessionClaims.from_bytes(data) == claims and signature == b"\x01" * 64


@pytest.mark.parametrize(
    "text",
    ["", "Bearer x", "hs1.abc", "hs2.e30.AA", "hs1.!!!.AA", "hs1." + "A" * 2000 + ".AA"],
)
def test_what_is_not_a_token_is_refused_unread(text: str) -> None:
    with pytest.raises(BadToken):
        data, _ = token_parts(text)
        SessionClaims.from_bytes(data)


@pytest.mark.parametrize(
    "claims",
    [
        b"[]",
        b'{"v":2}',
        b'{"v":1,"sid":"x"}',
        b'{"v":1,"sid":1,"node":"n","officer":"o","iat":1,"exp":2}',
    ],
)
def test_claims_of_another_shape_are_refused(claims: bytes) -> None:
    with pytest.raises(BadToken):
        SessionClaims.from_bytes(claims)


# -- passwords -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["Gansu-12315-sign-in", "兰州城关区Abc123", "correct Horse 9 staple"]
)
def test_passwords_of_ten_characters_and_three_kinds_are_accepted(password: str) -> None:
    check_password(password)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Ab1-short", "at least 10"),
        ("alllowercaseletters", "three of"),
        ("lowercaseand12345", "three of"),
        (" Padded-Password1", "spaces"),
        ("Aa1-" * 70, "at most 256"),
    ],
)
def test_weak_passwords_are_refused_naming_the_field(password: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why) as refused:
        check_password(password)
    assert refused.value.field == "password"


# -- the access record's chain ---------------------------------------------------------------------


def chain(count: int) -> list[ChainedEntry]:
    rows, previous = [], GENESIS
    for seq in range(1, count + 1):
        entry = AccessEntry(
            seq, NOW + seq, "620102-07", AccessAction.SIGN_IN, AccessOutcome.REFUSED,
            "wrong-password", "ipv4:127.0.0.1:50000",
        )  # fmt: skip
        digest = digest_of(previous, entry)
        rows.append(ChainedEntry(entry, previous, digest))
        previous = digest
    return rows


def test_an_untouched_chain_has_no_break() -> None:
    assert first_break(chain(5)) is None
    assert first_break([]) is None


def test_an_edited_row_breaks_the_chain_at_that_row() -> None:
    rows = chain(5)
    edited = dataclasses.replace(
        rows[2], entry=dataclasses.replace(rows[2].entry, outcome=AccessOutcome.DONE, reason="")
    )
    assert first_break([*rows[:2], edited, *rows[3:]]) == 3


def test_a_removed_row_breaks_the_chain_at_the_next() -> None:
    rows = chain(5)
    assert first_break([*rows[:1], *rows[2:]]) == 3


def test_a_row_rehashed_after_an_edit_breaks_the_chain_at_the_following_row() -> None:
    rows = chain(5)
    entry = dataclasses.replace(rows[1].entry, officer_id="620102-01")
    rehashed = ChainedEntry(entry, rows[1].previous, digest_of(rows[1].previous, entry))
    assert first_break([rows[0], rehashed, *rows[2:]]) == 3


def test_the_digest_covers_every_field_and_the_previous_digest() -> None:
    entry = chain(1)[0].entry
    base = digest_of(GENESIS, entry)
    assert digest_of(b"\x01" * 32, entry) != base
    for field in dataclasses.fields(AccessEntry):
        value = getattr(entry, field.name)
        changed = (
            value + 1 if isinstance(value, int)
            else AccessAction.SIGN_OUT if isinstance(value, AccessAction)
            else AccessOutcome.DONE if isinstance(value, AccessOutcome)
            else value + "x"
        )  # fmt: skip
        assert digest_of(GENESIS, dataclasses.replace(entry, **{field.name: changed})) != base
