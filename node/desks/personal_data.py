"""Seeing a filer's personal field in full (查看个人信息): one look, one signed record.

Every page shows the filer masked; ``PersonalDataDesk.reveal`` is the one way to see a field in
full. It runs as ONE writer job: the rules are asked of the ticket as it stands in the writer
(``core.personal.access``), the seal is opened (``SealShelf.consumer_of``), and the look is
recorded as ``PersonalDataRevealed``, signed in the officer's name, in the same transaction, so
no look goes unrecorded: if the record cannot be written, the value is never returned. The
same transaction appends the look to the node's access record (``AccessAction.PERSONAL_DATA``:
ticket, field, purpose, event; never the value), and a look the rules refuse is appended there
too, refused. The value is never logged.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from core.access.reasons import CallRefusal
from core.access.record import AccessAction, AccessOutcome
from core.errors import NotFound, NotPermitted, StepNotAllowed
from core.personal.access import check_purpose, why_may_not_reveal
from core.ticket.events import PersonalDataRevealed
from core.ticket.vocabulary import PersonalField
from node.access import record
from node.app.blocking import BlockingPool
from node.desks.roster import Roster
from node.storage.database import Database
from sync.identity import NodeIdentity
from sync.personal.shelf import SealShelf
from sync.writer import LogBatch, LogWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asker:
    """Who asks for a look and from where, as the access record names them."""

    officer_id: str
    peer: str = ""
    session_id: str = ""


@dataclass(frozen=True)
class Revealed:
    """One field in full and the signed event recording the look."""

    ticket_id: str
    field: PersonalField
    value: str = dataclasses.field(repr=False)
    """The value in full: returned to the officer who asked, never logged nor printed."""
    event_id: str


class PersonalDataDesk:
    """Reveals one personal field of a ticket's filer, recording the look; see the module."""

    def __init__(
        self,
        writer: LogWriter,
        roster: Roster,
        shelf: SealShelf,
        db: Database,
        identity: NodeIdentity,
        blocking: BlockingPool,
        real_ms: Callable[[], int],
    ) -> None:
        self._writer = writer
        self._roster = roster
        self._shelf = shelf
        self._db = db
        self._identity = identity
        self._blocking = blocking
        self._real_ms = real_ms
        """Real wall time, what the access record goes by (never a drill clock)."""

    async def reveal(
        self, ticket_id: str, which: PersonalField, purpose: str, asker: Asker
    ) -> Revealed:
        """``which`` of the ticket's filer in full for ``purpose``, recorded as a signed event.

        ``InvalidInput`` (purpose), ``NotPermitted`` (the rules of who sees what: recorded as a
        refused look), ``NotFound`` (no such ticket, or no personal data of it held here),
        ``StepNotAllowed`` (erased at the end of its retention period).
        """
        purpose = check_purpose(purpose)
        officer = await self._roster.resolve(asker.officer_id)

        def job(batch: LogBatch) -> Revealed:
            state = batch.state_of(ticket_id)
            if state.version == 0:
                raise NotFound(f"no ticket {ticket_id!r} on this node")
            why = why_may_not_reveal(state, officer, which)
            if why is not None:
                raise NotPermitted(f"RevealPersonalData: {why}")
            if state.personal_erased:
                raise StepNotAllowed(
                    "RevealPersonalData",
                    "without personal data",
                    f"the personal data of {ticket_id} was erased at the end of its retention "
                    "period (已删除)",
                )
            consumer = self._shelf.consumer_of(batch.conn, ticket_id)
            if consumer is None:
                raise NotFound(f"this node holds no personal data of {ticket_id} (本节点未持有)")
            value = consumer.field(which)
            if not value:
                raise NotFound(f"the filer of {ticket_id} gave no {which.value}")
            event = PersonalDataRevealed(which, purpose)
            sealed = batch.record(ticket_id, [event], officer.ref(), state=state)
            event_id = sealed[0].event_id
            detail = f"{ticket_id} {which.value} event {event_id}: {purpose}"
            batch.on_flush(lambda: self._append(batch, asker, detail))
            return Revealed(ticket_id, which, value, event_id)

        try:
            revealed: Revealed = await self._writer.run(job)
        except NotPermitted as refused:
            detail = f"{ticket_id} {which.value}: {purpose}"
            await self._blocking.run(self._refused, asker, detail)
            raise refused
        log.info("%s saw the %s of ticket %s", asker.officer_id, which.value, ticket_id)
        return revealed

    def _append(self, batch: LogBatch, asker: Asker, detail: str) -> None:
        """The look's row of the access record, in the writer's transaction."""
        record.append(
            batch.conn,
            batch.identity,
            at_ms=self._real_ms(),
            officer_id=asker.officer_id,
            action=AccessAction.PERSONAL_DATA,
            outcome=AccessOutcome.DONE,
            peer=asker.peer,
            session_id=asker.session_id,
            detail=detail,
        )

    def _refused(self, asker: Asker, detail: str) -> None:
        """A refused look's row of the access record, in a transaction of its own."""
        with self._db.write() as conn:
            record.append(
                conn,
                self._identity,
                at_ms=self._real_ms(),
                officer_id=asker.officer_id,
                action=AccessAction.PERSONAL_DATA,
                outcome=AccessOutcome.REFUSED,
                reason=CallRefusal.PERSONAL_DATA_WITHHELD.value,
                peer=asker.peer,
                session_id=asker.session_id,
                detail=detail,
            )
