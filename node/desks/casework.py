"""Casework: carrying out an officer's handling step on a ticket (DOMAIN.md §4-§5).

The step is decided against the ticket's current state inside the log writer, so two steps
on one ticket can never both pass a check that only one of them should (the writer is the
only place state changes). On success the step is signed events; on refusal nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import NotFound
from core.officers import Officer
from core.ticket.commands import TicketCommand
from core.ticket.decisions import DecisionContext, decide
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty
from node.app.clock import Clock
from node.desks.roster import Roster
from node.views.obligations import DeadlineRules
from sync.writer import LogBatch, LogWriter


@dataclass(frozen=True)
class StepOutcome:
    """The ticket after a step and the events the step recorded."""

    view: bytes
    """The ticket after the step, a serialized ``hotline.v1.Ticket``."""
    event_ids: tuple[str, ...]


class CaseworkDesk:
    """Runs handling steps through the node's log writer."""

    def __init__(
        self,
        writer: LogWriter,
        roster: Roster,
        clock: Clock,
        deadlines: DeadlineRules | None = None,
    ) -> None:
        self._writer = writer
        self._roster = roster
        self._clock = clock
        self._deadlines = deadlines

    def _extension_room(self, state: TicketState, duty: Duty) -> int | None:
        """What the time-limit table still lets the pending extension of ``duty`` add."""
        pending = state.pending_extension(duty)
        if self._deadlines is None or pending is None:
            return None
        for open_duty in self._deadlines.duties(state):
            ob = open_duty.obligation
            if ob.duty is duty and ob.unit_code == pending.requested_unit:
                if ob.max_extension_days is None:
                    return None
                return max(0, ob.max_extension_days - ob.extension_days)
        return None

    async def act(self, ticket_id: str, command: TicketCommand, officer_id: str) -> StepOutcome:
        """Decide ``command`` on the ticket as ``officer_id`` and record the events."""
        return await self.act_as(ticket_id, command, await self._roster.resolve(officer_id))

    async def act_as(self, ticket_id: str, command: TicketCommand, officer: Officer) -> StepOutcome:
        """``act`` in the name of an officer who is on no roster: the node's own web channel
        (``core.officers.web_channel``), for a consumer's rating on their own page."""
        ctx = DecisionContext(self._roster.units, self._clock.now(), self._extension_room)

        def job(batch: LogBatch) -> tuple[tuple[str, ...], dict[str, bytes]]:
            state = batch.state_of(ticket_id)
            if state.version == 0:
                raise NotFound(f"no ticket {ticket_id!r} on this node")
            events = decide(state, command, officer, ctx)
            sealed = batch.record(ticket_id, events, officer.ref(), state=state)
            return tuple(e.event_id for e in sealed), batch.views  # filled when it flushes

        event_ids, views = await self._writer.run(job)
        return StepOutcome(views[ticket_id], event_ids)
