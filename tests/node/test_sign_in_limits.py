"""Sign-in tries are limited per caller address and per account (issue 11, item 7).

A guesser trying one password on many officer ids from one address, or many codes on one
ticket, is held back: beyond the bucket's burst, a try is refused RESOURCE_EXHAUSTED with a
hint of when to retry, before any password or code is looked at, and the refusals in a row are
one row of the access record with their count, not a row each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from core.access.throttle import BucketRule, SignInLimits
from node.access.throttle import SignInThrottle, address_of
from node.app.settings import InvalidSetting, NodeSettings
from node.edge.client import CallError
from node.storage.tables import officer_credentials
from tests.helpers.signin import (
    STRONG_PASSWORD,
    HandMovedTime,
    access_rows,
    code_at,
    gym_walk_in,
    make_admin,
    reasons,
)
from tests.helpers.world import InProcessNode, World, spec

ADMIN = "620102-90"
NOW = 1_800_000_000_000


@dataclass
class County:
    node: InProcessNode
    time: HandMovedTime
    admin_secret: str

    def try_officer(self, officer_id: str, password: str = "Wrong-password-1") -> CallError:
        """A sign-in that fails; its error."""
        with self.node.client() as client, pytest.raises(CallError) as failed:
            client.sign_in(officer_id, password, "000000")
        return failed.value

    def failures_of(self, officer_id: str) -> int:
        with self.node.node.db.read() as conn:
            return int(
                conn.execute(
                    select(officer_credentials.c.failures).where(
                        officer_credentials.c.officer_id == officer_id
                    )
                ).scalar_one()
            )


@pytest.fixture
def county(world: World) -> Iterator[County]:
    time = HandMovedTime()
    node = world.start(spec("chengguan"), real_ms=time)
    admin = make_admin(node, ADMIN, at_ms=time.ms)
    yield County(node, time, admin.totp_secret)


def test_a_guesser_trying_many_officer_ids_is_held_back_and_recorded_once(
    county: County,
) -> None:
    burst = county.node.node.settings.signin_address_burst
    before = len(access_rows(county.node))
    for i in range(burst):
        assert county.try_officer(f"620102-g{i}").code == "UNAUTHENTICATED"
    assert len(access_rows(county.node)) == before + burst  # a row per try checked
    held = [county.try_officer(f"620102-h{i}") for i in range(15)]
    assert {e.code for e in held} == {"RESOURCE_EXHAUSTED"}
    assert held[0].retry_after_ms == 6_000  # 10 a minute: a try every 6 s
    assert "too many sign-in tries from this address" in held[0].message
    assert "retry in 6 s" in held[0].message
    # The administrator's right password is not looked at either, and counts no failure.
    assert county.try_officer(ADMIN).code == "RESOURCE_EXHAUSTED"
    assert county.failures_of(ADMIN) == 0
    assert len(access_rows(county.node)) == before + burst  # no row per refused try
    county.time.advance(seconds=6)
    with county.node.client() as client:
        client.sign_in(ADMIN, STRONG_PASSWORD, code_at(county.admin_secret, county.time.ms))
    rows = access_rows(county.node)[before + burst :]
    assert [f"{r.action.value}/{r.outcome.value}/{r.reason}" for r in rows] == [
        "sign-in/refused/rate-limited",
        "sign-in/done/",
    ]
    assert rows[0].detail.startswith("16 tries refused from this address")
    assert rows[0].peer == "ipv4:127.0.0.1" and rows[0].officer_id == ""


def test_tries_on_one_account_are_held_back_whatever_the_address(county: County) -> None:
    account_burst = county.node.node.settings.signin_account_burst
    for _ in range(account_burst):
        assert county.try_officer(ADMIN).code in ("UNAUTHENTICATED", "PERMISSION_DENIED")
    held = county.try_officer(ADMIN)
    assert held.code == "RESOURCE_EXHAUSTED" and "on this account" in held.message
    assert held.retry_after_ms == 30_000  # 2 a minute
    # Another account from the same address still has its own tries.
    assert county.try_officer("620102-07").code == "UNAUTHENTICATED"


def test_a_consumers_wrong_codes_are_held_back_per_ticket(world: World) -> None:
    node = world.start(spec("chengguan"))
    with world.officer("chengguan", 0) as handler:
        registered = handler.register(uuid.uuid4().hex, gym_walk_in())
    codes = []
    with node.client() as guesser:
        for _ in range(node.node.settings.signin_account_burst + 1):
            try:
                guesser.consumer_sign_in(registered.ticket_id, "ABCDEFGH")
            except CallError as error:
                codes.append(error.code)
    assert codes[-1] == "RESOURCE_EXHAUSTED"
    assert codes[:-1].count("PERMISSION_DENIED") == 6  # locked after 5: refused as locked


def test_a_burst_under_way_is_recorded_when_the_node_stops(county: County) -> None:
    for _ in range(county.node.node.settings.signin_account_burst + 3):
        county.try_officer("620102-nobody")
    county.node.run(county.node.node.access.flush_bursts())
    assert reasons(county.node)[-1] == "sign-in/refused/rate-limited"
    assert access_rows(county.node)[-1].detail.startswith("3 tries refused on this account")


# -- the buckets in memory -------------------------------------------------------------------------

LIMITS = SignInLimits(BucketRule(burst=5, per_minute=1), BucketRule(burst=3, per_minute=1))


def test_an_account_is_held_back_across_addresses() -> None:
    throttle = SignInThrottle(LIMITS)
    admitted = [
        throttle.admit(throttle.keys(f"ipv4:10.0.0.{i}:5000", "consumer:T-1"), NOW).admitted
        for i in range(5)
    ]
    assert admitted == [True, True, True, False, False]


def test_right_tries_cost_nothing() -> None:
    throttle = SignInThrottle(LIMITS)
    keys = throttle.keys("ipv4:10.0.0.1:5000", "620102-07")
    for _ in range(50):
        assert throttle.admit(keys, NOW).admitted
        throttle.succeeded(keys, NOW)


def test_the_buckets_forget_the_oldest_keys_beyond_their_bound() -> None:
    throttle = SignInThrottle(SignInLimits(max_entries=100))
    for i in range(1_000):
        throttle.admit(throttle.keys(f"ipv4:10.0.{i // 250}.{i % 250}:5000", f"id-{i}"), NOW)
    assert throttle.remembered() == 200


def test_the_address_of_a_peer_is_its_host() -> None:
    assert address_of("ipv4:10.0.0.7:51234") == "ipv4:10.0.0.7"
    assert address_of("ipv6:[::1]:51234") == "ipv6:[::1]"
    assert address_of("unix:/tmp/x") == "unix:/tmp/x"


# -- settings --------------------------------------------------------------------------------------


def _settings(**values: object) -> NodeSettings:
    from pathlib import Path

    from core.units import UnitLevel

    return NodeSettings(
        level=UnitLevel.COUNTY, unit="620102", data_dir=Path("/nonexistent"), parent="h:1", **values
    )  # type: ignore[arg-type]


def test_the_limits_are_node_settings() -> None:
    settings = _settings(signin_address_burst=7, consumer_session_minutes=10)
    assert settings.sign_in_limits.per_address == BucketRule(7, 10)
    assert settings.consumer_policy.lifetime_ms == 10 * 60_000
    assert settings.consumer_policy.max_failures == 5


@pytest.mark.parametrize(
    "values",
    [
        {"signin_address_burst": 0},
        {"signin_account_per_minute": 0},
        {"consumer_code_max_failures": 0},
        {"consumer_session_minutes": float("nan")},
    ],
    ids=lambda v: next(iter(v)),
)
def test_limits_that_cannot_work_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(InvalidSetting) as refused:
        _settings(**values).check()
    assert refused.value.field == next(iter(values))
