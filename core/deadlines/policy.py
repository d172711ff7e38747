"""The time-limit policy table: how many working days each duty gets, per ticket kind.

The figures are data, not code (DOMAIN.md preamble): the law changed in 2026 (SAMR Order 121)
and will change again, so the province publishes a new versioned table and replicates it down.
A new table applies to obligations opened after it takes effect; an obligation keeps the limit
and the policy version it was opened under (``core.deadlines.obligations``).
Campaign mode (专项/应急) is a compressed copy of the table for matching tickets only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from core.errors import InvalidInput
from core.limits import check_text
from core.ticket.vocabulary import Duty as Duty  # re-exported: the duties are the ticket's words
from core.ticket.vocabulary import TicketKind
from core.units import jurisdiction_prefix, level_of


@dataclass(frozen=True)
class TimeLimit:
    """One row of the table: ``days`` working days for ``duty`` on a ticket of ``kind``.

    ``max_extension_days`` caps the total an approved extension may add (None: no cap in the
    table, the approving unit decides).
    """

    duty: Duty
    kind: TicketKind
    days: int
    max_extension_days: int | None = None
    calendar_days: bool = False
    """True when ``days`` are calendar days (自然日), not working days: a city may give ODR
    enterprises 7 calendar days instead of the 10 working days of the default (DOMAIN.md §8)."""
    unit_code: str = ""
    """'' for every unit; a city's or county's code for the units in its jurisdiction, which
    take this row instead of the general one (the most specific row wins)."""

    def __post_init__(self) -> None:
        if self.days < 1:
            raise InvalidInput("limit.days", f"must be at least 1, not {self.days}")
        if self.max_extension_days is not None and self.max_extension_days < 0:
            raise InvalidInput("limit.max_extension_days", "must not be negative")
        if self.unit_code and not (self.unit_code.isdigit() and len(self.unit_code) == 6):
            raise InvalidInput("limit.unit_code", f"not a unit code: {self.unit_code[:20]!r}")


@dataclass(frozen=True)
class TimeLimitPolicy:
    """A versioned table of time limits, in force from ``effective_from_ms`` (epoch ms)."""

    version: str
    effective_from_ms: int
    limits: tuple[TimeLimit, ...]
    _by_key: dict[tuple[Duty, TicketKind], TimeLimit] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    _local: dict[tuple[Duty, TicketKind, str], TimeLimit] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not self.version:
            raise InvalidInput("policy.version", "must not be empty")
        check_text(self.version, "policy.version")
        by_key: dict[tuple[Duty, TicketKind], TimeLimit] = {}
        local: dict[tuple[Duty, TicketKind, str], TimeLimit] = {}
        for limit in self.limits:
            key = (limit.duty, limit.kind)
            if (key in by_key and not limit.unit_code) or (*key, limit.unit_code) in local:
                where = f" at {limit.unit_code}" if limit.unit_code else ""
                raise InvalidInput(
                    "policy.limits",
                    f"{limit.duty.value} for {limit.kind.value}{where} given twice",
                )
            if limit.unit_code:
                local[(*key, limit.unit_code)] = limit
            else:
                by_key[key] = limit
        for duty, kind, unit in local:
            if (duty, kind) not in by_key:
                raise InvalidInput(
                    "policy.limits",
                    f"{duty.value} for {kind.value} at {unit} needs a general row too",
                )
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_local", local)

    def limit_for(self, duty: Duty, kind: TicketKind, unit_code: str = "") -> TimeLimit:
        """The limit for ``duty`` on a ticket of ``kind`` owed by ``unit_code`` (the row of the
        nearest unit above or at it, else the general row); ``InvalidInput`` if there is none."""
        local = self._local
        if unit_code and local:
            found = [
                limit
                for (d, k, unit), limit in local.items()
                if d is duty and k is kind and unit_code.startswith(_prefix(unit))
            ]
            if found:
                return max(found, key=lambda limit: len(_prefix(limit.unit_code)))
        try:
            return self._by_key[(duty, kind)]
        except KeyError:
            raise InvalidInput(
                "duty", f"policy {self.version} has no limit for {duty.value} on a {kind.value}"
            ) from None

    def has_limit(self, duty: Duty, kind: TicketKind) -> bool:
        """True when the table gives a limit for ``duty`` on a ticket of ``kind``."""
        return (duty, kind) in self._by_key

    def compressed(self, days: int = 3) -> TimeLimitPolicy:
        """The campaign version of this table: every limit longer than ``days`` cut to ``days``.

        DOMAIN.md §5, campaign / emergency mode: "routing at once; closure 3 WD". The copy has
        its own version (``"<version>+campaign<days>"``) so obligations opened under it say so;
        obligations already open keep their limits.
        """
        if days < 1:
            raise InvalidInput("campaign.days", f"must be at least 1, not {days}")
        return replace(
            self,
            version=f"{self.version}+campaign{days}",
            limits=tuple(replace(limit, days=min(limit.days, days)) for limit in self.limits),
        )


def _prefix(unit_code: str) -> str:
    """The code prefix of the units in ``unit_code``'s jurisdiction."""
    return jurisdiction_prefix(unit_code, level_of(unit_code))


def policy_in_force(policies: Iterable[TimeLimitPolicy], at_ms: int) -> TimeLimitPolicy:
    """The policy that governs an obligation opened at ``at_ms``: the latest one in force by then.

    Ties on ``effective_from_ms`` go to the greatest version text, so every node picks the same.
    """
    in_force = [p for p in policies if p.effective_from_ms <= at_ms]
    if not in_force:
        raise InvalidInput("policy", f"no time-limit policy in force at {at_ms}")
    return max(in_force, key=lambda p: (p.effective_from_ms, p.version))


def _both(
    duty: Duty, kinds: Iterable[TicketKind], days: int, max_extension_days: int | None = None
) -> list[TimeLimit]:
    """The same limit for several ticket kinds (a composite follows the single kind's rules)."""
    return [TimeLimit(duty, kind, days, max_extension_days) for kind in kinds]


_COMPLAINTS = (TicketKind.COMPLAINT, TicketKind.COMPOSITE)
_REPORTS = (TicketKind.REPORT, TicketKind.COMPOSITE)

DEFAULT_LIMITS: tuple[TimeLimit, ...] = (
    # DOMAIN.md §5: decide to accept or refuse a complaint, 7 WD from receipt.
    *_both(Duty.DECIDE_ACCEPTANCE, _COMPLAINTS, 7),
    # DOMAIN.md §5: complaint mediation ends 45 WD from acceptance (testing time paused).
    *_both(Duty.END_MEDIATION, _COMPLAINTS, 45),
    # DOMAIN.md §5: report, verify and decide to open a case, 15 WD, +15 with approval.
    *_both(Duty.VERIFY_REPORT, _REPORTS, 15, max_extension_days=15),
    # DOMAIN.md §5 requires a callback for every closed complaint but gives no limit: 5 WD is
    # this table's assumption (the 12345 transfer target of §5), to be confirmed by the owner.
    *_both(Duty.CALLBACK, _COMPLAINTS, 5),
    # DOMAIN.md §5 and §8: the ODR enterprise settles directly within 10 WD (some cities 7 days).
    TimeLimit(Duty.ODR_ANSWER, TicketKind.COMPLAINT, 10),
    # SUPERVISION_REPORT has no row: a supervision order (DOMAIN.md §6) sets its own deadline.
)

DEFAULT_POLICY = TimeLimitPolicy(version="default-2026", effective_from_ms=0, limits=DEFAULT_LIMITS)
"""The DOMAIN.md §5 defaults, in force from the start until the province publishes its own."""
