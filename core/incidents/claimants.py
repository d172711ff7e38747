"""Professional claimants (职业索赔/职业举报): many tickets from one filer across businesses.

Such filers are flagged, not refused: the units answer their tickets uniformly (统一答复). The
``ClaimantRule`` says how many tickets against how many businesses within how many days;
``find_claimants`` finds the filers and the tickets still to flag
(``ProfessionalClaimantFlagged``, recorded by ``province_hub.claimants``). Filers are compared
by the digests of ``core.incidents.keys``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from core.incidents.rules import ClaimantRule
from core.incidents.windows import DAY_MS, in_qualifying_windows
from core.ticket.vocabulary import TicketKind


@dataclass(frozen=True)
class Filing:
    """One ticket as claimant detection sees it: who filed it, against whom, when."""

    ticket_id: str
    received_ms: int
    kind: TicketKind
    filer_key: str
    """The filer's keyed phone or ID digest (``personal_lookups``), as compared."""
    respondent_key: str
    flagged: bool = False
    """True when the ticket is flagged already."""


@dataclass(frozen=True)
class ClaimantFinding:
    """A filer who looks like a professional claimant, and the tickets to flag."""

    filer_key: str
    tickets: int
    """Tickets of the filer in qualifying windows."""
    businesses: int
    """Different businesses those tickets are against."""
    members: tuple[str, ...]
    """Those tickets, in order of receipt."""
    to_flag: tuple[str, ...]
    """Members not flagged yet."""


def find_claimants(filings: Iterable[Filing], rule: ClaimantRule) -> list[ClaimantFinding]:
    """Filers with at least ``rule.min_tickets`` tickets against ``rule.min_businesses``
    different businesses within one window of ``rule.window_days``; every ticket of theirs in
    such a window is flagged for a uniform answer (统一答复)."""
    by_filer: dict[str, list[Filing]] = defaultdict(list)
    for f in filings:
        if f.kind in rule.kinds and f.filer_key:
            by_filer[f.filer_key].append(f)
    window = rule.window_days * DAY_MS
    findings: list[ClaimantFinding] = []
    for filer in sorted(by_filer):
        items = sorted(by_filer[filer], key=lambda f: (f.received_ms, f.ticket_id))
        chosen = in_qualifying_windows(
            [f.received_ms for f in items],
            [f.respondent_key for f in items],
            window,
            rule.min_tickets,
            rule.min_businesses,
        )
        if not chosen:
            continue
        members = [items[i] for i in sorted(chosen)]
        findings.append(
            ClaimantFinding(
                filer_key=filer,
                tickets=len(members),
                businesses=len({m.respondent_key for m in members if m.respondent_key}),
                members=tuple(m.ticket_id for m in members),
                to_flag=tuple(m.ticket_id for m in members if not m.flagged),
            )
        )
    return findings
