"""Supervision of ODR units: a period's figures and the verdict the rule book's thresholds give.

Issue 13, item 5. Pure: the figures count the disputes opened in the period; fewer answered in
time than the threshold, or more converted, make a poor period; the first poor period warns,
as many in a row as the rule book says propose removal; a good period clears the count.
"""

from __future__ import annotations

import pytest

from core.deadlines.rulebook import RuleBook
from core.errors import InvalidInput
from core.odr.standing import (
    DisputeOutcome,
    DisputeRecord,
    OdrThresholds,
    StandingFigures,
    Verdict,
    figures_of,
    judge,
)
from sync.rule_book_signing import rule_book_from, rule_book_message

CODE = "91620102MA74A1B2C9"
DAY = 86_400_000


def dispute(opened: int, answered: int, outcome: DisputeOutcome, code: str = CODE) -> DisputeRecord:
    return DisputeRecord(f"T-{opened}", code, opened, opened + 10 * DAY, answered, outcome)


def test_the_figures_count_only_the_units_disputes_opened_in_the_period() -> None:
    disputes = [
        dispute(1 * DAY, 2 * DAY, DisputeOutcome.SETTLED),
        dispute(2 * DAY, 20 * DAY, DisputeOutcome.CONVERTED),  # answered after the limit
        dispute(3 * DAY, 0, DisputeOutcome.OPEN),  # not answered yet
        dispute(4 * DAY, 5 * DAY, DisputeOutcome.SETTLED, code="91620102MA74CD3E5Q"),
        dispute(40 * DAY, 41 * DAY, DisputeOutcome.SETTLED),  # after the period
    ]
    figures = figures_of(CODE, disputes, 0, 30 * DAY)
    assert (figures.received, figures.answered_in_time, figures.settled, figures.converted) == (
        3,
        1,
        1,
        1,
    )


def figures(received: int, in_time: int, converted: int = 0) -> StandingFigures:
    return StandingFigures(CODE, 0, 30 * DAY, received, in_time, 0, 0, converted)


def test_a_first_poor_period_warns_and_the_second_in_a_row_proposes_removal() -> None:
    rules = OdrThresholds()
    first = judge(figures(10, 7), rules, poor_before=0)
    assert (first.verdict, first.poor_periods) == (Verdict.WARNING, 1)
    assert "answered in time 70% < 80%" in first.reason
    second = judge(figures(10, 7), rules, poor_before=first.poor_periods)
    assert (second.verdict, second.poor_periods) == (Verdict.REMOVAL_PROPOSED, 2)


def test_a_good_period_clears_the_poor_ones_and_too_few_disputes_are_not_judged() -> None:
    rules = OdrThresholds(min_disputes=3)
    assert judge(figures(10, 8), rules, poor_before=1).verdict is Verdict.GOOD
    assert judge(figures(10, 8), rules, poor_before=1).poor_periods == 0
    assert judge(figures(2, 0), rules, poor_before=1).verdict is Verdict.GOOD


def test_too_many_conversions_make_a_poor_period_too() -> None:
    found = judge(figures(10, 10, converted=6), OdrThresholds(), poor_before=0)
    assert found.verdict is Verdict.WARNING and "converted 60% > 50%" in found.reason


def test_the_province_may_set_its_own_thresholds_and_they_travel_in_the_rule_book() -> None:
    own = OdrThresholds(answered_in_time_percent=90, removal_after_poor_periods=3)
    book = RuleBook(issuer_unit="620000").with_odr_thresholds(own, now_ms=1000)
    assert rule_book_from(rule_book_message(book)).odr_thresholds == own
    assert rule_book_from(rule_book_message(RuleBook("620000"))).odr_thresholds == OdrThresholds()
    assert judge(figures(10, 8), own, poor_before=1).verdict is Verdict.WARNING


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"answered_in_time_percent": 101}, "odr_thresholds.answered_in_time_percent"),
        ({"removal_after_poor_periods": 0}, "odr_thresholds.removal_after_poor_periods"),
        ({"min_disputes": 0}, "odr_thresholds.min_disputes"),
    ],
)
def test_thresholds_out_of_range_are_refused_naming_the_field(
    changes: dict[str, int], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        OdrThresholds(**changes)
    assert refused.value.field == field
