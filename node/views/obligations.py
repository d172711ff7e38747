"""Open obligations as rows: the deadlines a node's sweeps act on (DESIGN.md rule 7).

The ``obligations`` table is a view of the ticket states, kept by the projection in the same
transaction as the tickets table: one row per open duty of a ticket and the unit that owes it
(decide acceptance by, verify the report by, report on a supervision order by), with its due
time and the next moment a reminder or an escalation is owed. A sweep reads only rows with
``next_at_ms <= now`` through an index, so 200,000 open tickets cost nothing between their
deadlines, and no per-ticket timer exists anywhere.

A row whose due date was counted over a year the calendar does not know (weekends only) names
those years in ``provisional`` (暂定); the queue, ``register`` and ``show`` say so, and the row
is derived afresh, final, when the province loads the year (``recompute_obligations``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    select,
)

from core.deadlines.duties import PolicyChoice
from core.deadlines.escalation import Schedules
from core.deadlines.holidays import HolidayTable
from core.deadlines.policy import DEFAULT_POLICY
from core.deadlines.rulebook import RuleBook
from core.deadlines.sweep import (
    DEFAULT_SUPERVISION_GRACE_MS,
    OpenDuty,
    open_duties,
    steps_due,
    supervision_steps_due,
)
from core.deadlines.working_days import WorkingDayCalendar
from core.ticket.events import DomainEvent
from core.ticket.state import TicketState, TicketStatus
from node.storage.tables import obligations, tickets
from proto.hotline.v1 import intake_pb2, ticket_pb2
from sync.codec import from_message
from sync.statements import BulkDelete, BulkRows

_INSERT_ROWS = BulkRows(obligations, [c.name for c in obligations.columns])
_DELETE_ROWS = BulkDelete(obligations, "ticket_id")

NOTHING_DUE = 2**62
"""``next_at_ms`` of a duty with nothing more to do (it stays listed until done)."""


def default_rules() -> DeadlineRules:
    """The default time limits (DOMAIN.md §5) on the calendar the package knows.

    Years the package does not know count weekends only until an administrator loads them;
    ``unknown_years`` says which, for the node to warn about at start.
    """
    return DeadlineRules(DEFAULT_POLICY, WorkingDayCalendar(HolidayTable.from_chinese_calendar()))


@dataclass
class DeadlineRules:
    """The time limits and the calendar a node judges deadlines by.

    Mutable on purpose: a node takes its province's newer rule book while running (``take``,
    on the log writer's thread once the transaction that took the book has committed).
    """

    policy: PolicyChoice
    calendar: WorkingDayCalendar
    grace_ms: int = DEFAULT_SUPERVISION_GRACE_MS
    """The rule book's grace of supervision from above (``core.deadlines.sweep``)."""
    _schedules: Schedules | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def schedules(self) -> Schedules:
        """Reminder and escalation times on ``calendar``, remembered (``Schedules``).

        Made afresh whenever the calendar is another (``adopt``, an undone adoption), so an
        answer counted on an older calendar is never given.
        """
        found = self._schedules
        if found is None or found.calendar is not self.calendar:
            found = self._schedules = Schedules(self.calendar)
        return found

    def adopted(self, book: RuleBook, base: HolidayTable) -> DeadlineRules:
        """The rules under ``book`` (its tables and campaigns, its years over ``base``), as a
        new object: what a writer job judges by until its transaction commits."""
        return DeadlineRules(
            book.policy_for if book.number else DEFAULT_POLICY,
            WorkingDayCalendar(book.holiday_table(base)),
            book.supervision_grace_ms,
        )

    def adopt(self, book: RuleBook, base: HolidayTable) -> None:
        """Judge by ``book`` from now on: its tables and campaigns, its years over ``base``.

        The caller derives the open obligations afresh in the same transaction.
        """
        self.take(self.adopted(book, base))

    def take(self, other: DeadlineRules) -> None:
        """Judge by ``other``'s time limits and calendar from now on (once the transaction
        that derived the obligations under them has committed)."""
        self.calendar = other.calendar
        self.policy = other.policy
        self.grace_ms = other.grace_ms

    def unknown_years(self, start: date, end: date) -> tuple[int, ...]:
        """Years between two dates that the calendar counts by weekends only."""
        return self.calendar.unknown_years_in(start, end)

    def duties(self, state: TicketState) -> list[OpenDuty]:
        """The open duties of one ticket under these rules."""
        schedules = self.schedules  # its calendar, even should ``adopt`` run meanwhile
        return open_duties(state, self.policy, schedules.calendar, schedules=schedules)

    def deadlines(self, state: TicketState) -> list[intake_pb2.DutyDeadline]:
        """The open duties of one ticket as the rows ``refresh`` writes would show them."""
        rows = sorted(
            (_row(state, d) for d in self.duties(state)),
            key=lambda r: (r["due_ms"], r["duty"], r["unit_code"]),
        )
        return [duty_deadline(row) for row in rows]

    def steps(
        self, state: TicketState, duty: OpenDuty, now_ms: int, *, parent_supervises: bool = False
    ) -> list[DomainEvent]:
        """The reminders and escalations of the owing unit's ``duty`` owed at ``now_ms``."""
        schedules = self.schedules
        return steps_due(
            state,
            duty,
            now_ms,
            schedules.calendar,
            schedules=schedules,
            grace_ms=self.grace_ms,
            parent_supervises=parent_supervises,
        )

    def supervision_steps(
        self,
        state: TicketState,
        duty: OpenDuty,
        now_ms: int,
        depth: int,
        *,
        parent_supervises: bool = False,
    ) -> list[DomainEvent]:
        """The escalations a node ``depth`` levels above ``duty``'s unit records at ``now_ms``."""
        schedules = self.schedules
        return list(
            supervision_steps_due(
                state,
                duty,
                now_ms,
                schedules.calendar,
                depth=depth,
                grace_ms=self.grace_ms,
                schedules=schedules,
                parent_supervises=parent_supervises,
            )
        )

    def refresh(
        self,
        conn: Connection,
        states: Iterable[TicketState],
        *,
        existing: Collection[str] | None = None,
    ) -> None:
        """Replace the obligation rows of ``states`` (called in the projection's transaction).

        ``existing`` names the tickets that may already have rows (None: any of them); a
        ticket new in this transaction has none to delete, which keeps intake's hot path to
        one cheap check per registration.
        """
        changed = list(states)
        if not changed:
            return
        _DELETE_ROWS.run(
            conn, [s.ticket_id for s in changed if existing is None or s.ticket_id in existing]
        )
        _INSERT_ROWS.run(conn, [_row(state, d) for state in changed for d in self.duties(state)])


def _row(state: TicketState, duty: OpenDuty) -> dict[str, Any]:
    ob = duty.obligation
    climbed = [e for e in state.escalations if e.duty is ob.duty and e.from_unit == ob.unit_code]
    top = max(climbed, key=lambda e: e.level, default=None)
    return {
        "ticket_id": ob.ticket_id,
        "duty": ob.duty.value,
        "unit_code": ob.unit_code,
        "started_ms": ob.started_ms,
        "due_ms": ob.due_ms,
        "policy_version": ob.policy_version,
        "next_at_ms": duty.next_at_ms or NOTHING_DUE,
        "escalate_at_ms": duty.escalate_at_ms or NOTHING_DUE,
        "escalation_level": top.level if top else 0,
        "escalated_to": top.to_unit if top else "",
        "provisional": provisional_text(ob.unknown_years),
    }


def provisional_text(years: Iterable[int]) -> str:
    """The ``provisional`` column of a due date counted over ``years`` by weekends only:
    ``"2027"``, ``"2027 2028"``; ``""`` for a final date."""
    return " ".join(str(y) for y in sorted(years))


def provisional_years(text: str) -> list[int]:
    """The years a ``provisional`` column names (none for a final date)."""
    return [int(y) for y in text.split()]


def duty_deadline(row: Mapping[Any, Any]) -> intake_pb2.DutyDeadline:
    """One obligations row as an officer is shown it: due time, provisional mark, escalation."""
    years = provisional_years(row["provisional"])
    return intake_pb2.DutyDeadline(
        ticket_id=row["ticket_id"],
        duty=row["duty"],
        unit_code=row["unit_code"],
        started_ms=row["started_ms"],
        due_ms=row["due_ms"],
        policy_version=row["policy_version"],
        provisional=bool(years),
        unknown_years=years,
        escalation_level=row["escalation_level"],
        escalated_to=row["escalated_to"],
    )


_WITHOUT_DUTIES = (TicketStatus.UNKNOWN, TicketStatus.DUPLICATE)
"""Ticket statuses that leave no duty open: every other can (a walk-in still registered at its
county owes its acceptance decision, a closed complaint its callback, a returned ticket the
report on a supervision order)."""


def recompute_obligations(conn: Connection, deadlines: DeadlineRules) -> int:
    """Derive every open obligation afresh under ``deadlines``; returns the tickets read.

    Run when the rules change, never on the hot path: by the flush of the writer transaction
    that takes a rule book in, after the views of its other tickets are written, with the
    rules that transaction staged (``node.desks.province_rules.ProvinceRules.adopt``).
    """
    conn.execute(delete(obligations))
    count = 0
    batch: list[TicketState] = []
    rows = conn.execute(
        select(tickets.c.state).where(tickets.c.status.not_in([s.value for s in _WITHOUT_DUTIES]))
    )
    for row in rows:
        view = ticket_pb2.Ticket()
        view.ParseFromString(row.state)
        batch.append(from_message(TicketState, view))
        count += 1
        if len(batch) >= 500:
            deadlines.refresh(conn, batch, existing=())
            batch = []
    deadlines.refresh(conn, batch, existing=())
    return count
