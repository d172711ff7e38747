"""Who sees a filer in full (``core.personal.access``): the roles, the ticket, the reporter rule,
and a purpose worth the name (issue 12, item 3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.officers import Role
from core.personal.access import (
    PURPOSE_MAX,
    PURPOSE_MIN,
    REVEAL_ROLES,
    check_purpose,
    why_may_not_reveal,
)
from core.ticket.vocabulary import PersonalField, TicketKind
from tests.helpers import domain


def report_at_chengguan() -> domain.History:
    """A report about conduct in Chengguan, routed there from the hub."""
    return domain.routed(domain.draft(TicketKind.REPORT, incident_region="620102"))


def test_the_holding_units_handler_may_see_a_complainants_phone() -> None:
    state = domain.routed().state
    assert why_may_not_reveal(state, domain.HANDLER, PersonalField.PHONE) is None


def test_the_units_above_the_holder_may_see_a_complainant_too() -> None:
    state = domain.routed().state
    assert why_may_not_reveal(state, domain.CITY, PersonalField.NAME) is None
    assert why_may_not_reveal(state, domain.HUB, PersonalField.ADDRESS) is None


def test_an_officer_of_another_county_may_not_see_the_filer() -> None:
    state = domain.routed().state
    why = why_may_not_reveal(state, domain.OTHER_HANDLER, PersonalField.PHONE)
    assert why is not None and "620103" in why


@pytest.mark.parametrize("role", sorted(set(Role) - REVEAL_ROLES, key=lambda r: r.value))
def test_a_role_without_need_may_not_see_the_filer(role: Role) -> None:
    state = domain.routed().state
    officer = domain.officer("620102-09", "测试", "620102", role)
    assert why_may_not_reveal(state, officer, PersonalField.PHONE) is not None


@pytest.mark.parametrize("field", list(PersonalField))
def test_a_reporters_identity_is_shown_only_to_the_head_of_the_holding_unit(
    field: PersonalField,
) -> None:
    state = report_at_chengguan().state
    assert state.holder_unit == "620102"
    assert why_may_not_reveal(state, domain.HEAD, field) is None
    for officer in (domain.HANDLER, domain.CITY, domain.HUB_SUPERVISOR):
        why = why_may_not_reveal(state, officer, field)
        assert why is not None and "举报人信息保密" in why, officer.officer_id


def test_the_head_of_a_unit_above_the_holder_may_not_see_a_reporter() -> None:
    state = report_at_chengguan().state
    why = why_may_not_reveal(state, domain.HUB_HEAD, PersonalField.NAME)
    assert why is not None and "举报人信息保密" in why


def test_a_composite_tickets_filer_is_a_complainant_whom_the_handler_reaches() -> None:
    state = domain.routed(domain.draft(TicketKind.COMPOSITE)).state
    assert why_may_not_reveal(state, domain.HANDLER, PersonalField.PHONE) is None


@given(st.text(min_size=PURPOSE_MIN, max_size=PURPOSE_MAX).filter(lambda t: t == t.strip()))
def test_a_purpose_of_four_to_two_hundred_characters_is_kept_as_given(purpose: str) -> None:
    assert check_purpose(purpose) == purpose


@pytest.mark.parametrize("purpose", ["", "  ", "看看", " 看看 ", "x" * (PURPOSE_MAX + 1)])
def test_a_missing_short_or_long_purpose_is_refused_naming_purpose(purpose: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_purpose(purpose)
    assert refused.value.field == "purpose"
