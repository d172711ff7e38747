"""The ODR desk: an enterprise's steps on its disputes, and the consumer's answer (DOMAIN.md §8).

Behind OdrService (``node.edge.odr``) and ConsumerService.AnswerProposal. Every step is one
writer job: the ticket is read as it stands in the writer, the caller's right to it is checked
(an enterprise user acts on its own enterprise's disputes only, a consumer on their own ticket
only), the decision is ``core.odr.dispute_decisions``'s, and the events are signed in this
node's unit under an ``OfficerRef`` naming the caller. A refusal writes nothing; one for want
of right (another enterprise's dispute, whatever id was sent) is also a row of the node's access
record, with the method, as the door records its own refusals (``node.edge.guard``).

The consumer's name and phone are shown in full to the enterprise while the dispute is open,
each look recorded as ``PersonalDataRevealed`` events in the same job (and in the access
record), so no look goes unrecorded; once the dispute has ended they are masked. The reads
(ListDisputes, GetPerformance, supervision's count) are ``node.desks.odr_reads``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from core.access.principals import Principal, PrincipalKind
from core.access.reasons import CallRefusal
from core.access.record import AccessAction, AccessOutcome
from core.errors import NotFound, NotPermitted, StepNotAllowed
from core.odr import dispute_decisions as decide
from core.odr.dispute import CloseReason, ContactMethod
from core.officers import OfficerRef
from core.personal.masking import mask_consumer
from core.ticket.events import DomainEvent, PersonalDataRevealed
from core.ticket.state import TicketState
from core.ticket.vocabulary import PersonalField
from node.access import record
from node.app.blocking import BlockingPool
from node.app.clock import Clock
from node.desks.odr_reads import DisputeReads
from node.desks.roster import Roster
from node.storage.database import Database
from node.views.obligations import DeadlineRules
from node.views.odr import ContactShown, dispute_message
from proto.hotline.v1 import odr_pb2
from sync.personal.shelf import SealShelf
from sync.personal.suites import SealBroken
from sync.writer import LogBatch, LogWriter

T = TypeVar("T")

LOOK_PURPOSE = "ODR协商联系消费者 (the enterprise contacts the consumer to settle)"
"""The purpose recorded with each look of the enterprise at the consumer's contact data."""


RefusalRecorder = Callable[[str, CallRefusal, str, str, Exception], Awaitable[Exception]]
"""``SignInDesk.refuse_call``: records a refused call, returns the error to raise."""


@dataclass(frozen=True)
class OdrCaller:
    """Who calls: an enterprise user (scope: their credit code) or a consumer (their ticket)."""

    principal: Principal
    name: str = ""
    """The enterprise user's name, as signed under their steps ('' for a consumer)."""
    peer: str = ""
    session_id: str = ""
    method: str = ""
    """The RPC, as the access record names a refusal."""


class OdrDesk(DisputeReads):
    """The enterprise's and the consumer's steps on ODR disputes held on this node."""

    def __init__(
        self,
        writer: LogWriter,
        db: Database,
        blocking: BlockingPool,
        roster: Roster,
        clock: Clock,
        deadlines: DeadlineRules,
        shelf: SealShelf,
        real_ms: Callable[[], int],
        refusals: RefusalRecorder | None = None,
    ) -> None:
        self._writer = writer
        self._db = db
        self._blocking = blocking
        self._roster = roster
        self._clock = clock
        self._deadlines = deadlines
        self._shelf = shelf
        self._real_ms = real_ms
        self.refusals = refusals
        """Where a refusal for want of right is recorded (the node's access record)."""

    # -- who may ----------------------------------------------------------------------------

    def _actor(self, caller: OdrCaller) -> OfficerRef:
        unit = self._roster.own_unit()
        principal = caller.principal
        if principal.kind is PrincipalKind.ENTERPRISE:
            return decide.enterprise_actor(
                principal.scope, principal.principal_id, caller.name, unit
            )
        return decide.consumer_actor(unit)

    @staticmethod
    def _dispute_of(state: TicketState, caller: OdrCaller, ticket_id: str) -> None:
        """Raise unless ``state`` is a dispute the caller may act on."""
        principal = caller.principal
        if principal.kind is PrincipalKind.CONSUMER:
            if principal.scope != ticket_id:
                raise NotPermitted("a consumer's session acts on its own ticket only")
        elif principal.kind is not PrincipalKind.ENTERPRISE:
            raise NotPermitted(f"{principal.label} is neither an enterprise user nor a consumer")
        if state.version == 0:
            raise NotFound(f"no ODR dispute {ticket_id!r} on this node")
        if state.dispute is None:
            if principal.kind is PrincipalKind.CONSUMER:  # their own ticket, not in the channel
                raise StepNotAllowed(
                    "OdrProposalAnswered", state.status.value, "the ticket is no ODR dispute"
                )
            raise NotFound(f"no ODR dispute {ticket_id!r} on this node")
        if (
            principal.kind is PrincipalKind.ENTERPRISE
            and state.dispute.credit_code != principal.scope
        ):
            raise NotPermitted(
                f"ticket {ticket_id} is not a dispute of the enterprise {principal.scope}"
            )

    async def _run(self, caller: OdrCaller, ticket_id: str, job: Callable[[LogBatch], T]) -> T:
        try:
            return await self._writer.run(job)
        except NotPermitted as refused:
            if self.refusals is None:
                raise
            error = await self.refusals(
                caller.principal.label,
                CallRefusal.OUTSIDE_JURISDICTION,
                caller.peer,
                f"{caller.method or 'OdrService'} {ticket_id}".strip(),
                refused,
            )
            raise error from None

    def _step(
        self,
        caller: OdrCaller,
        ticket_id: str,
        decision: Callable[[TicketState, OfficerRef], list[DomainEvent]],
        *,
        look: bool = False,
    ) -> Callable[[LogBatch], odr_pb2.Dispute]:
        """The writer job of one step; ``look``: the enterprise is shown the consumer's
        contact in full while the dispute is open, the look recorded (GetDispute only: a
        step's answer shows it masked)."""
        actor = self._actor(caller)
        now_ms = self._clock.wall_ms()

        def job(batch: LogBatch) -> odr_pb2.Dispute:
            state = batch.state_of(ticket_id)
            self._dispute_of(state, caller, ticket_id)
            events = decision(state, actor)
            batch.record(ticket_id, events, actor, state=state)
            after = batch.state_of(ticket_id)
            return self._shown(batch, caller, actor, after, now_ms, look)

        return job

    def _shown(
        self,
        batch: LogBatch,
        caller: OdrCaller,
        actor: OfficerRef,
        state: TicketState,
        now_ms: int,
        look: bool,
    ) -> odr_pb2.Dispute:
        """The dispute as the caller sees it; the enterprise's look in full is recorded."""
        contact = ContactShown()
        try:
            consumer = (
                None
                if state.personal_erased
                else self._shelf.consumer_of(batch.conn, state.ticket_id)
            )
        except SealBroken:  # a damaged seal shows nothing (the look-up job deletes it)
            consumer = None
        if consumer is not None:
            enterprise = caller.principal.kind is PrincipalKind.ENTERPRISE
            if look and enterprise and state.dispute is not None and state.dispute.open:
                looks = [
                    PersonalDataRevealed(f, LOOK_PURPOSE)
                    for f in (PersonalField.NAME, PersonalField.PHONE)
                ]
                sealed = batch.record(state.ticket_id, looks, actor, state=state)
                ids = " ".join(s.event_id for s in sealed)
                detail = f"{state.ticket_id} name phone events {ids}: {LOOK_PURPOSE}"
                batch.on_flush(lambda: self._append_look(batch, caller, detail))
                contact = ContactShown(consumer.name, consumer.phone, masked=False)
            else:
                masked = mask_consumer(consumer)
                contact = ContactShown(masked.name, masked.phone, masked=True)
        return dispute_message(state, now_ms=now_ms, rules=self._deadlines, contact=contact)

    def _append_look(self, batch: LogBatch, caller: OdrCaller, detail: str) -> None:
        record.append(
            batch.conn,
            batch.identity,
            at_ms=self._real_ms(),
            officer_id=caller.principal.label,
            action=AccessAction.PERSONAL_DATA,
            outcome=AccessOutcome.DONE,
            peer=caller.peer,
            session_id=caller.session_id,
            detail=detail,
        )

    # -- the enterprise's steps ----------------------------------------------------------------

    async def get_dispute(self, caller: OdrCaller, ticket_id: str) -> odr_pb2.Dispute:
        """One dispute of the caller's, with its history; the look at the contact recorded."""
        step = self._step(caller, ticket_id, lambda s, a: [], look=True)
        return await self._run(caller, ticket_id, step)

    async def record_contact(
        self,
        caller: OdrCaller,
        ticket_id: str,
        method: ContactMethod | None,
        contacted_at: datetime | None,
        result: str,
    ) -> odr_pb2.Dispute:
        """Record a contact with the consumer (协商记录)."""
        now = self._clock.now()
        step = self._step(
            caller,
            ticket_id,
            lambda s, a: decide.record_contact(s, a, method, contacted_at, result, now),
        )
        return await self._run(caller, ticket_id, step)

    async def propose_settlement(
        self, caller: OdrCaller, ticket_id: str, terms: str, amount_fen: int
    ) -> odr_pb2.Dispute:
        """Propose a settlement (和解方案) for the consumer to answer."""
        step = self._step(
            caller, ticket_id, lambda s, a: decide.propose_settlement(s, a, terms, amount_fen)
        )
        return await self._run(caller, ticket_id, step)

    async def close_dispute(
        self, caller: OdrCaller, ticket_id: str, reason: CloseReason | None, note: str
    ) -> odr_pb2.Dispute:
        """Close the dispute: the enterprise declines (converted at once), or the consumer
        withdrew."""
        units = self._roster.units
        step = self._step(
            caller, ticket_id, lambda s, a: decide.close_dispute(s, a, reason, note, units)
        )
        return await self._run(caller, ticket_id, step)

    # -- the consumer's answer -------------------------------------------------------------------

    async def answer_proposal(
        self, caller: OdrCaller, ticket_id: str, accept: bool, reason: str
    ) -> odr_pb2.Dispute:
        """The consumer accepts the pending proposal (settled, closed) or rejects it (a formal
        complaint at once, routed by jurisdiction). ``reason`` is required to reject."""
        if caller.principal.kind is not PrincipalKind.CONSUMER:
            raise NotPermitted("only the consumer of the ticket answers its proposal")
        units = self._roster.units
        step = self._step(
            caller, ticket_id, lambda s, a: decide.answer_proposal(s, a, accept, reason, units)
        )
        return await self._run(caller, ticket_id, step)
