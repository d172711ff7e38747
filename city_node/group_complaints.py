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

from sqlalchemy import ColumnElement, Connection, select

from core.incidents import DAY_MS, Complaint, GroupRule, find_groups, resolve_keys
from core.ticket.events import DomainEvent, GroupIncidentLinked
from core.ticket.state import TicketState
from core.ticket.vocabulary import TicketKind
from core.units import Unit, UnitLevel, city_of
from node.jobs.detection import DEFAULT_LOOKBACK_DAYS, Plan, SearchMark, resumable
from node.storage.tables import ticket_signals
from node.views.signals import comparable_rows, last_change

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

    def _complaints(
        self, conn: Connection, now_ms: int, *also: ColumnElement[bool]
    ) -> list[Complaint]:
        """The comparable complaints with a consumer key, those matching ``also`` only."""
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
            ).where(*where, s.phone_key != "", *also)
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

    def _touched(self, conn: Connection, now_ms: int, after: SearchMark) -> set[str]:
        """The business keys (by code and by name) of the rows written since ``after`` and
        of those that left the lookback since: only their groups can have gained members
        (a row that leaves can change which code a name-only complaint is counted under)."""
        s = ticket_signals.c
        left = (s.received_ms >= after.at_ms - self._lookback_ms) & (
            s.received_ms < now_ms - self._lookback_ms
        )
        keys: set[str] = set()
        for where in (s.change_seq > after.change_seq, left):
            for r in conn.execute(select(s.respondent_key, s.name_key).where(where)):
                keys.update(k for k in (r.respondent_key, r.name_key) if k)
        return keys

    def _closed_around(self, conn: Connection, now_ms: int, keys: set[str]) -> list[Complaint]:
        """The complaints of every group ``keys`` may touch, each group whole: the rows of
        those businesses by code or by name, widened until every business key they resolve
        to and every name they carry is among those read (``resolve_keys`` decides by all
        codes known for a name; a group is all the rows resolved to its key)."""
        s = ticket_signals.c
        asked: set[str] = set()
        found: dict[str, Complaint] = {}
        while keys - asked:
            ask = sorted(keys - asked)
            asked.update(ask)
            for start in range(0, len(ask), 500):
                part = ask[start : start + 500]
                also = s.respondent_key.in_(part) | s.name_key.in_(part)
                for c in self._complaints(conn, now_ms, also):
                    found[c.ticket_id] = c
            resolved = resolve_keys(found.values())
            keys = {k for c in found.values() for k in (c.respondent_key, c.name_key) if k}
            keys.update(k for k in resolved.values() if k)
        return list(found.values())

    def plan(
        self, conn: Connection, now_ms: int, after: SearchMark | None
    ) -> Plan[GroupIncidentLinked]:
        """The incident link each member of a group should carry, per ticket: among all
        complaints on a first round or under a changed rule, else among the groups of the
        businesses with a row written since ``after`` (or gone from the lookback)."""
        seen = last_change(conn)  # read first: a row written from now on is numbered above
        mark = resumable(after, self.rule, seen, now_ms)
        if mark is None:
            complaints = self._complaints(conn, now_ms)
        else:
            complaints = self._closed_around(conn, now_ms, self._touched(conn, now_ms, mark))
        planned: dict[str, list[GroupIncidentLinked]] = defaultdict(list)
        for finding in find_groups(complaints, self.rule, city_of(self._unit.code)):
            link = GroupIncidentLinked(finding.incident_id, finding.respondent_key, finding.to_unit)
            for ticket_id in finding.to_link:
                planned[ticket_id].append(link)
        return Plan(planned, SearchMark(self.rule, seen, now_ms))

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
