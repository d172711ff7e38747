"""The province's rule book: time-limit tables, holiday years and campaigns, as one value.

DOMAIN.md §5 keeps the figures out of the code: the province (省局) publishes the time-limit
table, loads the holiday years the ``chinese-calendar`` package does not know yet, and switches
campaigns (专项/应急, e.g. 新冠疫情) on and off. Each publication is a whole ``RuleBook`` with a
higher ``number``, signed by the province node and replicated down to every node below it, so
a county that was offline judges its deadlines by the same rules as soon as it reconnects.

Three promises the rules keep, whatever order the nodes learn them in:

* A new time-limit table applies to obligations opened after it takes effect, never silently to
  old ones: it must take effect no earlier than it is published, and an obligation is judged by
  the table in force when it was opened (``policy_in_force``).
* A campaign compresses the limits of the tickets it matches and only those: a ticket matches
  when it was received while the campaign ran and its tags, category or facts hit the
  campaign's terms. Switching the campaign off leaves the tickets it matched compressed and
  gives every later ticket the normal table.
* A holiday year loaded by the administrator replaces the package's data for that whole year;
  open deadlines are computed afresh with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from core.deadlines.holidays import HolidayTable, YearHolidays
from core.deadlines.policy import DEFAULT_POLICY, TimeLimitPolicy, policy_in_force
from core.deadlines.sweep import DEFAULT_SUPERVISION_GRACE_MS
from core.errors import InvalidInput, NotFound
from core.limits import MAX_CAMPAIGN_TERMS, check_count, check_text
from core.ticket.events import TicketRegistered
from core.ticket.state import TicketState

DEFAULT_CAMPAIGN_DAYS = 3
"""DOMAIN.md §5, campaign / emergency mode: closure within 3 working days."""

MAX_SUPERVISION_GRACE_MINUTES = 7 * 24 * 60
"""A week: a longer grace would let a dark county's overdue work wait past the next level's
own escalation period unseen."""


@dataclass(frozen=True)
class Campaign:
    """A campaign (专项整治 / 应急): matching tickets are routed at once with compressed limits.

    A ticket matches when it was received in ``[started_ms, ended_ms)`` (``ended_ms`` 0: still
    running) and any term hits: one of ``tags`` among its tags, its category among
    ``categories``, or one of ``keywords`` in its facts or request.
    """

    campaign_id: str
    name: str
    started_ms: int
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    days: int = DEFAULT_CAMPAIGN_DAYS
    ended_ms: int = 0
    daily_bulletin: bool = True
    """DOMAIN.md §5: the bulletin becomes daily while a campaign runs."""

    def __post_init__(self) -> None:
        check_text(self.campaign_id, "campaign.campaign_id")
        check_text(self.name, "campaign.name")
        terms = (*self.tags, *self.categories, *self.keywords)
        if not terms:
            raise InvalidInput(
                "campaign.terms", "give at least one tag, category or keyword to match"
            )
        check_count(terms, "campaign.terms", MAX_CAMPAIGN_TERMS)
        if any(not term.strip() for term in terms):
            raise InvalidInput("campaign.terms", "a tag, category or keyword must not be blank")
        for term in terms:
            check_text(term, "campaign.terms")
        if not 1 <= self.days <= 45:
            raise InvalidInput("campaign.days", f"must be 1 to 45 working days, not {self.days}")
        if self.ended_ms and self.ended_ms < self.started_ms:
            raise InvalidInput("campaign.ended_ms", "must not be before the start")

    @property
    def running(self) -> bool:
        """True until the campaign is switched off."""
        return self.ended_ms == 0

    def ran_at(self, at_ms: int) -> bool:
        """True when the campaign was running at ``at_ms``."""
        return self.started_ms <= at_ms and (self.running or at_ms < self.ended_ms)

    def matches(self, registration: TicketRegistered) -> bool:
        """True when a ticket so registered falls under this campaign."""
        if not self.ran_at(int(registration.received_at.timestamp() * 1000)):
            return False
        if set(self.tags) & set(registration.tags):
            return True
        if registration.category in self.categories:
            return True
        text = f"{registration.facts}\n{registration.request}"
        return any(keyword in text for keyword in self.keywords)


@dataclass(frozen=True)
class RuleBook:
    """Everything a province decides about deadlines, as published for the ``number``-th time.

    ``policies`` are the tables published after the DOMAIN.md §5 defaults (which stay in force
    until the first of them takes effect); ``holiday_years`` override or extend the package's
    calendar; ``campaigns`` keep the ended ones, because the tickets they matched keep their
    compressed limits.
    """

    issuer_unit: str
    number: int = 0
    issued_ms: int = 0
    policies: tuple[TimeLimitPolicy, ...] = ()
    holiday_years: tuple[YearHolidays, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    supervision_grace_minutes: int = 0
    """How long an overdue duty of a unit below may wait for its escalation to reach the node
    above before that node records it itself (supervision from above, ``core.deadlines.sweep``);
    0: ``DEFAULT_SUPERVISION_GRACE_MS``. Also how late a reminder may still be told."""

    def __post_init__(self) -> None:
        versions = [p.version for p in (DEFAULT_POLICY, *self.policies)]
        if len(set(versions)) != len(versions):
            raise InvalidInput("rules.policies", "a policy version is given twice")
        years = [y.year for y in self.holiday_years]
        if len(set(years)) != len(years):
            raise InvalidInput("rules.holiday_years", "a year is given twice")
        ids = [c.campaign_id for c in self.campaigns]
        if len(set(ids)) != len(ids):
            raise InvalidInput("rules.campaigns", "a campaign id is given twice")
        if self.supervision_grace_minutes and not (
            1 <= self.supervision_grace_minutes <= MAX_SUPERVISION_GRACE_MINUTES
        ):
            raise InvalidInput(
                "rules.supervision_grace_minutes",
                f"must be 1 to {MAX_SUPERVISION_GRACE_MINUTES} minutes, "
                f"not {self.supervision_grace_minutes}",
            )

    # -- reading --------------------------------------------------------------------------------

    def holiday_table(self, base: HolidayTable) -> HolidayTable:
        """``base`` (the package's years) with this book's years replacing or adding whole years."""
        return base.merged(HolidayTable(self.holiday_years)) if self.holiday_years else base

    def campaign_of(self, state: TicketState) -> Campaign | None:
        """The campaign a ticket falls under (the earliest started, if several), or None."""
        if state.registration is None:
            return None
        hits = [c for c in self.campaigns if c.matches(state.registration)]
        return min(hits, key=lambda c: (c.started_ms, c.campaign_id)) if hits else None

    def policy_for(self, state: TicketState, started_ms: int) -> TimeLimitPolicy:
        """The table a duty of ``state`` opened at ``started_ms`` is judged by.

        The table in force when the duty was opened, compressed when the ticket falls under a
        campaign (a ``core.deadlines.duties.PolicyChoice``).
        """
        table = policy_in_force((DEFAULT_POLICY, *self.policies), started_ms)
        campaign = self.campaign_of(state)
        return table.compressed(campaign.days) if campaign is not None else table

    @property
    def supervision_grace_ms(self) -> int:
        """The grace of supervision from above in milliseconds (the default when unset)."""
        if not self.supervision_grace_minutes:
            return DEFAULT_SUPERVISION_GRACE_MS
        return self.supervision_grace_minutes * 60_000

    def running_campaigns(self) -> tuple[Campaign, ...]:
        """The campaigns not switched off."""
        return tuple(c for c in self.campaigns if c.running)

    # -- amending (each returns the next publication) -------------------------------------------

    def _next(self, now_ms: int, **changes: object) -> RuleBook:
        return replace(self, number=self.number + 1, issued_ms=now_ms, **changes)  # type: ignore[arg-type]

    def with_policy(self, policy: TimeLimitPolicy, now_ms: int) -> RuleBook:
        """Publish a new time-limit table, in force from ``policy.effective_from_ms``.

        A table that would take effect before it is published is refused: it would change the
        deadlines of obligations already open, silently.
        """
        if policy.effective_from_ms < now_ms:
            raise InvalidInput(
                "policy.effective_from",
                "must not be in the past (old obligations keep their limits)",
            )
        return self._next(now_ms, policies=(*self.policies, policy))

    def with_holiday_year(self, year: YearHolidays, now_ms: int) -> RuleBook:
        """Load (or correct) one year's rest days and make-up workdays."""
        kept = tuple(y for y in self.holiday_years if y.year != year.year)
        return self._next(now_ms, holiday_years=tuple(sorted((*kept, year), key=lambda y: y.year)))

    def with_supervision_grace(self, minutes: int, now_ms: int) -> RuleBook:
        """Set the grace of supervision from above (minutes of the nodes' clock)."""
        if not 1 <= minutes <= MAX_SUPERVISION_GRACE_MINUTES:
            raise InvalidInput(
                "supervision_grace_minutes",
                f"must be 1 to {MAX_SUPERVISION_GRACE_MINUTES} minutes, not {minutes}",
            )
        return self._next(now_ms, supervision_grace_minutes=minutes)

    def with_campaign(self, campaign: Campaign, now_ms: int) -> RuleBook:
        """Switch a campaign on."""
        if any(c.campaign_id == campaign.campaign_id for c in self.campaigns):
            raise InvalidInput("campaign.campaign_id", f"{campaign.campaign_id} exists already")
        return self._next(now_ms, campaigns=(*self.campaigns, campaign))

    def without_campaign(self, campaign_id: str, now_ms: int) -> RuleBook:
        """Switch a running campaign off from ``now_ms``; the tickets it matched stay compressed."""
        found = [c for c in self.campaigns if c.campaign_id == campaign_id]
        if not found:
            raise NotFound(f"no campaign {campaign_id!r} in the rule book")
        if not found[0].running:
            raise InvalidInput("campaign_id", f"{campaign_id} was switched off already")
        ended = replace(found[0], ended_ms=max(now_ms, found[0].started_ms))
        return self._next(
            now_ms,
            campaigns=tuple(ended if c.campaign_id == campaign_id else c for c in self.campaigns),
        )


def parse_holiday_year(year: int, rest_days: list[str], workdays: list[str]) -> YearHolidays:
    """One year of an administrator's holiday file, dates as ``YYYY-MM-DD`` text."""
    if not 2000 <= year <= 2100:
        raise InvalidInput("holidays.year", f"{year} is not a plausible year")

    def parse(values: list[str], kind: str) -> frozenset[date]:
        days = set()
        for i, text in enumerate(values):
            try:
                days.add(date.fromisoformat(text))
            except ValueError:
                raise InvalidInput(
                    f"holidays.{year}.{kind}[{i}]", f"{text!r} is not a YYYY-MM-DD date"
                ) from None
        return frozenset(days)

    return YearHolidays(year, parse(rest_days, "rest_days"), parse(workdays, "workdays"))
