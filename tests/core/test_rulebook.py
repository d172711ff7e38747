"""The province's rule book: campaigns, later time-limit tables and loaded holiday years.

What the province decides about deadlines (DOMAIN.md §5) and the promises it keeps: a campaign
compresses only the tickets it matches, a new table never changes an open obligation, and a
loaded holiday year moves deadlines that fall in it.
"""

from __future__ import annotations

from datetime import date

import pytest

from core.deadlines.china_time import china_date
from core.deadlines.holidays import HolidayTable
from core.deadlines.policy import DEFAULT_POLICY, TimeLimit, TimeLimitPolicy
from core.deadlines.rulebook import Campaign, RuleBook, parse_holiday_year
from core.deadlines.sweep import open_duties
from core.deadlines.working_days import WorkingDayCalendar
from core.errors import InvalidInput, NotFound
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, TicketKind
from tests.helpers.domain import NOW, draft, routed

NOW_MS = int(NOW.timestamp() * 1000)  # 2026-03-16 09:30, a Monday
CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar())
COVID = Campaign(
    campaign_id="covid",
    name="新冠疫情防控",
    started_ms=NOW_MS - 3_600_000,
    tags=("新冠疫情",),
    keywords=("口罩",),
)


def acceptance_due(state: TicketState, book: RuleBook) -> date:
    """The last day to decide acceptance of ``state`` under ``book``."""
    (duty,) = [
        d
        for d in open_duties(state, book.policy_for, CALENDAR)
        if d.obligation.duty is Duty.DECIDE_ACCEPTANCE
    ]
    return china_date(duty.obligation.due_ms - 1)  # due at the end of that day


def test_a_campaign_compresses_the_limits_of_matching_tickets_only() -> None:
    book = RuleBook("620000").with_campaign(COVID, NOW_MS)
    tagged = routed(draft(tags=("新冠疫情",))).state
    by_keyword = routed(draft(facts="药店口罩一盒卖到三百元。")).state
    other = routed().state
    # Received Monday 03-16: three working days end Thursday 03-19, seven end Wednesday 03-25.
    assert acceptance_due(tagged, book) == date(2026, 3, 19)
    assert acceptance_due(by_keyword, book) == date(2026, 3, 19)
    assert acceptance_due(other, book) == date(2026, 3, 25)
    (duty,) = open_duties(tagged, book.policy_for, CALENDAR)
    assert duty.obligation.policy_version == "default-2026+campaign3"


def test_switching_a_campaign_off_restores_the_normal_table_for_later_tickets_only() -> None:
    matched = routed(draft(tags=("新冠疫情",))).state
    book = (
        RuleBook("620000").with_campaign(COVID, NOW_MS).without_campaign("covid", NOW_MS + 60_000)
    )
    assert acceptance_due(matched, book) == date(2026, 3, 19)  # received while it ran
    ended = Campaign("covid", "新冠疫情防控", NOW_MS - 7_200_000, tags=("新冠疫情",))
    later = RuleBook("620000").with_campaign(ended, NOW_MS).without_campaign("covid", NOW_MS - 1)
    assert acceptance_due(matched, later) == date(2026, 3, 25)  # received after it ended


def test_a_campaign_received_before_its_start_does_not_match() -> None:
    early = Campaign("c", "专项", NOW_MS + 1, categories=("预付式消费/健身",))
    assert RuleBook("620000").with_campaign(early, NOW_MS).campaign_of(routed().state) is None
    running = Campaign("c", "专项", NOW_MS - 1, categories=("预付式消费/健身",))
    assert RuleBook("620000").with_campaign(running, NOW_MS).campaign_of(routed().state) == running


def test_a_new_time_limit_table_applies_to_obligations_opened_after_it_takes_effect() -> None:
    ten_days = TimeLimitPolicy(
        "gansu-2026b",
        NOW_MS + 86_400_000,
        (TimeLimit(Duty.DECIDE_ACCEPTANCE, TicketKind.COMPLAINT, 10),),
    )
    book = RuleBook("620000").with_policy(ten_days, NOW_MS)
    assert book.number == 1 and book.issued_ms == NOW_MS
    open_before = routed().state
    assert acceptance_due(open_before, book) == date(2026, 3, 25)  # keeps the 7 WD it opened with
    assert book.policy_for(open_before, NOW_MS + 2 * 86_400_000).version == "gansu-2026b"


def test_a_table_cannot_take_effect_before_it_is_published() -> None:
    backdated = TimeLimitPolicy("gansu-old", NOW_MS - 1, DEFAULT_POLICY.limits)
    with pytest.raises(InvalidInput) as refused:
        RuleBook("620000").with_policy(backdated, NOW_MS)
    assert refused.value.field == "policy.effective_from"


def test_a_loaded_holiday_year_replaces_that_whole_year_of_the_package() -> None:
    # Suppose the State Council gave 2026-03-17/18 as rest days and Saturday 03-21 as a workday.
    year = parse_holiday_year(2026, ["2026-03-17", "2026-03-18"], ["2026-03-21"])
    book = RuleBook("620000").with_holiday_year(year, NOW_MS)
    calendar = WorkingDayCalendar(book.holiday_table(HolidayTable.from_chinese_calendar()))
    assert not calendar.is_working_day(date(2026, 3, 17))
    assert calendar.is_working_day(date(2026, 3, 21))
    assert calendar.is_working_day(date(2026, 10, 1))  # the loaded year replaces all of 2026
    # 7 WD from Monday 03-16: 19, 20, 21 (make-up), 23, 24, 25, 26.
    assert calendar.add_working_days(date(2026, 3, 16), 7) == date(2026, 3, 26)


def test_each_change_is_a_new_numbered_publication() -> None:
    book = RuleBook("620000")
    book = book.with_campaign(COVID, NOW_MS)
    book = book.with_holiday_year(parse_holiday_year(2027, ["2027-01-01"], []), NOW_MS + 1)
    book = book.with_holiday_year(
        parse_holiday_year(2027, ["2027-01-01", "2027-01-02"], []), NOW_MS + 2
    )
    book = book.without_campaign("covid", NOW_MS + 3)
    assert book.number == 4 and book.issued_ms == NOW_MS + 3
    assert [y.year for y in book.holiday_years] == [2027]  # a correction replaces the year
    assert book.running_campaigns() == ()


def test_bad_campaigns_and_holiday_files_are_refused_naming_the_field() -> None:
    cases = [
        (lambda: Campaign("c", "专项", NOW_MS), "campaign.terms"),
        (lambda: Campaign("c", "专项", NOW_MS, tags=(" ",)), "campaign.terms"),
        (lambda: Campaign("c", "专项", NOW_MS, tags=("t",), days=0), "campaign.days"),
        (lambda: Campaign("", "专项", NOW_MS, tags=("t",)), "campaign.campaign_id"),
        (lambda: parse_holiday_year(2027, ["2027-13-01"], []), "holidays.2027.rest_days[0]"),
        (lambda: parse_holiday_year(2027, ["2028-01-01"], []), "holidays.2027.rest_days"),
        (
            lambda: RuleBook("620000").with_campaign(COVID, 0).with_campaign(COVID, 1),
            "campaign.campaign_id",
        ),
    ]
    for build, field in cases:
        with pytest.raises(InvalidInput) as refused:
            build()
        assert refused.value.field == field
    with pytest.raises(NotFound):
        RuleBook("620000").without_campaign("nothing", NOW_MS)
