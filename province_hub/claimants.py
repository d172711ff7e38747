"""Professional claimants (职业索赔) found at the province: one filer, many businesses.

A filer's tickets spread over counties and cities, and only the province sees them all, so
the province node looks for them (docs/incidents.md). The filer is compared by keyed digests
of phone and ID number in the signals view; the flag names the filer masked, read from the
ticket's own registration inside the writer job, so the plan carries no personal data.

The search stays cheap as the store grows: after a first full pass, a round looks only at
the filers with a signals row written since the last recorded round (by the view's storing
order, ``change_seq``, so a county's late backlog with old receipt times counts) and reads
their rows by key. It finds what a full pass would: a filer none of whose rows changed has
lost rows only (to the lookback's edge, which drops the oldest), and fewer rows never make a
window that did not qualify before, whose tickets the last round flagged. A change of the rule
makes the next round a full pass again (docs/incidents.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, Connection, distinct, func, select

from core.incidents import (
    DAY_MS,
    MATCHED_BY_ID,
    MATCHED_BY_PHONE,
    ClaimantRule,
    Filing,
    filer_label,
    find_claimants,
)
from core.ticket.events import DomainEvent, ProfessionalClaimantFlagged
from core.ticket.state import TicketState
from core.ticket.vocabulary import TicketKind
from core.units import Unit, UnitLevel
from node.jobs.detection import DEFAULT_LOOKBACK_DAYS, Plan, SearchMark, resumable
from node.storage.tables import ticket_signals
from node.views.signals import comparable_rows, last_change

DETECTING_LEVELS = frozenset({UnitLevel.PROVINCE})
"""Levels whose nodes look for professional claimants by default."""
MAX_RELATED = 50
"""Most related tickets a claimant flag names."""


@dataclass(frozen=True)
class ClaimantFinding:
    """A filer found to reach the thresholds, as seen from one of their tickets."""

    matched_by: str
    tickets: int
    businesses: int
    related: tuple[str, ...]


class Claimants:
    """The professional-claimant detector of one node (``node.jobs.detection.Detector``)."""

    def __init__(
        self, unit: Unit, rule: ClaimantRule, *, lookback_days: int = DEFAULT_LOOKBACK_DAYS
    ) -> None:
        self._unit = unit
        self.rule = rule
        """The thresholds and window this node judges by (``[incidents.claimants]``)."""
        self._lookback_ms = lookback_days * DAY_MS

    def _filings(
        self, conn: Connection, now_ms: int, key: Column[str], changed_after: int | None
    ) -> list[Filing]:
        """The tickets of filers who reach the thresholds over the whole lookback (a necessary
        condition for reaching them in one window: the database narrows, the rule decides).

        ``changed_after``: only filers with a row written after this ``change_seq`` (None: all).
        """
        s = ticket_signals.c
        rule = self.rule
        since = now_ms - self._lookback_ms
        where: list[ColumnElement[bool]] = [
            *comparable_rows(self._unit.prefix, since, rule.kinds),
            key != "",
        ]
        if changed_after is not None:
            # By the change_seq index, then the filers' rows by the key's index.
            where.append(key.in_(select(key).where(s.change_seq > changed_after, key != "")))
        candidates = (
            select(key)
            .where(*where)
            .group_by(key)
            .having(func.count() >= rule.min_tickets)
            .having(func.count(distinct(s.respondent_key)) >= rule.min_businesses)
        )
        rows = conn.execute(
            select(s.ticket_id, s.received_ms, s.kind, key, s.respondent_key, s.claimant).where(
                *where, key.in_(candidates)
            )
        )
        return [Filing(r[0], r[1], TicketKind(r[2]), r[3], r[4], bool(r[5])) for r in rows]

    def plan(
        self, conn: Connection, now_ms: int, after: SearchMark | None
    ) -> Plan[ClaimantFinding]:
        """The filers found, per ticket still to flag, matched by phone and by ID number:
        among all filers on a first round or under a changed rule, else among those with a
        row written since ``after``."""
        seen = last_change(conn)  # read first: a row written from now on is numbered above
        mark = resumable(after, self.rule, seen, now_ms)
        changed_after = None if mark is None else mark.change_seq
        planned: dict[str, list[ClaimantFinding]] = defaultdict(list)
        for column, matched_by in (
            (ticket_signals.c.phone_key, MATCHED_BY_PHONE),
            (ticket_signals.c.id_key, MATCHED_BY_ID),
        ):
            filings = self._filings(conn, now_ms, column, changed_after)
            for found in find_claimants(filings, self.rule):
                for ticket_id in found.to_flag:
                    related = tuple(t for t in found.members if t != ticket_id)
                    planned[ticket_id].append(
                        ClaimantFinding(
                            matched_by, found.tickets, found.businesses, related[:MAX_RELATED]
                        )
                    )
        return Plan(planned, SearchMark(self.rule, seen, now_ms))

    def events_for(
        self, state: TicketState, findings: Sequence[ClaimantFinding]
    ) -> list[DomainEvent]:
        """One flag, unless the ticket carries one already."""
        reg = state.registration
        if reg is None or state.claimant is not None or not findings:
            return []
        first = findings[0]
        return [
            ProfessionalClaimantFlagged(
                filer=filer_label(first.matched_by),
                tickets=first.tickets,
                businesses=first.businesses,
                window_days=self.rule.window_days,
                related_ticket_ids=first.related,
            )
        ]
