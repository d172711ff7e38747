"""The door remembers tokens it checked a moment ago, and forgets them when a session ends.

Issue 14, item 7: a session checked in full (signature, row) is answered from memory for up to
``RECHECK_MS``; signing out and new credentials in this process end it at once; a sign-out done
by another process on the same database (several hub processes, DESIGN rule 8) ends it within
``RECHECK_MS``, the bound docs/security.md states. Revocation from above, the idle timeout and
the lifetime are specified in test_officer_accounts_from_above.py and test_sign_in.py, which
run through the same memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.access.sessions import SessionClaims, SessionRecord
from core.officers import Role
from node.access import enterprises
from node.access.accounts import SignedIn
from node.access.checked import RECHECK_MS, CheckedSession, CheckedSessions
from node.access.desk import SignInDesk
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import odr_pb2
from tests.helpers.signin import HandMovedTime, code_at, reasons
from tests.helpers.world import InProcessNode, World, spec

HANDLER = "620102-07"
GYM = "91620102MA74A1B2C9"
GYM_PASSWORD = "Gym-owner-2027-ok"


@dataclass
class Door:
    """Chengguan's node, its hand-moved real time, and how many full checks its desk made."""

    node: InProcessNode
    time: HandMovedTime
    full_checks: list[tuple[Any, ...]]

    @property
    def desk(self) -> SignInDesk:
        """The node's sign-in desk."""
        return self.node.node.access

    def fresh_handler(self) -> NodeClient:
        """The handler, signed in anew (a session of their own)."""
        self.node.signins.forget(HANDLER)
        return self.node.client(HANDLER)

    def other_process(self) -> SignInDesk:
        """A second hub process on the same database: its own desk, its own memory."""
        parts = self.node.node
        return SignInDesk(
            parts.db, parts.identity, parts.roster, parts.blocking, self.desk.policy, self.time
        )

    def refused(self, call: Callable[[], object]) -> CallError:
        """The error ``call`` raised."""
        with pytest.raises(CallError) as failed:
            call()
        return failed.value


@pytest.fixture
def door(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Door]:
    """Chengguan with a handler on its roster, every full token check counted."""
    time = HandMovedTime()
    node = world.start(spec("chengguan"), real_ms=time)
    node.add_officer(HANDLER, "李强", (Role.HANDLER,))
    yield Door(node, time, calls_of(monkeypatch, node.node.access, "authenticate_now"))


def calls_of(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[tuple[Any, ...]]:
    """The arguments of every call of ``owner.name`` from now on (each call goes through)."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(owner, name)

    def noted(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(owner, name, noted)
    return calls


def test_a_token_checked_in_full_is_answered_from_memory_until_its_row_is_due_again(
    door: Door,
) -> None:
    with door.fresh_handler() as handler:
        before = len(door.full_checks)
        for _ in range(10):
            assert handler.who_am_i().officer_id == HANDLER
        assert len(door.full_checks) - before == 1, "one full check, nine from memory"
        door.time.advance(seconds=RECHECK_MS / 1000)
        handler.who_am_i()
        assert len(door.full_checks) - before == 2, "the row is read again once it is due"


def test_signing_out_ends_the_session_at_once_in_the_same_process(door: Door) -> None:
    with door.fresh_handler() as handler:
        handler.who_am_i()
        token = handler.token
        handler.sign_out()
    with door.node.unsigned().with_token(token) as bearer:
        failed = door.refused(bearer.who_am_i)  # no time has passed: memory was cleared
    assert failed.code == "UNAUTHENTICATED" and "signed out" in failed.message
    assert reasons(door.node)[-1] == "call/refused/signed-out"


def test_new_credentials_end_the_officer_s_session_at_once_in_the_same_process(
    door: Door,
) -> None:
    with door.fresh_handler() as handler:
        handler.who_am_i()
        with door.node.admin() as admin:
            admin.set_credentials(HANDLER, "Lanzhou-handler-2027")
        failed = door.refused(handler.who_am_i)
    assert failed.code == "UNAUTHENTICATED"
    assert reasons(door.node)[-1] == "call/refused/signed-out"


def test_a_sign_out_by_another_process_takes_effect_within_the_recheck_bound(
    door: Door,
) -> None:
    other = door.other_process()
    with door.fresh_handler() as handler:
        handler.who_am_i()
        who = other.authenticate_now(handler.token, "local:other-process", "WhoAmI")
        other.sign_out_now(who, "local:other-process")
        assert handler.who_am_i().officer_id == HANDLER, "this process has not re-read the row"
        door.time.advance(seconds=RECHECK_MS / 1000)
        failed = door.refused(handler.who_am_i)
    assert failed.code == "UNAUTHENTICATED" and "signed out" in failed.message
    assert reasons(door.node)[-2:] == ["sign-out/done/", "call/refused/signed-out"]


def _gym_user(door: Door) -> NodeClient:
    """A client of Chengguan signed in as a new user of the gym."""
    with door.node.admin() as admin:
        added = admin.add_enterprise_user(
            GYM, "desk1", "张经理", GYM_PASSWORD, enterprise_name="兰州某健身"
        )
    client = door.node.client()
    client.enterprise_sign_in(GYM, "desk1", GYM_PASSWORD, code_at(added.totp_secret, door.time()))
    return client


def _disputes(gym: NodeClient) -> odr_pb2.ListDisputesResponse:
    answer: odr_pb2.ListDisputesResponse = gym.call(
        "OdrService", "ListDisputes", odr_pb2.ListDisputesRequest()
    )
    return answer


def test_an_enterprise_user_is_read_with_their_session_not_again_on_every_odr_call(
    door: Door, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = calls_of(monkeypatch, enterprises, "user")
    with _gym_user(door) as gym:
        checks, before = len(door.full_checks), len(reads)
        for _ in range(5):
            assert list(_disputes(gym).disputes) == []
        assert len(door.full_checks) - checks == 1, "one full check, four from memory"
        assert len(reads) - before == 1, "the user is read with the session row, once"


def test_new_credentials_set_by_another_process_end_an_enterprise_session_within_the_bound(
    door: Door,
) -> None:
    """Setting an enterprise user's credentials anew is how a county shuts them out."""
    other = door.other_process()
    with _gym_user(door) as gym, door.node.admin() as admin:
        _disputes(gym)
        admin.who_am_i()
        by = other.authenticate_now(admin.token, "local:other-process", "WhoAmI")
        other.add_enterprise_user_now(
            by, GYM, "", "desk1", "张经理", "Gym-owner-2028-ok", "local:other-process"
        )
        _disputes(gym)  # this process has not re-read the row
        door.time.advance(seconds=RECHECK_MS / 1000)
        failed = door.refused(lambda: _disputes(gym))
    assert failed.code == "UNAUTHENTICATED"
    assert reasons(door.node)[-1] == "call/refused/signed-out"


def _checked(read_ms: int, key: object) -> CheckedSession:
    claims = SessionClaims("ab" * 16, "620102-6f27e4", HANDLER, 0, 10**13)
    record = SessionRecord(claims.session_id, HANDLER, claims.node_id, 0, 10**13, read_ms)
    return CheckedSession(claims, SignedIn(HANDLER, record), read_ms, key)


def test_a_check_that_began_before_a_session_ended_is_not_remembered() -> None:
    memory, key = CheckedSessions(), object()
    began = memory.epoch
    memory.forget_all()  # a sign-out committed while the check was reading the row
    memory.keep("token", _checked(1_000, key), began)
    assert memory.recent("token", 1_000, key) is None
    memory.keep("token", _checked(1_000, key), memory.epoch)
    assert memory.recent("token", 1_000, key) is not None


def test_memory_answers_only_for_the_same_key_a_young_row_and_a_clock_not_gone_back() -> None:
    memory, key = CheckedSessions(recheck_ms=2_000), object()
    memory.keep("token", _checked(10_000, key), memory.epoch)
    assert memory.recent("token", 11_999, key) is not None
    assert memory.recent("token", 12_000, key) is None, "row due to be read again"
    assert memory.recent("token", 9_999, key) is None, "the wall clock went back"
    assert memory.recent("token", 10_000, object()) is None, "the node's key was rotated"
    assert memory.recent("other", 10_000, key) is None


def test_memory_holds_at_most_its_bound_forgetting_the_oldest_first() -> None:
    memory, key = CheckedSessions(max_remembered=3), object()
    for n in range(5):
        memory.keep(f"token-{n}", _checked(1_000, key), memory.epoch)
    assert len(memory) == 3
    assert memory.recent("token-1", 1_000, key) is None
    assert memory.recent("token-4", 1_000, key) is not None
