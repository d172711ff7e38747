"""Intake (登记): registering tickets once.

Registration must never lose a ticket and never make two of one call. A client names each
request with its own id; the id is stored in the same transaction as the registration event,
so a retry after a timeout returns the ticket already made. A submission on the same matter as
an open ticket (same phone, same business, same facts) is registered but linked to the earlier
ticket instead of being handled twice (DOMAIN.md §4). An emergency (food poisoning, a safety
hazard, a price surge in a crisis: ``core.incidents.EmergencyRule``) is escalated to the
province in the same transaction as its registration, by the node's system officer, so it is in
the province's queue as soon as the ticket reaches the province (DOMAIN.md §6). What a level
adds to a registration (a province routes a campaign's tickets at once) comes in as
``RegistrationHook``s from its profile, and runs in the same transaction. The answer carries the
new ticket's deadlines as its registration's transaction left them, a due date counted over a
year the calendar does not know marked provisional (暂定). A complaint or a report gets a
consumer's verification code (查询码) in the same transaction: the code is answered once, only
its keyed hash is kept, on this node (``node.access.codes``; docs/security.md, "Consumer
access"). A complaint whose consumer chose the ODR green channel (``odr_green_channel``) is
registered together with the opening of its dispute, read off the ODR roster in the same
transaction: it goes straight to the enterprise's county, without dispatch and without the
level's hooks (docs/odr.md); a respondent not routable on the roster refuses the registration.

The writer thread is the node's narrowest point (issue 14), so a registration does there only
what needs the chain: the filer's look-up digests and the fingerprint are made before the job,
and whether a request id or a matter is already held is read once per writer group
(``node.desks.registration_reads``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Table

from core.errors import InvalidInput
from core.incidents import EmergencyRule, emergency_destination, emergency_reasons
from core.odr.dispute_decisions import open_dispute
from core.odr.roster import EMPTY_ROSTER, OdrRoster
from core.officers import Officer, system_officer
from core.personal import MaskedConsumer, mask_consumer
from core.ticket.commands import RegisterTicket
from core.ticket.decisions import DecisionContext, register_ticket
from core.ticket.events import EmergencyEscalated
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import Respondent, TicketKind
from node.access.codes import CodeKey
from node.app.clock import Clock
from node.desks.registration_reads import RegistrationReads
from node.desks.roster import Roster
from node.storage.tables import consumer_codes, ticket_fingerprints, ticket_requests
from node.views.obligations import DeadlineRules
from node.views.tickets import encode_state
from proto.hotline.v1 import intake_pb2
from sync.personal.shelf import Lookups, SealShelf, lookups_of
from sync.writer import LogBatch, LogWriter

OdrRosterReader = Callable[[Connection], OdrRoster]
"""Reads the ODR roster this node holds, in the registration's transaction."""


def no_odr_roster(conn: Connection) -> OdrRoster:
    """The roster of a node wired without one: nobody is routable to the green channel."""
    return EMPTY_ROSTER


RegistrationHook = Callable[[LogBatch, str, DecisionContext], None]
"""What a level does with a newly registered ticket (not a duplicate) in the registration's
own writer job: ``hook(batch, ticket_id, context)``."""

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
FOLLOWED_BY_CONSUMER = frozenset({TicketKind.COMPLAINT, TicketKind.REPORT, TicketKind.COMPOSITE})
"""Kinds of tickets a consumer follows, and so gets a verification code for (consultations
are answered at once; suggestions expect no answer)."""

_OPEN = {
    TicketStatus.REGISTERED,
    TicketStatus.ROUTED,
    TicketStatus.RETURNED,
    TicketStatus.IN_HANDLING,
}


def same_matter(phone_key: str, respondent: Respondent, facts: str) -> str:
    """What makes two submissions "the same matter": the filer's phone (as its keyed digest,
    never the number), the business and the facts, normalized."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", facts)).lower()
    business = respondent.credit_code.strip().upper() or respondent.name.strip()
    key = "\x1f".join((phone_key, business, text))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def matter_fingerprint(command: RegisterTicket, lookups: Lookups) -> str:
    """``same_matter`` of a registration command, given its filer's look-up digests."""
    return same_matter(lookups.phone_key, command.respondent, command.facts)


@dataclass(frozen=True)
class Registration:
    """The outcome of a registration request: the ticket, its encoded view, its deadlines."""

    ticket_id: str
    replayed: bool
    view: bytes
    """The ticket as registered, a serialized ``hotline.v1.Ticket``."""
    deadlines: tuple[intake_pb2.DutyDeadline, ...] = ()
    """Its open duties, as the obligations rows of its transaction (none awaiting dispatch)."""
    consumer_code: str = ""
    """The consumer's verification code, issued now (a replay issues a new one); '' when the
    kind of ticket gets none, or the node keeps no codes."""
    masked: MaskedConsumer | None = None
    """The filer as the answer shows them (张*, 139****0001), from the command in hand; None
    for a replay (the stored ticket's seal says) or a registration without personal data."""
    odr: bool = False
    """True when the ticket went to the enterprise through the ODR green channel."""


class IntakeDesk:
    """Registers tickets through the log writer."""

    def __init__(
        self,
        writer: LogWriter,
        roster: Roster,
        clock: Clock,
        emergencies: EmergencyRule | None = None,
        hooks: Sequence[RegistrationHook] = (),
        deadlines: DeadlineRules | None = None,
        codes: CodeKey | None = None,
        *,
        shelf: SealShelf,
        odr_roster: OdrRosterReader = no_odr_roster,
    ) -> None:
        self._writer = writer
        self.odr_roster = odr_roster
        """Reads the ODR roster for a green-channel registration (``node.enrolment.roster``)."""
        self._shelf = shelf
        """Seals each registration's personal data before it is signed (never in the log)."""
        self._lookup_key = shelf.lookup_key
        self._codes = codes
        self._roster = roster
        self._clock = clock
        self.emergencies = emergencies if emergencies is not None else EmergencyRule()
        """The categories and words that make a ticket an emergency on this node."""
        self._hooks = tuple(hooks)
        self._deadlines = deadlines
        self._reads = RegistrationReads()
        """The committed rows the jobs ask about, read once per writer group."""

    def _registration_job(
        self,
        request_id: str,
        command: RegisterTicket,
        officer: Officer,
        code: str = "",
        new_code_on_replay: bool = True,
    ) -> tuple[Callable[[LogBatch], tuple[str, bool, dict[str, bytes], TicketState]], str]:
        """The writer job of one registration, and its same-matter fingerprint."""
        if not _REQUEST_ID.match(request_id):
            raise InvalidInput("request_id", "8 to 64 letters, digits or _.:- characters")
        ctx = DecisionContext(self._roster.units, self._clock.now())
        # Checked here, outside the writer, so bad input fails fast and queues nothing.
        draft = register_ticket(command, officer, ctx, ticket_id="")
        green = command.odr_green_channel
        if green and draft.kind is not TicketKind.COMPLAINT:
            open_dispute(draft, EMPTY_ROSTER)  # refuses, naming the field, before any write
        # Made here, off the writer, once: for the fingerprint and for the look-up row the
        # seal shelf keeps (two keyed digests fewer on the writer per registration).
        lookups = lookups_of(self._lookup_key(), command.consumer)
        fingerprint = matter_fingerprint(command, lookups)
        reasons = emergency_reasons(draft, self.emergencies)
        emergency = EmergencyEscalated(reasons, emergency_destination(draft)) if reasons else None
        system = system_officer(self._roster.own_unit())
        issued_ms = int(ctx.now.timestamp() * 1000)

        def keep_code(batch: LogBatch, ticket_id: str) -> None:
            if code and self._codes is not None:
                batch.upsert(
                    consumer_codes,
                    {
                        "ticket_id": ticket_id,
                        "code_hash": self._codes.hash(ticket_id, code),
                        "key_id": self._codes.key_id,
                        "issued_ms": issued_ms,
                        "failures": 0,
                        "locked_until_ms": 0,
                    },
                )

        def job(batch: LogBatch) -> tuple[str, bool, dict[str, bytes], TicketState]:
            seen = _buffered(batch, ticket_requests, "request_id", request_id)
            if seen is None:
                seen = self._reads.ticket_of_request(batch, request_id)
            if seen is not None:
                if new_code_on_replay:
                    keep_code(batch, seen)
                state = batch.state_of(seen)
                return seen, True, {seen: encode_state(state)}, state
            duplicate_of = _buffered(batch, ticket_fingerprints, "fingerprint", fingerprint)
            if duplicate_of is None:
                earlier = self._reads.same_matter(batch, fingerprint)
                if earlier is not None and TicketStatus(earlier[1]) in _OPEN:
                    duplicate_of = earlier[0]
            ticket_id = f"{batch.identity.node_id}-{batch.next_seq():06d}"
            event = replace(draft, ticket_id=ticket_id, duplicate_of=duplicate_of or "")
            event = self._shelf.seal_registration(batch, event, lookups)
            batch.record(ticket_id, [event], officer.ref(), state=TicketState(ticket_id))
            batch.insert(ticket_requests, {"request_id": request_id, "ticket_id": ticket_id})
            keep_code(batch, ticket_id)
            if duplicate_of:
                return ticket_id, False, batch.views, batch.state_of(ticket_id)
            if green:
                # Read in this transaction: the roster the registration is judged by is the
                # one it commits with. A refusal rolls the whole job back.
                opened = open_dispute(draft, self.odr_roster(batch.conn))
                batch.record(ticket_id, [opened], officer.ref())
            if emergency is not None:
                batch.record(ticket_id, [emergency], system)
            for hook in () if green else self._hooks:
                hook(batch, ticket_id, ctx)
            batch.upsert(ticket_fingerprints, {"fingerprint": fingerprint, "ticket_id": ticket_id})
            # The batch fills its views when it flushes; the state is the one they are made of.
            return ticket_id, False, batch.views, batch.state_of(ticket_id)

        return job, fingerprint

    async def register(
        self, request_id: str, command: RegisterTicket, officer_id: str
    ) -> Registration:
        """Register a ticket (or return the one this request already made)."""
        return await self.register_as(request_id, command, await self._roster.resolve(officer_id))

    async def register_as(
        self,
        request_id: str,
        command: RegisterTicket,
        officer: Officer,
        *,
        new_code_on_replay: bool = True,
    ) -> Registration:
        """``register`` in the name of an officer who is on no roster: the node's own web
        channel (``core.officers.web_channel``), for a complaint filed on a consumer's page.

        ``new_code_on_replay=False``: a replay issues no new code and the first one stays
        valid. The open door's choice: whoever learns a request id must not get a code for
        the ticket by sending it again (an officer's desk, signed in, reissues one)."""
        followed = self._codes is not None and command.kind in FOLLOWED_BY_CONSUMER
        code = self._codes.new_code() if followed and self._codes is not None else ""
        job, fingerprint = self._registration_job(
            request_id, command, officer, code, new_code_on_replay
        )
        with self._reads.waiting(request_id, fingerprint):
            ticket_id, replayed, views, state = await self._writer.run(job)
        if replayed and not new_code_on_replay:
            code = ""
        # What the projection wrote as its obligations rows: the same rules on the same state.
        deadlines = () if self._deadlines is None else tuple(self._deadlines.deadlines(state))
        masked = None if replayed or command.consumer.empty else mask_consumer(command.consumer)
        odr = state.dispute is not None
        return Registration(ticket_id, replayed, views[ticket_id], deadlines, code, masked, odr)


def _buffered(batch: LogBatch, table: Table, key: str, value: str) -> str | None:
    """The ticket id of a row of ``table`` with ``key == value`` buffered in this batch."""
    for row in batch.pending(table):
        if row[key] == value:
            return str(row["ticket_id"])
    return None
