"""Intake (登记): registering tickets once, and reading them back.

Registration must never lose a ticket and never make two of one call. A client names each
request with its own id; the id is stored in the same transaction as the registration event,
so a retry after a timeout returns the ticket already made. A submission on the same matter as
an open ticket (same phone, same business, same facts) is registered but linked to the earlier
ticket instead of being handled twice (DOMAIN.md §4). An emergency (food poisoning, a safety
hazard, a price surge in a crisis: ``core.incidents.EmergencyRule``) is escalated to the
province in the same transaction as its registration, by the node's system officer, so it is in
the province's queue as soon as the ticket reaches the province (DOMAIN.md §6).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from google.protobuf.json_format import MessageToDict
from sqlalchemy import Column, String, Table, bindparam, select

from core.deadlines.rulebook import Campaign
from core.errors import DomainError, InvalidInput, NotFound
from core.incidents import EmergencyRule, emergency_destination, emergency_reasons
from core.officers import Officer, Role
from core.ticket.commands import RegisterTicket, RouteTicket
from core.ticket.decisions import DecisionContext, decide, register_ticket
from core.ticket.events import EmergencyEscalated
from core.ticket.fold import fold
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import TicketKind
from core.units import UnitLevel
from node.clock import Clock
from node.database import Database
from node.projection import encode_state, tickets
from node.roster import Roster
from node.sweeps import sweep_officer
from proto.hotline.v1 import intake_pb2, ticket_pb2
from sync.codec import enum_number, fill_message
from sync.envelope import EVENT_CLASSES, EVENT_MESSAGES, SealedEvent
from sync.log_store import EventLog
from sync.schema import metadata
from sync.statements import DriverQuery
from sync.writer import LogBatch, LogWriter

ticket_requests = Table(
    "ticket_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
)

ticket_fingerprints = Table(
    "ticket_fingerprints",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
)

log = logging.getLogger(__name__)

CampaignFinder = Callable[[TicketState], Campaign | None]
"""The running campaign a ticket falls under, if any (``node.rules.ProvinceRules.campaign_of``)."""

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_OPEN = {
    TicketStatus.REGISTERED,
    TicketStatus.ROUTED,
    TicketStatus.RETURNED,
    TicketStatus.IN_HANDLING,
}


def matter_fingerprint(command: RegisterTicket) -> str:
    """What makes two submissions "the same matter": phone, business and facts, normalized."""
    facts = re.sub(r"\s+", "", unicodedata.normalize("NFKC", command.facts)).lower()
    business = command.respondent.credit_code.strip().upper() or command.respondent.name.strip()
    key = "\x1f".join((command.consumer.phone.strip(), business, facts))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


_REQUEST_SEEN = DriverQuery(
    select(ticket_requests.c.ticket_id).where(
        ticket_requests.c.request_id == bindparam("request_id")
    )
)
_SAME_MATTER = DriverQuery(
    select(ticket_fingerprints.c.ticket_id, tickets.c.status)
    .join(tickets, tickets.c.ticket_id == ticket_fingerprints.c.ticket_id)
    .where(ticket_fingerprints.c.fingerprint == bindparam("fingerprint"))
)


@dataclass(frozen=True)
class Registration:
    """The outcome of a registration request: the ticket and its encoded view."""

    ticket_id: str
    replayed: bool
    view: bytes
    """The ticket as registered, a serialized ``hotline.v1.Ticket``."""


class IntakeDesk:
    """Registers tickets through the log writer and answers reads from snapshots."""

    def __init__(
        self,
        db: Database,
        writer: LogWriter,
        roster: Roster,
        clock: Clock,
        emergencies: EmergencyRule | None = None,
        campaigns: CampaignFinder | None = None,
    ) -> None:
        self._db = db
        self._writer = writer
        self._roster = roster
        self._clock = clock
        self.emergencies = emergencies if emergencies is not None else EmergencyRule()
        """The categories and words that make a ticket an emergency on this node."""
        self._campaigns = campaigns
        """The running campaigns of the province rule book: at the province, a matching ticket
        is routed by jurisdiction in its registration's transaction (DOMAIN.md §5)."""

    def _registration_job(
        self, request_id: str, command: RegisterTicket, officer_id: str
    ) -> Callable[[LogBatch], tuple[str, bool, dict[str, bytes]]]:
        officer = self._roster.officer(officer_id)
        if not _REQUEST_ID.match(request_id):
            raise InvalidInput("request_id", "8 to 64 letters, digits or _.:- characters")
        ctx = DecisionContext(self._roster.units, self._clock.now())
        # Checked here, outside the writer, so bad input fails fast and queues nothing.
        draft = register_ticket(command, officer, ctx, ticket_id="")
        fingerprint = matter_fingerprint(command)
        reasons = emergency_reasons(draft, self.emergencies)
        emergency = EmergencyEscalated(reasons, emergency_destination(draft)) if reasons else None

        def job(batch: LogBatch) -> tuple[str, bool, dict[str, bytes]]:
            seen = _buffered(batch, ticket_requests, "request_id", request_id)
            if seen is None:
                row = _REQUEST_SEEN.first(batch.conn, request_id=request_id)
                seen = None if row is None else row[0]
            if seen is not None:
                return seen, True, {seen: encode_state(batch.state_of(seen))}
            duplicate_of = _buffered(batch, ticket_fingerprints, "fingerprint", fingerprint)
            if duplicate_of is None:
                earlier = _SAME_MATTER.first(batch.conn, fingerprint=fingerprint)
                if earlier is not None and TicketStatus(earlier[1]) in _OPEN:
                    duplicate_of = earlier[0]
            ticket_id = f"{batch.identity.node_id}-{batch.next_seq():06d}"
            event = replace(draft, ticket_id=ticket_id, duplicate_of=duplicate_of or "")
            batch.record(ticket_id, [event], officer.ref(), state=TicketState(ticket_id))
            if emergency is not None and not duplicate_of:
                batch.record(ticket_id, [emergency], sweep_officer(self._roster.own_unit()))
            if not duplicate_of:
                self._route_campaign_ticket(batch, ticket_id, ctx)
            batch.insert(ticket_requests, {"request_id": request_id, "ticket_id": ticket_id})
            if not duplicate_of:
                batch.upsert(
                    ticket_fingerprints, {"fingerprint": fingerprint, "ticket_id": ticket_id}
                )
            return ticket_id, False, batch.views  # the batch fills its views when it flushes

        return job

    def _route_campaign_ticket(self, batch: LogBatch, ticket_id: str, ctx: DecisionContext) -> None:
        """Route a ticket of a running campaign at once, if this node dispatches for a province.

        Signed by the node's system officer as dispatcher. A ticket that cannot be routed by
        jurisdiction alone (an unclear address) stays registered for the dispatchers.
        """
        own = self._roster.own_unit()
        if self._campaigns is None or own.level is not UnitLevel.PROVINCE:
            return
        state = batch.state_of(ticket_id)
        campaign = self._campaigns(state)
        if campaign is None:
            return
        system = sweep_officer(own)
        dispatcher = Officer(
            system.officer_id, system.name, own.code, own.level, frozenset({Role.DISPATCHER})
        )
        note = f"专项 {campaign.name}: 即时分流 (campaign {campaign.campaign_id})"
        try:
            events = decide(state, RouteTicket(note=note), dispatcher, ctx)
        except DomainError as exc:
            log.info("campaign ticket %s left for the dispatchers: %s", ticket_id, exc)
            return
        batch.record(ticket_id, events, system, state=state)

    async def register(
        self, request_id: str, command: RegisterTicket, officer_id: str
    ) -> Registration:
        """Register a ticket (or return the one this request already made)."""
        job = self._registration_job(request_id, command, officer_id)
        ticket_id, replayed, views = await self._writer.run(job)
        return Registration(ticket_id, replayed, views[ticket_id])

    def get(self, ticket_id: str) -> ticket_pb2.Ticket:
        """The ticket's state as projected on this node."""
        with self._db.read() as conn:
            row = conn.execute(
                select(tickets.c.state).where(tickets.c.ticket_id == ticket_id)
            ).scalar()
        if row is None:
            raise NotFound(f"no ticket {ticket_id!r} on this node")
        ticket = ticket_pb2.Ticket()
        ticket.ParseFromString(row)
        return ticket

    def list(self, request: intake_pb2.ListTicketsRequest) -> intake_pb2.ListTicketsResponse:
        """A page of ticket summaries, newest first."""
        size = min(request.page_size or 50, 500)
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
        offset = 0
        if request.page_token:
            if not request.page_token.isdigit():
                raise InvalidInput("page_token", "not a token from a previous page")
            offset = int(request.page_token)
        with self._db.read() as conn:
            rows = conn.execute(query.offset(offset).limit(size + 1)).all()
        response = intake_pb2.ListTicketsResponse()
        for r in rows[:size]:
            summary = response.tickets.add(
                ticket_id=r.ticket_id,
                holder_unit=r.holder_unit,
                assigned_station=r.assigned_station,
                respondent_name=r.respondent_name,
                category=r.category,
                dispatch_count=r.dispatch_count,
                in_conflict=r.in_conflict,
                version=r.version,
            )
            summary.kind = enum_number(TicketKind(r.kind) if r.kind else None)
            summary.status = enum_number(TicketStatus(r.status))
            summary.received_at.FromMilliseconds(r.received_ms)
        if len(rows) > size:
            response.next_page_token = str(offset + size)
        return response

    def history(self, ticket_id: str) -> intake_pb2.TicketHistory:
        """Every event of the ticket held here, in fold order, with signer and signature check."""
        with self._db.read() as conn:
            log = EventLog(conn)
            sealed = log.ticket_events(ticket_id)
            if not sealed:
                raise NotFound(f"no ticket {ticket_id!r} on this node")
        trust = self._writer.trust
        keys = {
            c.key_id: c.event_public_key
            for c in (trust.certificates_for(e.signer_key_id for e in sealed) if trust else ())
        }
        return history_of(ticket_id, sealed, keys)


def _buffered(batch: LogBatch, table: Table, key: str, value: str) -> str | None:
    """The ticket id of a row of ``table`` with ``key == value`` buffered in this batch."""
    for row in batch.pending(table):
        if row[key] == value:
            return str(row["ticket_id"])
    return None


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
