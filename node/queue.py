"""A unit's queue (``hotline queue``, ``SupervisionService.GetQueue``): what is due, and when.

Read from the obligations view: the duties a unit owes, split into overdue, due soon and later,
with the time left in working days on the node's calendar; and the duties of units below it
that were escalated to it (督办, DOMAIN.md §6).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from grpc import aio
from sqlalchemy import Connection, Row, select

from core.deadlines.china_time import china_date
from core.units import jurisdiction_prefix, level_of
from node.obligations import DeadlineRules, obligations
from proto.hotline.v1 import supervision_pb2, supervision_pb2_grpc

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
Context = aio.ServicerContext[Any, Any]


class SupervisionQueue:
    """Reads one unit's queue from the obligations view."""

    def __init__(
        self, own_unit: str, read: ReadSnapshot, rules: DeadlineRules, wall_ms: Callable[[], int]
    ) -> None:
        self._own = own_unit
        self._read = read
        self._rules = rules
        self._wall_ms = wall_ms

    def queue(self, unit_code: str = "", due_within_days: int = 3) -> supervision_pb2.Queue:
        """The queue of ``unit_code`` (default: this node's unit) as of the node's clock."""
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
        queue = supervision_pb2.Queue(unit_code=unit)
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
        return supervision_pb2.QueueEntry(
            ticket_id=row.ticket_id,
            duty=row.duty,
            unit_code=row.unit_code,
            due_ms=row.due_ms,
            working_days_left=left,
            escalation_level=row.escalation_level,
            escalated_to=row.escalated_to,
            policy_version=row.policy_version,
        )


class SupervisionServicer(supervision_pb2_grpc.SupervisionServiceServicer):
    """SupervisionService: translate and delegate to ``SupervisionQueue``."""

    def __init__(self, queue: SupervisionQueue) -> None:
        self._queue = queue

    async def GetQueue(
        self, request: supervision_pb2.GetQueueRequest, context: Context
    ) -> supervision_pb2.Queue:
        """The unit's queue."""
        return self._queue.queue(request.unit_code, request.due_within_days or 3)
