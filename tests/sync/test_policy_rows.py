"""A city's own rows of the time-limit table travel in the signed rule book.

A city may give its ODR enterprises 7 calendar days instead of the province's 10 working days
(DOMAIN.md §8): the row names the city's unit and says its days are calendar days. Both facts
must survive the rule book's message, and a province's table file may state them.
"""

from __future__ import annotations

import pytest

from core.deadlines.policy import DEFAULT_LIMITS, TimeLimit, TimeLimitPolicy
from core.errors import InvalidInput
from core.ticket.vocabulary import Duty, TicketKind
from node.cli.rules import policy_from_file
from sync.rule_book_signing import policy_from, policy_message

LANZHOU = "620100"
CITY_ROW = TimeLimit(
    Duty.ODR_ANSWER, TicketKind.COMPLAINT, 7, calendar_days=True, unit_code=LANZHOU
)


def test_a_citys_calendar_day_row_survives_the_rule_books_message() -> None:
    policy = TimeLimitPolicy("gansu-2027", 1_800_000_000_000, (*DEFAULT_LIMITS, CITY_ROW))
    assert policy_from(policy_message(policy)) == policy


def test_a_table_file_names_the_citys_row_and_its_calendar_days() -> None:
    table = policy_from_file(
        {
            "version": "gansu-2027",
            "effective_from": "2027-01-01",
            "limits": [
                {"duty": "odr_answer", "kind": "complaint", "days": 10},
                {
                    "duty": "odr_answer",
                    "kind": "complaint",
                    "days": 7,
                    "calendar_days": True,
                    "unit_code": LANZHOU,
                },
            ],
        }
    )
    assert CITY_ROW in policy_from(table).limits


def test_a_table_file_with_calendar_days_not_true_or_false_names_the_field() -> None:
    row = {"duty": "odr_answer", "kind": "complaint", "days": 7, "calendar_days": "yes"}
    with pytest.raises(InvalidInput) as refused:
        policy_from_file({"version": "v", "limits": [row]})
    assert refused.value.field == "limits[0].calendar_days"
