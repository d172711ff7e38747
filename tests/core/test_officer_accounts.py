"""Which officer account record stands: the same from the same records, in any order.

``core.officer_accounts.standing``: the higher version wins, a revocation beats an activation of
the same version, a higher signer beats a lower one, and an account set from above is managed
from above (a county's record never replaces a city's, whatever its version).
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from core.officer_accounts import (
    AccountStatus,
    OfficerAccount,
    next_version,
    standing,
    unit_covers,
    why_issuer_may_not,
    why_node_may_not_issue,
)
from core.officers import Role

HANDLER = frozenset({Role.HANDLER})
SIGNERS = ("620000", "620100", "620200", "620102", "620103", "620102001")
"""The province, two cities, two counties of the first city, a station of the first county."""


def account(issuer: str, version: int, **changes: object) -> OfficerAccount:
    base = OfficerAccount(
        officer_id="620102-30",
        name="王磊",
        unit_code="620102",
        roles=HANDLER,
        status=AccountStatus.ACTIVE,
        version=version,
        issuer_unit=issuer,
        issuer_node=f"{issuer}-aaaaaa",
        digest=bytes([version]) + issuer.encode(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_later_version_from_the_same_node_stands() -> None:
    first, second = account("620100", 1), account("620100", 2, unit_code="620103")
    assert standing([second, first]) == second


def test_a_revocation_beats_an_activation_of_the_same_version() -> None:
    active = account("620000", 2)
    revoked = account("620000", 2, status=AccountStatus.REVOKED, digest=b"\x00")
    assert standing([revoked, active]) == revoked
    assert standing([active, revoked]) == revoked


def test_a_county_cannot_reactivate_an_officer_the_city_revoked_whatever_its_version() -> None:
    revoked = account("620100", 2, status=AccountStatus.REVOKED)
    again = account("620102", 9)
    assert standing([account("620102", 1), revoked, again]) == revoked


def test_the_city_takes_over_an_account_the_county_made() -> None:
    mine = account("620102", 5)
    above = account("620100", 1, roles=frozenset({Role.UNIT_HEAD}))
    assert standing([mine, above]) == above


def test_the_province_may_change_what_a_city_set_and_another_city_may_not() -> None:
    city = account("620100", 1)
    province = account("620000", 2, unit_code="620103")
    other_city = account("620200", 3, unit_code="620201")
    assert standing([city, province, other_city]) == province


def test_a_node_may_issue_only_inside_its_jurisdiction_and_not_over_those_above() -> None:
    city = account("620100", 1)
    assert why_node_may_not_issue("620102", None, "620103") is not None
    assert why_node_may_not_issue("620102", city, "620102") is not None
    assert why_node_may_not_issue("620000", city, "620103") is None
    assert next_version([city, account("620000", 4)]) == 5


def test_a_record_signed_outside_its_signers_jurisdiction_is_not_one() -> None:
    assert why_issuer_may_not(account("620103", 1)) is not None
    assert why_issuer_may_not(account("620102", 1, roles=frozenset())) is not None
    revoked = account("620102", 1, status=AccountStatus.REVOKED, roles=frozenset())
    assert why_issuer_may_not(revoked) is None


records = st.lists(
    st.builds(
        lambda issuer, version, revoked, unit: account(
            issuer,
            version,
            status=AccountStatus.REVOKED if revoked else AccountStatus.ACTIVE,
            unit_code=unit,
            digest=bytes([version, revoked]) + issuer.encode() + unit.encode(),
        ),
        st.sampled_from(SIGNERS),
        st.integers(1, 4),
        st.booleans(),
        st.sampled_from(("620102", "620103", "620102001")),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda a: a.digest,
)


@given(records=records, data=st.data())
def test_any_order_of_the_same_records_gives_the_same_standing_record(
    records: list[OfficerAccount], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(records))
    assert standing(shuffled) == standing(records)


@given(records=records)
def test_no_record_that_comes_later_was_signed_at_or_above_the_standing_one(
    records: list[OfficerAccount],
) -> None:
    top = standing(records)
    assert top is not None and top in records
    later = [r for r in records if r.order_key() > top.order_key()]
    assert not [r for r in later if unit_covers(r.issuer_unit, top.issuer_unit)]
