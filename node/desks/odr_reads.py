"""The ODR desk's reads: an enterprise's disputes, its figures, and what supervision counts.

A mixin of ``node.desks.odr.OdrDesk`` (its database, pool, clock and rules): ListDisputes and
GetPerformance of OdrService, and ``disputes_opened`` for the county's supervision of its ODR
units (enrolment's ``DisputeReader``). The disputes are read off the tickets view by its
``odr_credit_code`` column; reading changes nothing and records no look (no contact is shown).
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.errors import InvalidInput
from core.odr.dispute_performance import record_of
from core.odr.standing import DisputeRecord, figures_of
from core.ticket.state import TicketState
from node.storage.tables import tickets
from node.views.odr import dispute_message, odr_due_ms
from proto.hotline.v1 import odr_pb2, ticket_pb2
from sync.codec import from_message

if TYPE_CHECKING:
    from node.app.blocking import BlockingPool
    from node.app.clock import Clock
    from node.desks.odr import OdrCaller
    from node.storage.database import Database
    from node.views.obligations import DeadlineRules

MAX_PAGE = 200
PERFORMANCE_DAYS = 90
"""The period of GetPerformance when none is given."""
DAY_MS = 86_400_000


def _page_start(token: str) -> int:
    """Where a page starts in the list, from the previous page's token."""
    if not token:
        return 0
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("page_token", "not a token from a previous page") from None
    if start < 0:
        raise InvalidInput("page_token", "not a token from a previous page")
    return start


class DisputeReads:
    """ListDisputes, GetPerformance and supervision's count (a mixin of ``OdrDesk``)."""

    if TYPE_CHECKING:
        _db: Database
        _blocking: BlockingPool
        _clock: Clock
        _deadlines: DeadlineRules

    async def list_disputes(
        self, caller: OdrCaller, include_closed: bool, page_size: int, page_token: str
    ) -> odr_pb2.ListDisputesResponse:
        """The enterprise's disputes held here: open ones first, nearest deadline first, then
        ended ones, latest first; without history."""
        if not 0 <= page_size <= MAX_PAGE:
            raise InvalidInput("page_size", f"must be from 1 to {MAX_PAGE} (0: 50)")
        start = _page_start(page_token)
        size = page_size or 50
        now_ms = self._clock.wall_ms()
        states = await self._blocking.run(self.enterprise_states, caller.principal.scope)
        shown = [
            dispute_message(s, now_ms=now_ms, rules=self._deadlines, with_history=False)
            for s in states
            if include_closed or (s.dispute is not None and s.dispute.open)
        ]
        shown.sort(key=_list_order)
        page = shown[start : start + size]
        response = odr_pb2.ListDisputesResponse(disputes=page)
        if start + size < len(shown):
            response.next_page_token = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return response

    async def performance(
        self, caller: OdrCaller, start_ms: int | None, end_ms: int | None
    ) -> odr_pb2.EnterpriseStanding:
        """The enterprise's figures for [start, end) (default: the last 90 days up to now);
        the verdict is left unset (the county's supervision gives it)."""
        end = end_ms if end_ms is not None else self._clock.wall_ms() + 1  # now included
        start = start_ms if start_ms is not None else end - PERFORMANCE_DAYS * DAY_MS
        if start >= end:
            raise InvalidInput("period_start", "must be before period_end")
        code = caller.principal.scope
        states = await self._blocking.run(self.enterprise_states, code)
        rules = self._deadlines
        records = [
            record_of(s.ticket_id, s.dispute, odr_due_ms(s, rules))
            for s in states
            if s.dispute is not None
        ]
        counted = figures_of(code, records, start, end)
        name = next((s.dispute.enterprise_name for s in states if s.dispute is not None), "")
        standing = odr_pb2.EnterpriseStanding(
            credit_code=code,
            enterprise_name=name,
            received=counted.received,
            answered_in_time=counted.answered_in_time,
            settled=counted.settled,
            accepted=counted.accepted,
            converted=counted.converted,
        )
        standing.period_start.FromMilliseconds(start)
        standing.period_end.FromMilliseconds(end)
        return standing

    def disputes_opened(self, start_ms: int, end_ms: int) -> list[DisputeRecord]:
        """Every dispute held here opened in [start_ms, end_ms), as supervision counts it
        (blocking; enrolment's ``DisputeReader``: ``core.odr.standing``)."""
        with self._db.read() as conn:
            # A dispute opens when its ticket is registered, never before it was received.
            rows = conn.execute(
                select(tickets.c.state).where(
                    tickets.c.odr_credit_code != "", tickets.c.received_ms < end_ms
                )
            ).scalars()
            states = [from_message(TicketState, ticket_pb2.Ticket.FromString(b)) for b in rows]
        records = [
            record_of(s.ticket_id, s.dispute, odr_due_ms(s, self._deadlines))
            for s in states
            if s.dispute is not None
        ]
        return [r for r in records if start_ms <= r.opened_ms < end_ms]

    def enterprise_states(self, credit_code: str) -> list[TicketState]:
        """The folded states of the enterprise's disputes held on this node.

        Read off the tickets view by its ``odr_credit_code`` column.
        """
        with self._db.read() as conn:
            rows = conn.execute(
                select(tickets.c.state).where(tickets.c.odr_credit_code == credit_code)
            ).scalars()
            return [from_message(TicketState, ticket_pb2.Ticket.FromString(b)) for b in rows]


def _list_order(d: odr_pb2.Dispute) -> tuple[int, int, str]:
    """Open first by nearest deadline, then ended ones latest first."""
    is_open = d.status in (odr_pb2.DISPUTE_STATUS_NEGOTIATING, odr_pb2.DISPUTE_STATUS_PROPOSED)
    if is_open:
        return (0, d.due_at.ToMilliseconds() if d.HasField("due_at") else 0, d.ticket_id)
    return (1, -d.opened_at.ToMilliseconds(), d.ticket_id)
