"""The three incident rules, as data an administrator may change, and reading them from settings.

DOMAIN.md §6 gives thresholds and word lists, not code: how many consumers in how many days
make a group complaint (群体投诉), which words or categories make an emergency (紧急事件), how
many tickets against how many businesses make a filer look like a professional claimant
(职业索赔/职业举报). ``IncidentRules`` holds the three and ``IncidentRules.from_mapping`` reads
them from the node's settings (TOML), refusing names it does not know. What the rules find is
the business of ``groups``, ``emergencies`` and ``claimants``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput
from core.ticket.vocabulary import TicketKind

DEFAULT_EMERGENCY_KEYWORDS: tuple[str, ...] = (
    "食物中毒",  # food poisoning
    "集体中毒",  # several people poisoned
    "安全隐患",  # safety hazard
    "哄抬价格",  # price gouging (in a crisis)
    "哄抬物价",
    "燃气泄漏",  # gas leak
    "煤气泄漏",
    "爆炸",  # explosion
    "起火",  # caught fire
    "电梯困人",  # people trapped in a lift (special equipment)
)
"""Words in the facts or the request that make a ticket an emergency (DOMAIN.md §6)."""

DEFAULT_EMERGENCY_CATEGORIES: tuple[str, ...] = (
    "食物中毒",  # food poisoning
    "突发事件",  # sudden public event
    "特种设备事故",  # special-equipment accident (lifts, boilers, rides)
    "安全事故",  # safety accident
)
"""Categories (any ``/``-separated part of the ticket's category) that are emergencies."""


def _positive(value: int, name: str) -> None:
    if value < 1:
        raise InvalidInput(name, f"must be at least 1, got {value}")


@dataclass(frozen=True)
class GroupRule:
    """When complaints against one business make a group (群体投诉): default 5 in 7 days.

    Consumers are counted, not tickets: one person filing five times is not a group.
    """

    min_consumers: int = 5
    """Different consumers (by phone) who complained within one window."""
    window_days: int = 7
    """Length of the window, in calendar days (24-hour periods, not working days)."""
    kinds: tuple[TicketKind, ...] = (TicketKind.COMPLAINT, TicketKind.COMPOSITE)
    """Which tickets count: complaints, and the complaint part of composites."""

    def __post_init__(self) -> None:
        _positive(self.min_consumers, "groups.min_consumers")
        _positive(self.window_days, "groups.window_days")


@dataclass(frozen=True)
class EmergencyRule:
    """Which tickets are emergencies, escalated to the province at once (紧急事件)."""

    keywords: tuple[str, ...] = DEFAULT_EMERGENCY_KEYWORDS
    """Any of these in the facts or the request makes the ticket an emergency."""
    categories: tuple[str, ...] = DEFAULT_EMERGENCY_CATEGORIES
    """Any of these as a part of the category (``食品/食物中毒``) makes it one."""


@dataclass(frozen=True)
class ClaimantRule:
    """When a filer looks like a professional claimant (职业索赔).

    Default: 5 tickets against 3 different businesses within 30 days.
    """

    min_tickets: int = 5
    """Tickets from one filer within one window."""
    min_businesses: int = 3
    """Different businesses those tickets are against."""
    window_days: int = 30
    """Length of the window, in calendar days."""
    kinds: tuple[TicketKind, ...] = (
        TicketKind.COMPLAINT,
        TicketKind.REPORT,
        TicketKind.COMPOSITE,
    )
    """Which tickets count: complaints and reports (职业索赔 and 职业举报)."""

    def __post_init__(self) -> None:
        _positive(self.min_tickets, "claimants.min_tickets")
        _positive(self.min_businesses, "claimants.min_businesses")
        _positive(self.window_days, "claimants.window_days")


@dataclass(frozen=True)
class IncidentRules:
    """The three rules together: a policy table an administrator may change (DOMAIN.md)."""

    groups: GroupRule = field(default_factory=GroupRule)
    emergencies: EmergencyRule = field(default_factory=EmergencyRule)
    claimants: ClaimantRule = field(default_factory=ClaimantRule)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IncidentRules:
        """Rules from a settings table (TOML), defaults for what it leaves out.

        ``{"groups": {"min_consumers": 5, "window_days": 7}, "emergencies": {"keywords":
        [...], "categories": [...]}, "claimants": {"min_tickets": 5, "min_businesses": 3,
        "window_days": 30}}``. Unknown names are ``InvalidInput``, so a typo is not ignored.
        """
        unknown = set(data) - {"groups", "emergencies", "claimants"}
        if unknown:
            raise InvalidInput("incidents", f"unknown sections {sorted(unknown)}")
        return cls(
            groups=_section(GroupRule, data.get("groups", {}), "groups"),
            emergencies=_section(EmergencyRule, data.get("emergencies", {}), "emergencies"),
            claimants=_section(ClaimantRule, data.get("claimants", {}), "claimants"),
        )


def _section(cls: Any, values: Mapping[str, Any], name: str) -> Any:
    """One rule from its settings table: ints stay ints, lists become tuples, kinds enums."""
    known = {f for f in cls.__dataclass_fields__}
    unknown = set(values) - known
    if unknown:
        raise InvalidInput(f"incidents.{name}", f"unknown settings {sorted(unknown)}")
    converted: dict[str, Any] = {}
    for key, value in values.items():
        if key == "kinds":
            try:
                converted[key] = tuple(TicketKind(v) for v in value)
            except ValueError as exc:
                raise InvalidInput(f"incidents.{name}.kinds", str(exc)) from None
        elif isinstance(value, list | tuple):
            converted[key] = tuple(str(v) for v in value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"incidents.{name}.{key}", f"must be a whole number, got {value!r}")
        else:
            converted[key] = value
    return cls(**converted)
