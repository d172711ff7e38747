"""Incident detection: group complaints and professional claimants, as signed events.

The rules are ``core.incidents``; this is the part that runs them on a node, like the deadline
sweep (``node.sweeps``) runs ``core.deadlines``: each run reads the node's signals view
(``node.signals``) for the tickets of its jurisdiction, asks the rules what they find, and
records in writer jobs, as the node's system officer (``node.sweeps.sweep_officer``), the
events still missing, decided again against each ticket's state inside the job. The view and
the events are durable, so a run repeated after a crash or a restart records nothing twice.

Who detects what (docs/incidents.md gives the reasons):

* **group complaints** at the **city** (``DEFAULT_GROUP_LEVELS``): the incident is escalated to
  the city, the city holds every ticket its counties hold (routed through it, or pushed up by
  them), and it is the one unit that sees a business with premises in two of its counties.
  A county may be configured to detect too: incident ids are derived from the group, and the
  smallest wins, so the links converge.
* **professional claimants** at the **province** (``DEFAULT_CLAIMANT_LEVELS``): a filer's
  tickets spread over counties and cities, and only the province sees them all.
* **emergencies** are recorded with the registration by ``node.intake``, not here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, Connection, distinct, func, select

from core.incidents import (
    DAY_MS,
    MATCHED_BY_ID,
    MATCHED_BY_PHONE,
    Complaint,
    Filing,
    IncidentRules,
    city_of,
    find_claimants,
    find_groups,
    masked_filer,
)
from core.officers import OfficerRef
from core.ticket.events import DomainEvent, GroupIncidentLinked, ProfessionalClaimantFlagged
from core.ticket.state import TicketStatus
from core.ticket.vocabulary import TicketKind
from core.units import Unit, UnitLevel, jurisdiction_prefix
from node.signals import ticket_signals
from sync.writer import LogBatch, LogWriter

log = logging.getLogger(__name__)

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
BATCH = 200
"""Tickets per writer job."""
MAX_RELATED = 50
"""Most related tickets a claimant flag names."""

DEFAULT_GROUP_LEVELS = frozenset({UnitLevel.CITY})
"""Levels whose nodes look for group complaints by default."""
DEFAULT_CLAIMANT_LEVELS = frozenset({UnitLevel.PROVINCE})
"""Levels whose nodes look for professional claimants by default."""
DEFAULT_LOOKBACK_DAYS = 30
"""How far back (by receipt) a run looks: covers the windows and tickets that arrive late
from a county that was offline."""


@dataclass(frozen=True)
class _ClaimantDraft:
    """A claimant flag planned from the view; the masked filer is read from the ticket's own
    registration inside the writer job, so the plan carries no personal data."""

    matched_by: str
    tickets: int
    businesses: int
    related: tuple[str, ...]


_Planned = GroupIncidentLinked | _ClaimantDraft


class IncidentSweep:
    """Finds group complaints and professional claimants in this node's jurisdiction."""

    def __init__(
        self,
        unit: Unit,
        read: ReadSnapshot,
        writer: LogWriter,
        wall_ms: Callable[[], int],
        officer: OfficerRef,
        rules: IncidentRules | None = None,
        *,
        group_levels: Collection[UnitLevel] = DEFAULT_GROUP_LEVELS,
        claimant_levels: Collection[UnitLevel] = DEFAULT_CLAIMANT_LEVELS,
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    ) -> None:
        self._unit = unit
        self._prefix = jurisdiction_prefix(unit.code, unit.level)
        self._read = read
        self._writer = writer
        self._wall_ms = wall_ms
        self._officer = officer
        self.rules = rules if rules is not None else IncidentRules()
        """The thresholds and word lists this node judges by."""
        self.detects_groups = unit.level in group_levels
        """True when this node looks for group complaints."""
        self.detects_claimants = unit.level in claimant_levels
        """True when this node looks for professional claimants."""
        self._lookback_ms = lookback_days * DAY_MS
        self.recorded = 0
        """Events recorded by this detection since the node started (for drills and tests)."""

    def plan(self, now_ms: int) -> dict[str, list[_Planned]]:
        """What the rules find at ``now_ms``, per ticket, before checking each ticket's state."""
        planned: dict[str, list[_Planned]] = defaultdict(list)
        if not (self.detects_groups or self.detects_claimants):
            return {}
        with self._read() as conn:
            if self.detects_groups:
                for finding in find_groups(
                    self._complaints(conn, now_ms), self.rules.groups, city_of(self._unit.code)
                ):
                    link = GroupIncidentLinked(
                        finding.incident_id, finding.respondent_key, finding.to_unit
                    )
                    for ticket_id in finding.to_link:
                        planned[ticket_id].append(link)
            if self.detects_claimants:
                for column, matched_by in (
                    (ticket_signals.c.phone_key, MATCHED_BY_PHONE),
                    (ticket_signals.c.id_key, MATCHED_BY_ID),
                ):
                    for found in find_claimants(
                        self._filings(conn, now_ms, column), self.rules.claimants
                    ):
                        for ticket_id in found.to_flag:
                            related = tuple(t for t in found.members if t != ticket_id)
                            planned[ticket_id].append(
                                _ClaimantDraft(
                                    matched_by,
                                    found.tickets,
                                    found.businesses,
                                    related[:MAX_RELATED],
                                )
                            )
        return dict(planned)

    def _in_view(self, now_ms: int, kinds: Sequence[TicketKind]) -> list[ColumnElement[bool]]:
        """Conditions every row a run reads must meet: recent, here, counted, not a duplicate."""
        s = ticket_signals.c
        return [
            s.received_ms >= now_ms - self._lookback_ms,
            s.holder_unit.startswith(self._prefix, autoescape=True),
            s.kind.in_([k.value for k in kinds]),
            s.status != TicketStatus.DUPLICATE.value,
        ]

    def _complaints(self, conn: Connection, now_ms: int) -> list[Complaint]:
        s = ticket_signals.c
        rows = conn.execute(
            select(
                s.ticket_id,
                s.received_ms,
                s.kind,
                s.respondent_key,
                s.name_key,
                s.phone_key,
                s.incident_id,
            ).where(*self._in_view(now_ms, self.rules.groups.kinds), s.phone_key != "")
        )
        return [
            Complaint(
                r.ticket_id,
                r.received_ms,
                TicketKind(r.kind),
                r.respondent_key,
                r.name_key,
                r.phone_key,
                r.incident_id,
            )
            for r in rows
        ]

    def _filings(self, conn: Connection, now_ms: int, key: Column[str]) -> list[Filing]:
        """The tickets of filers who reach the thresholds over the whole lookback (a necessary
        condition for reaching them in one window: the database narrows, the rule decides)."""
        s = ticket_signals.c
        rule = self.rules.claimants
        where = [*self._in_view(now_ms, rule.kinds), key != ""]
        candidates = (
            select(key)
            .where(*where)
            .group_by(key)
            .having(func.count() >= rule.min_tickets)
            .having(func.count(distinct(s.respondent_key)) >= rule.min_businesses)
        )
        rows = conn.execute(
            select(s.ticket_id, s.received_ms, s.kind, key, s.respondent_key, s.claimant).where(
                *where,
                key.in_(candidates),
            )
        )
        return [Filing(r[0], r[1], TicketKind(r[2]), r[3], r[4], bool(r[5])) for r in rows]

    async def run_once(self) -> int:
        """One run; returns how many events it recorded."""
        planned = self.plan(self._wall_ms())
        ids = sorted(planned)
        recorded = 0
        for start in range(0, len(ids), BATCH):
            chunk = {t: planned[t] for t in ids[start : start + BATCH]}
            recorded += await self._writer.run(self._job(chunk))
        self.recorded += recorded
        return recorded

    def _job(self, planned: dict[str, list[_Planned]]) -> Callable[[LogBatch], int]:
        rule = self.rules.claimants

        def job(batch: LogBatch) -> int:
            count = 0
            batch.prefetch(planned)
            for ticket_id, items in planned.items():
                state = batch.state_of(ticket_id)
                reg = state.registration
                if reg is None or state.status is TicketStatus.DUPLICATE:
                    continue
                events: list[DomainEvent] = []
                incident = state.incident.incident_id if state.incident else None
                flagged = state.claimant is not None
                for item in items:
                    if isinstance(item, GroupIncidentLinked):
                        if incident is None or item.incident_id < incident:
                            events.append(item)
                            incident = item.incident_id
                    elif not flagged:
                        events.append(
                            ProfessionalClaimantFlagged(
                                filer=masked_filer(reg.consumer, item.matched_by),
                                tickets=item.tickets,
                                businesses=item.businesses,
                                window_days=rule.window_days,
                                related_ticket_ids=item.related,
                            )
                        )
                        flagged = True
                if events:
                    batch.record(ticket_id, events, self._officer, state=state)
                    count += len(events)
            return count

        return job

    async def safe_run(self) -> None:
        """``run_once`` for the scheduler: a failure is logged and tried again next time."""
        try:
            await self.run_once()
        except Exception:
            log.exception("incident detection failed; it runs again at the next interval")
