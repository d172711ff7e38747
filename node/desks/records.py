"""Reading tickets (查询): one ticket, a page of tickets, a ticket's signed history, its deadlines.

Reads come from snapshots of the views and the log, on the node's blocking pool so the event
loop never waits on the database or on the signature checks of a long history. Pages are
keyed on (received time, ticket id), newest first: a page token names the last ticket of the
page before, so tickets that arrive meanwhile never make a ticket appear twice or be skipped.
A ticket's deadlines are its rows in the obligations view, provisional ones marked (暂定).
"""

from __future__ import annotations

import base64
import json

from google.protobuf.json_format import MessageToDict
from sqlalchemy import and_, or_, select

from core.errors import InvalidInput, NotFound
from core.ticket.fold import fold
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import TicketKind
from node.app.blocking import BlockingPool
from node.storage.database import Database
from node.storage.tables import obligations, tickets
from node.views.obligations import duty_deadline
from proto.hotline.v1 import intake_pb2, ticket_pb2
from sync.codec import enum_number, fill_message, from_message
from sync.envelope import EVENT_CLASSES, EVENT_MESSAGES, SealedEvent
from sync.log_store import EventLog
from sync.personal.shelf import SealShelf
from sync.personal.suites import SealBroken
from sync.trust import TrustStore

MAX_PAGE = 500
"""Most tickets a page holds, whatever the caller asks for."""


def page_token(received_ms: int, ticket_id: str) -> str:
    """The token of the page after the ticket (``received_ms``, ``ticket_id``)."""
    return base64.urlsafe_b64encode(f"{received_ms}:{ticket_id}".encode()).decode()


def _after(token: str) -> tuple[int, str]:
    """The (received time, ticket id) a page token names; ``InvalidInput`` if it is none."""
    try:
        received, ticket_id = base64.urlsafe_b64decode(token.encode()).decode().split(":", 1)
        return int(received), ticket_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("page_token", "not a token from a previous page") from None


class TicketRecords:
    """Answers reads of tickets held on this node."""

    def __init__(
        self,
        db: Database,
        blocking: BlockingPool,
        trust: TrustStore | None,
        shelf: SealShelf | None = None,
    ) -> None:
        self._db = db
        self._blocking = blocking
        self._trust = trust
        self._shelf = shelf
        """Where the filer's sealed data is opened for the masked view (None: never shown)."""

    async def get(self, ticket_id: str) -> ticket_pb2.Ticket:
        """The ticket's state as projected on this node, its filer masked (张*, 139****0001)."""
        return await self._blocking.run(self._get_masked, ticket_id)

    async def masked(self, ticket: ticket_pb2.Ticket) -> ticket_pb2.Ticket:
        """``ticket`` (a view just written) with its filer masked, as ``get`` answers."""
        return await self._blocking.run(self._masked, ticket)

    def _get_masked(self, ticket_id: str) -> ticket_pb2.Ticket:
        return self._masked(self._get(ticket_id))

    def _masked(self, ticket: ticket_pb2.Ticket) -> ticket_pb2.Ticket:
        """Fill the registration's consumer with the masked values and say what is held here
        (``personal_status``). The clear values never leave this function's locals."""
        status = ticket_pb2.PERSONAL_DATA_STATUS_NOT_HELD
        if ticket.personal_erased_hlc:
            status = ticket_pb2.PERSONAL_DATA_STATUS_ERASED
        elif self._shelf is not None and ticket.HasField("registration"):
            try:
                with self._db.read() as conn:
                    masked = self._shelf.masked(conn, [ticket.ticket_id]).get(ticket.ticket_id)
            except SealBroken:  # a damaged seal shows nothing (the look-up job deletes it)
                masked = None
            if masked is not None:
                consumer = ticket.registration.consumer
                consumer.name, consumer.phone = masked.name, masked.phone
                consumer.address, consumer.id_number = masked.address, masked.id_number
                status = ticket_pb2.PERSONAL_DATA_STATUS_MASKED
        ticket.personal_status = status
        return ticket

    async def state_of(self, ticket_id: str) -> TicketState | None:
        """The ticket's folded state as projected here (what the edge judges jurisdiction on),
        or None when no such ticket is held here."""
        return await self._blocking.run(self._state_of, ticket_id)

    def _state_of(self, ticket_id: str) -> TicketState | None:
        try:
            ticket = self._get(ticket_id)
        except NotFound:
            return None
        return from_message(TicketState, ticket)

    async def list(self, request: intake_pb2.ListTicketsRequest) -> intake_pb2.ListTicketsResponse:
        """A page of ticket summaries, newest first, each filer masked (张*, 139****0001)."""
        return await self._blocking.run(self._list, request)

    async def history(self, ticket_id: str) -> intake_pb2.TicketHistory:
        """Every event of the ticket held here, in fold order, with signer and signature check."""
        return await self._blocking.run(self._history, ticket_id)

    async def deadlines(self, ticket_id: str) -> intake_pb2.TicketDeadlines:
        """The ticket's open duties on this node, earliest due first."""
        return await self._blocking.run(self._deadlines, ticket_id)

    def _deadlines(self, ticket_id: str) -> intake_pb2.TicketDeadlines:
        with self._db.read() as conn:
            held = conn.execute(
                select(tickets.c.ticket_id).where(tickets.c.ticket_id == ticket_id)
            ).first()
            rows = conn.execute(
                select(obligations)
                .where(obligations.c.ticket_id == ticket_id)
                .order_by(obligations.c.due_ms, obligations.c.duty, obligations.c.unit_code)
            ).all()
        if held is None:
            raise NotFound(f"no ticket {ticket_id!r} on this node")
        return intake_pb2.TicketDeadlines(
            ticket_id=ticket_id, deadlines=[duty_deadline(r._mapping) for r in rows]
        )

    def _get(self, ticket_id: str) -> ticket_pb2.Ticket:
        with self._db.read() as conn:
            row = conn.execute(
                select(tickets.c.state).where(tickets.c.ticket_id == ticket_id)
            ).scalar()
        if row is None:
            raise NotFound(f"no ticket {ticket_id!r} on this node")
        ticket = ticket_pb2.Ticket()
        ticket.ParseFromString(row)
        return ticket

    def _list(self, request: intake_pb2.ListTicketsRequest) -> intake_pb2.ListTicketsResponse:
        size = min(request.page_size or 50, MAX_PAGE)
        query = select(tickets).order_by(tickets.c.received_ms.desc(), tickets.c.ticket_id.desc())
        if request.holder_prefix:
            query = query.where(
                tickets.c.holder_unit.startswith(request.holder_prefix, autoescape=True)
            )
        if request.status:
            name = ticket_pb2.TicketStatus.Name(request.status).removeprefix("TICKET_STATUS_")
            query = query.where(tickets.c.status == name.lower())
        if request.in_conflict_only:
            query = query.where(tickets.c.in_conflict.is_(True))
        if request.page_token:
            received, ticket_id = _after(request.page_token)
            query = query.where(
                or_(
                    tickets.c.received_ms < received,
                    and_(tickets.c.received_ms == received, tickets.c.ticket_id < ticket_id),
                )
            )
        with self._db.read() as conn:
            rows = conn.execute(query.limit(size + 1)).all()
            # One batch for the page; the clear values stay inside ``masked``.
            page = [r.ticket_id for r in rows[:size]]
            filers = self._shelf.masked(conn, page) if self._shelf is not None else {}
        response = intake_pb2.ListTicketsResponse()
        for r in rows[:size]:
            filer = filers.get(r.ticket_id)
            summary = response.tickets.add(
                ticket_id=r.ticket_id,
                holder_unit=r.holder_unit,
                assigned_station=r.assigned_station,
                respondent_name=r.respondent_name,
                category=r.category,
                dispatch_count=r.dispatch_count,
                in_conflict=r.in_conflict,
                version=r.version,
                consumer_name=filer.name if filer else "",
                consumer_phone=filer.phone if filer else "",
            )
            summary.kind = enum_number(TicketKind(r.kind) if r.kind else None)
            summary.status = enum_number(TicketStatus(r.status))
            summary.received_at.FromMilliseconds(r.received_ms)
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_token(last.received_ms, last.ticket_id)
        return response

    def _history(self, ticket_id: str) -> intake_pb2.TicketHistory:
        with self._db.read() as conn:
            sealed = EventLog(conn).ticket_events(ticket_id)
        if not sealed:
            raise NotFound(f"no ticket {ticket_id!r} on this node")
        trust = self._trust
        keys = {
            c.key_id: c.event_public_key
            for c in (trust.certificates_for(e.signer_key_id for e in sealed) if trust else ())
        }
        return history_of(ticket_id, sealed, keys)


def history_of(
    ticket_id: str, sealed: list[SealedEvent], keys: dict[str, bytes]
) -> intake_pb2.TicketHistory:
    """The readable history of one ticket from its sealed events."""
    recorded = {e.event_id: e.recorded() for e in sealed}
    state = fold(ticket_id, recorded.values())
    conflicted = {c.event_id for c in state.conflicts}
    history = intake_pb2.TicketHistory(ticket_id=ticket_id)
    for event in sorted(sealed, key=lambda e: recorded[e.event_id].order_key):
        key = keys.get(event.signer_key_id)
        payload = EVENT_MESSAGES[EVENT_CLASSES[event.event_type]]()
        payload.ParseFromString(event.payload)
        entry = history.entries.add(
            event_id=event.event_id,
            event_type=event.event_type.rsplit(".", 1)[-1],
            origin_node=event.origin_node,
            origin_seq=event.origin_seq,
            hlc=event.hlc,
            signer_key_id=event.signer_key_id,
            signature_valid=key is not None and event.signature_valid(key),
            details=json.dumps(MessageToDict(payload), ensure_ascii=False, sort_keys=True),
            applied=event.event_id not in conflicted,
        )
        entry.recorded_at.FromMilliseconds(event.hlc >> 16)
        fill_message(entry.officer, event.officer)
    return history
