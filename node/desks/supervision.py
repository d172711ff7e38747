"""A unit's queue (督办, ``hotline queue``, ``SupervisionService.GetQueue``): what is due, and when.

Read from the obligations view: the duties a unit owes, split into overdue, due soon and later,
with the time left in working days on the node's calendar, a due date counted over a year the
calendar does not know marked provisional (暂定); and the duties of units below it that were
escalated to it (督办, DOMAIN.md §6). Read from the signals view: the group incidents
escalated to the unit (群体投诉) with their member tickets, as long as one of them is open, and
the open emergencies sent to it (紧急事件; docs/incidents.md).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Row, select

from core.deadlines.china_time import china_date
from core.ticket.state import TicketStatus
from core.units import jurisdiction_prefix, level_of
from node.app.blocking import BlockingPool
from node.storage.tables import obligations, ticket_signals
from node.views.obligations import DeadlineRules, provisional_years
from node.views.signals import REASONS_SEPARATOR
from proto.hotline.v1 import supervision_pb2

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]


class SupervisionQueue:
    """Reads one unit's queue from the obligations view."""

    def __init__(
        self,
        own_unit: str,
        read: ReadSnapshot,
        rules: DeadlineRules,
        wall_ms: Callable[[], int],
        blocking: BlockingPool,
    ) -> None:
        self._own = own_unit
        self._read = read
        self._rules = rules
        self._wall_ms = wall_ms
        self._blocking = blocking

    async def queue(self, unit_code: str = "", due_within_days: int = 3) -> supervision_pb2.Queue:
        """The queue of ``unit_code`` (default: this node's unit) as of the node's clock."""
        return await self._blocking.run(self.read_queue, unit_code, due_within_days)

    def read_queue(self, unit_code: str = "", due_within_days: int = 3) -> supervision_pb2.Queue:
        """``queue``, as a blocking read (tools and tests call it on a thread)."""
        unit = unit_code or self._own
        now = self._wall_ms()
        today = china_date(now)
        with self._read() as conn:
            owed = conn.execute(
                select(obligations)
                .where(obligations.c.unit_code == unit)
                .order_by(obligations.c.due_ms, obligations.c.ticket_id)
            ).all()
            below = jurisdiction_prefix(unit, level_of(unit))
            escalated = [
                row
                for row in conn.execute(
                    select(obligations)
                    .where(
                        obligations.c.escalation_level > 0,
                        obligations.c.unit_code.startswith(below, autoescape=True),
                        obligations.c.unit_code != unit,
                    )
                    .order_by(obligations.c.due_ms, obligations.c.ticket_id)
                )
                # It reached this unit once it climbed as many levels as lie between them.
                if row.escalation_level >= level_of(row.unit_code).rank - level_of(unit).rank
            ]
            incidents = incidents_of(conn, unit)
            emergencies = emergencies_of(conn, unit)
        queue = supervision_pb2.Queue(unit_code=unit, incidents=incidents, emergencies=emergencies)
        for row in owed:
            entry = self._entry(row, today)
            if row.due_ms <= now:
                queue.overdue.append(entry)
            elif entry.working_days_left <= due_within_days:
                queue.due_soon.append(entry)
            else:
                queue.later.append(entry)
        queue.escalated_to_us.extend(self._entry(row, today) for row in escalated)
        return queue

    def _entry(self, row: Row[Any], today: Any) -> supervision_pb2.QueueEntry:
        due_date = china_date(row.due_ms - 1)  # due_ms is the exclusive end of the due date
        left = self._rules.calendar.working_days_between(today, due_date)
        years = provisional_years(row.provisional)
        return supervision_pb2.QueueEntry(
            ticket_id=row.ticket_id,
            duty=row.duty,
            unit_code=row.unit_code,
            due_ms=row.due_ms,
            working_days_left=left,
            escalation_level=row.escalation_level,
            escalated_to=row.escalated_to,
            policy_version=row.policy_version,
            provisional=bool(years),
            unknown_years=years,
        )


_DONE = (TicketStatus.CLOSED.value, TicketStatus.DUPLICATE.value)


def incidents_of(conn: Connection, unit: str) -> list[supervision_pb2.IncidentEntry]:
    """The group incidents escalated to ``unit`` that still have an open member, oldest first."""
    s = ticket_signals.c
    rows = conn.execute(
        select(
            s.ticket_id,
            s.incident_id,
            s.incident_key,
            s.respondent_name,
            s.holder_unit,
            s.received_ms,
            s.status,
        )
        .where(s.incident_to == unit)
        .order_by(s.incident_id, s.received_ms, s.ticket_id)
    ).all()
    members: dict[str, list[Any]] = {}
    for row in rows:
        members.setdefault(row.incident_id, []).append(row)
    entries = []
    for incident_id, group in members.items():
        open_tickets = sum(1 for r in group if r.status not in _DONE)
        if not open_tickets:
            continue
        entries.append(
            supervision_pb2.IncidentEntry(
                incident_id=incident_id,
                respondent_key=group[0].incident_key,
                respondent_name=group[0].respondent_name,
                to_unit=unit,
                ticket_ids=[r.ticket_id for r in group],
                first_received_ms=group[0].received_ms,
                last_received_ms=group[-1].received_ms,
                open_tickets=open_tickets,
                holder_units=sorted({r.holder_unit for r in group}),
            )
        )
    return sorted(entries, key=lambda e: (e.first_received_ms, e.incident_id))


def emergencies_of(conn: Connection, unit: str) -> list[supervision_pb2.EmergencyEntry]:
    """The open emergencies sent to ``unit``, in order of receipt."""
    s = ticket_signals.c
    rows = conn.execute(
        select(
            s.ticket_id,
            s.emergency_reasons,
            s.holder_unit,
            s.status,
            s.received_ms,
            s.respondent_name,
        )
        .where(s.emergency_to == unit, s.status.not_in(_DONE))
        .order_by(s.received_ms, s.ticket_id)
    ).all()
    return [
        supervision_pb2.EmergencyEntry(
            ticket_id=r.ticket_id,
            reasons=r.emergency_reasons.split(REASONS_SEPARATOR) if r.emergency_reasons else [],
            holder_unit=r.holder_unit,
            status=r.status,
            received_ms=r.received_ms,
            respondent_name=r.respondent_name,
        )
        for r in rows
    ]
