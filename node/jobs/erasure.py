"""Erasure at the end of retention as a job: a signed ``PersonalDataErased`` for every ended
ticket whose personal data this node owes it for (个人信息删除).

The rule of who owes it and when is ``core.personal.retention``: the holder's node once the
ticket has been over for the retention period, its province a grace later (a fallback for a
holder's node that is gone). This job only finds those tickets cheaply and records the event as
the node's system officer (``core.officers.system_officer``); the deletion itself is the
projection's (``node.views.tickets.forget_erased``), on this node in the same transaction and on
every node the event replicates to, so the seal, the keyed look-ups, the consumer code and the
fingerprint go everywhere while the signed log stays whole.

Candidates come from the tickets view, a page at a time: ended (closed or duplicate), held by
this node's unit (or, at a province, by any unit of it), received long enough ago, and with no
counted erasure in the log; their folded state, decoded from the view, decides. The decision is
taken again inside each writer job on the state at that moment, so a round repeated after a
crash or a restart, or racing an erasure that just arrived, records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Connection, and_, exists, select

from core.officers import system_officer
from core.personal.retention import (
    DAY_MS,
    DEFAULT_GRACE_DAYS,
    ERASURE_REASON,
    effective_retention_days,
    owes_erasure,
)
from core.ticket.events import PersonalDataErased
from core.ticket.state import TicketState, TicketStatus
from core.units import Unit, UnitLevel
from node.app.blocking import BlockingPool
from node.storage.tables import tickets
from proto.hotline.v1 import ticket_pb2
from sync import schema as s
from sync.codec import from_message
from sync.envelope import EVENT_MESSAGES
from sync.writer import LogBatch, LogWriter

if TYPE_CHECKING:
    from node.app.runtime import Node

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
BATCH = 500
"""Tickets read per page of candidates, and erased per writer job."""
RECEIPT_SKEW_MS = DAY_MS
"""Slack on the cheap test "received at least the retention period ago": a ticket ends after it
was received, but the two instants come from clocks that may disagree a little."""
ERASED_TYPE = EVENT_MESSAGES[PersonalDataErased].DESCRIPTOR.full_name
"""The ``event_type`` of an erasure in the log (``hotline.v1.PersonalDataErased``)."""
ENDED = (TicketStatus.CLOSED.value, TicketStatus.DUPLICATE.value)


class PersonalDataErasure:
    """Records the erasure of the personal data of the ended tickets this node owes it for.

    ``retention_days`` is read at each round (the rule book may change; 0: the default);
    ``grace_days`` is how long after the holder a province steps in.
    """

    def __init__(
        self,
        unit: Unit,
        read: ReadSnapshot,
        writer: LogWriter,
        wall_ms: Callable[[], int],
        blocking: BlockingPool,
        retention_days: Callable[[], int],
        *,
        grace_days: int = DEFAULT_GRACE_DAYS,
    ) -> None:
        self._unit = unit
        self._read = read
        self._writer = writer
        self._wall_ms = wall_ms
        self._blocking = blocking
        self._retention_days = retention_days
        self._grace_days = grace_days
        self._officer = system_officer(unit)
        self.recorded = 0
        """Erasures recorded by this job since the node started (for drills and tests)."""

    def _owes(self, state: TicketState, now_ms: int, days: int) -> bool:
        return owes_erasure(state, self._unit.code, now_ms, days, self._grace_days)

    def _held_here(self) -> ColumnElement[bool]:
        """Which holders this node answers for: its own unit; at a province, any of its units
        (the fallback for a holder's node that is gone)."""
        if self._unit.level is UnitLevel.PROVINCE:
            return tickets.c.holder_unit.startswith(self._unit.prefix, autoescape=True)
        return tickets.c.holder_unit == self._unit.code

    def owed(self, now_ms: int, retention_days: int) -> list[str]:
        """The tickets whose erasure this node owes at ``now_ms`` (a blocking read)."""
        erased = exists().where(
            and_(
                s.events.c.ticket_id == tickets.c.ticket_id,
                s.events.c.event_type == ERASED_TYPE,
                s.events.c.verdict == "",
            )
        )
        received_before = now_ms - retention_days * DAY_MS + RECEIPT_SKEW_MS
        found: list[str] = []
        after = ""
        with self._read() as conn:
            while True:
                page = conn.execute(
                    select(tickets.c.ticket_id, tickets.c.state)
                    .where(
                        tickets.c.ticket_id > after,
                        tickets.c.status.in_(ENDED),
                        tickets.c.received_ms <= received_before,
                        self._held_here(),
                        ~erased,
                    )
                    .order_by(tickets.c.ticket_id)
                    .limit(BATCH)
                ).all()
                for row in page:
                    view = ticket_pb2.Ticket()
                    view.ParseFromString(row.state)
                    if self._owes(from_message(TicketState, view), now_ms, retention_days):
                        found.append(row.ticket_id)
                if len(page) < BATCH:
                    return found
                after = page[-1].ticket_id

    async def run_once(self) -> int:
        """One round; returns how many erasures it recorded."""
        now = self._wall_ms()
        days = effective_retention_days(self._retention_days())
        owed = await self._blocking.run(self.owed, now, days)
        recorded = 0
        for start in range(0, len(owed), BATCH):
            recorded += await self._writer.run(self._job(owed[start : start + BATCH], now, days))
        self.recorded += recorded
        return recorded

    def _job(self, ticket_ids: Sequence[str], now_ms: int, days: int) -> Callable[[LogBatch], int]:
        def job(batch: LogBatch) -> int:
            count = 0
            batch.prefetch(ticket_ids)
            for ticket_id in ticket_ids:
                state = batch.state_of(ticket_id)
                if self._owes(state, now_ms, days):  # again: an erasure may have just arrived
                    erasure = PersonalDataErased(ERASURE_REASON, days)
                    batch.record(ticket_id, [erasure], self._officer, state=state)
                    count += 1
            return count

        return job


def personal_data_erasure(
    node: Node, retention_days: Callable[[], int] | None = None
) -> PersonalDataErasure:
    """The erasure job of a node that holds tickets (a profile's job).

    ``retention_days``: where the period comes from (0: the default); by default the
    province's rule book in force at each round (``retention_days``, 0 there too meaning
    ``DEFAULT_RETENTION_DAYS``).
    """
    return PersonalDataErasure(
        node.own_unit,
        node.db.read,
        node.writer,
        node.clock.wall_ms,
        node.blocking,
        retention_days or (lambda: node.rules.book.retention_days_in_force),
    )
