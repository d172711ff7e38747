"""Supervision of ODR units (ODR企业监督): figures per unit and period, and the verdict.

Per enrolled unit and period the county counts the disputes received, answered in time (a
proposal or a settlement before the ODR limit), settled, accepted by consumers and converted to
formal complaints. Thresholds kept in the province's rule book turn the figures into a verdict:
good; a warning (the unit stays routable, marked WARNED on the roster); or, after as many poor
periods in a row as the rule book says, a proposal to remove it that a unit head decides. The
disputes come from the dispute's events (built elsewhere); here they are plain
``DisputeRecord``s. Pure: no clock, no storage.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from core.deadlines.china_time import china_date, start_of_day_ms
from core.errors import InvalidInput


class DisputeOutcome(enum.Enum):
    """Where a dispute ended, as supervision counts it."""

    OPEN = "open"  # 协商中/待确认
    SETTLED = "settled"  # 已和解
    CONVERTED = "converted"  # 已转为投诉
    WITHDRAWN = "withdrawn"  # 已撤回


@dataclass(frozen=True)
class DisputeRecord:
    """One dispute as supervision sees it (read from the dispute's events)."""

    ticket_id: str
    credit_code: str
    opened_ms: int
    due_ms: int
    """The ODR limit: an answer after it is late."""
    answered_ms: int
    """When the unit first proposed a settlement or settled (0: never)."""
    outcome: DisputeOutcome
    accepted: bool = False
    """The consumer accepted a proposal."""


@dataclass(frozen=True)
class StandingFigures:
    """A unit's figures for one period."""

    credit_code: str
    period_start_ms: int
    period_end_ms: int
    received: int = 0
    answered_in_time: int = 0
    settled: int = 0
    accepted: int = 0
    converted: int = 0


class Verdict(enum.Enum):
    """What supervision makes of a period."""

    GOOD = "good"  # 良好
    WARNING = "warning"  # 警告
    REMOVAL_PROPOSED = "removal_proposed"  # 建议移出


@dataclass(frozen=True)
class OdrThresholds:
    """The province's thresholds of ODR supervision (a section of the rule book)."""

    answered_in_time_percent: int = 80
    """A period with fewer disputes answered in time than this share is poor."""
    converted_percent: int = 50
    """A period with more disputes converted to complaints than this share is poor."""
    removal_after_poor_periods: int = 2
    """Poor periods in a row after which removal is proposed."""
    min_disputes: int = 1
    """A period with fewer disputes received is not judged poor (too few to tell)."""

    def __post_init__(self) -> None:
        for name in ("answered_in_time_percent", "converted_percent"):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise InvalidInput(f"odr_thresholds.{name}", f"must be 0 to 100, not {value}")
        if not 1 <= self.removal_after_poor_periods <= 12:
            raise InvalidInput(
                "odr_thresholds.removal_after_poor_periods",
                f"must be 1 to 12, not {self.removal_after_poor_periods}",
            )
        if not 1 <= self.min_disputes <= 1000:
            raise InvalidInput(
                "odr_thresholds.min_disputes", f"must be 1 to 1000, not {self.min_disputes}"
            )


DEFAULT_ODR_THRESHOLDS = OdrThresholds()
"""In force until the province publishes its own."""


@dataclass(frozen=True)
class Judgement:
    """A period's verdict, why, and the poor periods in a row it makes."""

    figures: StandingFigures
    verdict: Verdict
    reason: str
    poor_periods: int


def figures_of(
    credit_code: str, disputes: Iterable[DisputeRecord], start_ms: int, end_ms: int
) -> StandingFigures:
    """The unit's figures over the disputes opened in ``[start_ms, end_ms)``."""
    received = answered = settled = accepted = converted = 0
    for d in disputes:
        if d.credit_code != credit_code or not start_ms <= d.opened_ms < end_ms:
            continue
        received += 1
        answered += bool(d.answered_ms) and d.answered_ms <= d.due_ms
        settled += d.outcome is DisputeOutcome.SETTLED
        accepted += d.accepted
        converted += d.outcome is DisputeOutcome.CONVERTED
    return StandingFigures(
        credit_code, start_ms, end_ms, received, answered, settled, accepted, converted
    )


def judge(figures: StandingFigures, thresholds: OdrThresholds, poor_before: int) -> Judgement:
    """The verdict of a period, given the poor periods in a row before it."""
    received = figures.received
    if received < thresholds.min_disputes:
        return Judgement(figures, Verdict.GOOD, f"{received} dispute(s): too few to judge", 0)
    answered_share = 100 * figures.answered_in_time / received
    converted_share = 100 * figures.converted / received
    poor: list[str] = []
    if answered_share < thresholds.answered_in_time_percent:
        poor.append(
            f"answered in time {answered_share:.0f}% < {thresholds.answered_in_time_percent}%"
        )
    if converted_share > thresholds.converted_percent:
        poor.append(f"converted {converted_share:.0f}% > {thresholds.converted_percent}%")
    if not poor:
        return Judgement(figures, Verdict.GOOD, f"answered in time {answered_share:.0f}%", 0)
    in_a_row = poor_before + 1
    reason = "; ".join(poor) + f" (poor period {in_a_row} in a row, 连续第{in_a_row}期不达标)"
    if in_a_row >= thresholds.removal_after_poor_periods:
        return Judgement(figures, Verdict.REMOVAL_PROPOSED, reason, in_a_row)
    return Judgement(figures, Verdict.WARNING, reason, in_a_row)


def closed_month_before(now_ms: int) -> tuple[int, int]:
    """The last calendar month, in China time, that has ended by ``now_ms``: ``[start, end)``
    in epoch ms. The period a county judges its ODR units by when nobody names one (the
    ``odr-review`` job)."""
    today = china_date(now_ms)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return start_of_day_ms(last_month), start_of_day_ms(this_month)
