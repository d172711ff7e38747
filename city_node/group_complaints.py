"""Group complaints (群体投诉) found at the city: many consumers, one business, a short window.

A city holds every ticket its counties hold (routed through it, or pushed up by them) and is
the one unit that sees a business with premises in two of its counties, so it is where group
complaints are found by default and where their incident is escalated (docs/incidents.md).
A county may be set to detect too (``detects_groups_at``): incident ids are derived from the
group and the smallest wins, so the links made apart converge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, select

from core.incidents import DAY_MS, Complaint, GroupRule, find_groups
from core.ticket.events import DomainEvent, GroupIncidentLinked
from core.ticket.state import TicketState
from core.ticket.vocabulary import TicketKind
from core.units import Unit, UnitLevel, city_of
from node.jobs.detection import DEFAULT_LOOKBACK_DAYS, Plan, SearchMark
from node.storage.tables import ticket_signals
from node.views.signals import comparable_rows

DETECTING_LEVELS = frozenset({UnitLevel.CITY})
"""Levels whose nodes look for group complaints by default."""


class GroupComplaints:
    """The group-complaint detector of one node (``node.jobs.detection.Detector``)."""

    def __init__(
        self, unit: Unit, rule: GroupRule, *, lookback_days: int = DEFAULT_LOOKBACK_DAYS
    ) -> None:
        self._unit = unit
        self.rule = rule
        """The threshold and window this node judges by (``[incidents.groups]``)."""
        self._lookback_ms = lookback_days * DAY_MS

    def _complaints(self, conn: Connection, now_ms: int) -> list[Complaint]:
        s = ticket_signals.c
        where = comparable_rows(self._unit.prefix, now_ms - self._lookback_ms, self.rule.kinds)
        rows = conn.execute(
            select(
                s.ticket_id,
                s.received_ms,
                s.kind,
                s.respondent_key,
                s.name_key,
                s.phone_key,
                s.incident_id,
            ).where(*where, s.phone_key != "")
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

    def plan(
        self, conn: Connection, now_ms: int, after: SearchMark | None
    ) -> Plan[GroupIncidentLinked]:
        """The incident link each member of a group should carry, per ticket.

        Every round reads the whole lookback (``after`` is not used): see docs/incidents.md
        for why an incremental search of groups is not as simple as the claimants' one."""
        planned: dict[str, list[GroupIncidentLinked]] = defaultdict(list)
        complaints = self._complaints(conn, now_ms)
        for finding in find_groups(complaints, self.rule, city_of(self._unit.code)):
            link = GroupIncidentLinked(finding.incident_id, finding.respondent_key, finding.to_unit)
            for ticket_id in finding.to_link:
                planned[ticket_id].append(link)
        return Plan(planned)

    def events_for(
        self, state: TicketState, findings: Sequence[GroupIncidentLinked]
    ) -> list[DomainEvent]:
        """The links still missing: a ticket carries the smallest incident id it belongs to."""
        events: list[DomainEvent] = []
        incident = state.incident.incident_id if state.incident else None
        for link in findings:
            if incident is None or link.incident_id < incident:
                events.append(link)
                incident = link.incident_id
        return events
