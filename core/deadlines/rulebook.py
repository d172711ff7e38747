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

The book also carries the province's rules for personal data (个人信息保护, issue 12): the cipher
suite new registrations are sealed with (the international one, or 商用密码 SM4/SM3), how many
days a ticket's personal data is kept after the ticket ends, and the id of the province's
look-up key in force (its material never rides in the book: each node keeps it in its key
folder, ``node.personal.lookup_keys``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from core.deadlines.holidays import HolidayTable, YearHolidays
from core.deadlines.policy import DEFAULT_POLICY, TimeLimitPolicy, policy_in_force
from core.deadlines.sweep import DEFAULT_SUPERVISION_GRACE_MS
from core.errors import InvalidInput, NotFound
from core.limits import MAX_CAMPAIGN_TERMS, check_count, check_text
from core.odr.standing import DEFAULT_ODR_THRESHOLDS, OdrThresholds
from core.ticket.events import TicketRegistered
from core.ticket.state import TicketState

DEFAULT_CAMPAIGN_DAYS = 3
"""DOMAIN.md §5, campaign / emergency mode: closure within 3 working days."""

MAX_SUPERVISION_GRACE_MINUTES = 7 * 24 * 60
"""A week: a longer grace would let a dark county's overdue work wait past the next level's
own escalation period unseen."""

INTERNATIONAL_SUITE = "aes-256-gcm/sha-256"
"""The cipher suite of international algorithms (国际算法): AES-256-GCM, SHA-256 look-ups."""
COMMERCIAL_SUITE = "sm4-gcm/sm3"
"""The suite of China's commercial cryptography (商用密码): SM4-GCM, SM3 look-ups."""
PERSONAL_SUITES = (INTERNATIONAL_SUITE, COMMERCIAL_SUITE)
"""The suites a province may choose (``sync.personal`` implements them)."""

DEFAULT_RETENTION_DAYS = 3 * 365
"""Days a ticket's personal data is kept after the ticket ends when the province sets none.

DOMAIN.md gives no figure. Three years: it is the period within which a consumer may still
bring the same dispute (DOMAIN.md §4 refuses complaints "more than 3 years since the harm was
known", the general limitation period of the Civil Code, art. 188), so the centre may still
need to reach the consumer or recognise a repeated complaint; and it is a common keeping period
of complaint-handling archives. A province with its own archive rules sets its own."""
MAX_RETENTION_DAYS = 36_500
"""A hundred years: beyond that a figure is a typing slip, not a retention rule."""

MAX_LOOKUP_KEY_ID = 32
_LOOKUP_KEY_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_LOOKUP_KEY_ID - 1}}}")


def check_personal_suite(suite: str, field: str) -> str:
    """``suite`` if it is one a province may choose; ``InvalidInput`` naming ``field`` if not."""
    if suite not in PERSONAL_SUITES:
        raise InvalidInput(
            field, f"{suite!r} is not a cipher suite; choose {' or '.join(PERSONAL_SUITES)}"
        )
    return suite


def check_lookup_key_id(key_id: str, field: str) -> str:
    """``key_id`` if it is a usable look-up key id: it becomes part of a file name at every
    node, so only letters, digits, ``-`` and ``_``, at most 32, never a path."""
    if not _LOOKUP_KEY_ID.fullmatch(key_id):
        raise InvalidInput(
            field,
            f"{key_id!r} is not a look-up key id (1 to {MAX_LOOKUP_KEY_ID} letters, digits, "
            "- or _, starting with a letter or digit)",
        )
    return key_id


def check_retention_days(days: int, field: str) -> int:
    """``days`` if it is a plausible retention period; ``InvalidInput`` naming ``field`` if not."""
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(field, f"must be 1 to {MAX_RETENTION_DAYS} days, not {days}")
    return days


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
    personal_suite: str = INTERNATIONAL_SUITE
    """The cipher suite new registrations' personal data is sealed with."""
    retention_days: int = 0
    """Days a ticket's personal data is kept after the ticket ends (0: the default,
    ``DEFAULT_RETENTION_DAYS``)."""
    lookup_key_id: str = ""
    """The province's look-up key in force ("": none yet; the province names one with its first
    publication)."""
    odr_thresholds: OdrThresholds = DEFAULT_ODR_THRESHOLDS
    """The thresholds of ODR supervision (``core.odr.standing``)."""

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
        check_personal_suite(self.personal_suite, "rules.personal_suite")
        if self.retention_days:
            check_retention_days(self.retention_days, "rules.retention_days")
        if self.lookup_key_id:
            check_lookup_key_id(self.lookup_key_id, "rules.lookup_key_id")

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

    @property
    def retention_days_in_force(self) -> int:
        """Days personal data is kept after a ticket ends (the default when unset)."""
        return self.retention_days or DEFAULT_RETENTION_DAYS

    @property
    def retention_ms(self) -> int:
        """``retention_days_in_force`` in milliseconds (calendar days, not working days)."""
        return self.retention_days_in_force * 86_400_000

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

    def with_personal_suite(self, suite: str, now_ms: int) -> RuleBook:
        """Choose the cipher suite later registrations are sealed with; sealed data keeps its own.

        The look-up key in force keeps the suite it was made with: the province rotates it
        (``with_lookup_key``) for look-ups to follow the new suite too.
        """
        return self._next(now_ms, personal_suite=check_personal_suite(suite, "personal_suite"))

    def with_retention_days(self, days: int, now_ms: int) -> RuleBook:
        """Set how many days a ticket's personal data is kept after the ticket ends."""
        return self._next(now_ms, retention_days=check_retention_days(days, "retention_days"))

    def with_odr_thresholds(self, thresholds: OdrThresholds, now_ms: int) -> RuleBook:
        """Set the thresholds of ODR supervision (checked when made)."""
        return self._next(now_ms, odr_thresholds=thresholds)

    def with_lookup_key(self, key_id: str, now_ms: int) -> RuleBook:
        """Publish a new look-up key id: every node re-keys its look-ups to it."""
        return self._next(now_ms, lookup_key_id=check_lookup_key_id(key_id, "lookup_key_id"))

    def naming_lookup_key(self, key_id: str) -> RuleBook:
        """This same publication, naming a look-up key: the province's first key rides along
        with whatever change is published while the book names none."""
        return replace(self, lookup_key_id=check_lookup_key_id(key_id, "lookup_key_id"))

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
