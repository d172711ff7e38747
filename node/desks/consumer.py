"""The consumer's desk (消费者页面): filing online, following one's ticket, rating its handling.

Issue 13, item 4. What a consumer does on their own page goes through the same desks as an
officer's work: a complaint filed online is a registration (``IntakeDesk``, every channel's
checks) and a rating is a callback (``CaseworkDesk``, the ``RecordCallback`` step and its
fold: a DISSATISFIED rating reopens the ticket). Neither was done by an officer: both are
recorded in the name of the node's web channel (``core.officers.web_channel``).

Filing is open to callers without a session, so it is held to a limit per caller address
(token buckets, ``node.access.throttle``): a burst of filings from one address is refused with
RESOURCE_EXHAUSTED and when to retry, before anything is checked or written. A filing that
succeeds keeps its token spent (unlike a sign-in, where only wrong tries count): it is the
filings themselves that must not flood the node.
"""

from __future__ import annotations

from collections.abc import Callable

from core.access.throttle import BucketRule, SignInLimits
from core.errors import NotFound
from core.limits import check_text
from core.odr.dispute import DisputeStatus
from core.odr.dispute_decisions import located_by_roster
from core.odr.roster import OdrRoster
from core.officers import Officer, web_channel
from core.ticket.commands import RecordCallback, RegisterTicket
from core.ticket.consumer_progress import consumer_steps
from core.ticket.events import RecordedEvent
from core.ticket.vocabulary import Satisfaction
from node.access.accounts import SignedIn
from node.access.desk import SignInDesk
from node.access.throttle import Key, SignInThrottle, address_of
from node.app.blocking import BlockingPool
from node.desks.casework import CaseworkDesk
from node.desks.intake import IntakeDesk, Registration
from node.desks.odr import OdrCaller, OdrDesk
from node.desks.records import TicketRecords
from node.desks.roster import Roster
from node.storage.database import Database
from node.views.obligations import DeadlineRules
from node.views.odr import dispute_message
from node.views.progress import ticket_progress
from proto.hotline.v1 import consumer_pb2
from sync.errors import Busy
from sync.log_store import EventLog

FILINGS_PER_ADDRESS = BucketRule(burst=10, per_minute=2)
"""Complaints one caller address may file online in a row, and how fast more. The web front
(``hotline serve-web``) names each visitor's address with its front key (``node.edge.front``)."""
REFUSED_FILINGS = "complaints filed online"
"""How a burst of refused filings is counted in the access record."""


class ConsumerDesk:
    """Files complaints online, shows a consumer their ticket's progress, records their rating."""

    def __init__(
        self,
        intake: IntakeDesk,
        casework: CaseworkDesk,
        records: TicketRecords,
        roster: Roster,
        db: Database,
        blocking: BlockingPool,
        wall_ms: Callable[[], int],
        filings: BucketRule = FILINGS_PER_ADDRESS,
        deadlines: DeadlineRules | None = None,
        node_ms: Callable[[], int] | None = None,
        access: SignInDesk | None = None,
    ) -> None:
        self._intake = intake
        self._casework = casework
        self._records = records
        self._roster = roster
        self._db = db
        self._blocking = blocking
        self._wall_ms = wall_ms
        self._filings = SignInThrottle(SignInLimits(per_address=filings))
        self._access = access
        """Where bursts of refused filings are recorded (the node's access record)."""
        if access is not None:
            access.flush_also(self._filings, REFUSED_FILINGS)
        self._deadlines = deadlines
        """The rules the ODR limit of a dispute is shown by (None: no due date shown)."""
        self._node_ms = node_ms or wall_ms
        """The node's clock (a drill's), what the dispute's time left is counted on."""

    def _web(self) -> Officer:
        return web_channel(self._roster.own_unit())

    async def file(
        self, request_id: str, command: Callable[[], RegisterTicket], peer: str
    ) -> Registration:
        """Register a complaint filed online (or answer the one this request already made,
        without a new code); refused as ``Busy`` when its address has filed too many.

        ``command`` makes the registration from the request once the caller is admitted: its
        decoding is checking too, and a refused caller gets nothing checked."""
        address = Key("address", address_of(peer))
        admission = self._filings.admit((address,), self._wall_ms())
        if admission.ended and self._access is not None:
            await self._access.record_refused_calls(admission.ended, REFUSED_FILINGS)
        if not admission.admitted:
            raise Busy("too many complaints filed from this address", admission.retry_after_ms)
        filed = command()
        if filed.odr_green_channel:
            roster = await self._blocking.run(self._odr_roster)
            filed = located_by_roster(filed, roster)
        return await self._intake.register_as(
            request_id, filed, self._web(), new_code_on_replay=False
        )

    def _odr_roster(self) -> OdrRoster:
        with self._db.read() as conn:
            return self._intake.odr_roster(conn)

    async def follow(self, ticket_id: str) -> consumer_pb2.TicketProgress:
        """Where the ticket is, what was done and what is awaited, as its consumer is told."""
        state = await self._records.state_of(ticket_id)
        if state is None or state.registration is None:
            raise NotFound(f"no ticket {ticket_id!r} on this node")
        recorded = await self._blocking.run(self._events, ticket_id)
        deadlines = await self._records.deadlines(ticket_id)
        units = self._roster.units

        def unit_name(code: str) -> str:
            unit = units.find(code)
            return unit.name if unit is not None else ""

        progress = ticket_progress(
            state, consumer_steps(state, recorded), deadlines.deadlines, unit_name
        )
        if state.dispute is not None:
            progress.odr.CopyFrom(
                dispute_message(state, now_ms=self._node_ms(), rules=self._deadlines)
            )
            progress.can_answer_proposal = state.dispute.status is DisputeStatus.PROPOSED
        return progress

    def _events(self, ticket_id: str) -> list[RecordedEvent]:
        with self._db.read() as conn:
            return [sealed.recorded() for sealed in EventLog(conn).ticket_events(ticket_id)]

    async def rate(
        self, ticket_id: str, rating: Satisfaction, comment: str
    ) -> consumer_pb2.TicketProgress:
        """Record the consumer's rating of a closed ticket as its callback (回访评价); a
        DISSATISFIED rating needs a comment and reopens the ticket (回炉重办)."""
        dissatisfied = rating is Satisfaction.DISSATISFIED
        note = check_text(comment, "comment", required=dissatisfied, kind="note")
        await self._casework.act_as(ticket_id, RecordCallback(rating, note), self._web())
        return await self.follow(ticket_id)


class ProposalDesk:
    """The consumer's answer to an ODR proposal (ConsumerService.AnswerProposal): the ODR desk
    records it (``node.desks.odr``), the page then shows the ticket as it stands."""

    def __init__(self, odr: OdrDesk, consumer: ConsumerDesk) -> None:
        self._odr = odr
        self._consumer = consumer

    async def answer_proposal(
        self, caller: SignedIn, ticket_id: str, accept: bool, reason: str
    ) -> consumer_pb2.TicketProgress:
        """Record the consumer's answer; the ticket's progress after it."""
        who = OdrCaller(
            caller.principal,
            session_id=caller.session.session_id,
            method="/hotline.v1.ConsumerService/AnswerProposal",
        )
        await self._odr.answer_proposal(who, ticket_id, accept, reason)
        return await self._consumer.follow(ticket_id)
