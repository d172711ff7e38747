"""What a writer group of registrations reads of the committed tables, read once for the group.

Every registration job asks two questions of what was committed: did this request id already
make a ticket (a retry gets that ticket: idempotence), and is an open ticket on the same matter
held (the new one is linked to it: DOMAIN.md §4). Asked job by job, that is two statements per
registration on the node's one writer thread, each a trip into the database driver that gives
up and retakes the interpreter lock the event loop needs (issue 14).

So the intake desk notes what each registration will ask while it waits for the writer
(``RegistrationReads.waiting``); the first job of a writer group asks for every noted one in
one statement per question, and the other jobs of the group take their answers from that.
What was committed does not change during the group's transaction: its own rows reach the
tables at the flush (a job sees the earlier jobs' through the batch, as before), and the lock
on the node's head row keeps every other writer of the database out until it commits. So each
answer is the one the job would have read itself. A job whose registration was noted after the
group read (or beyond ``GROUP_READ_LIMIT``) asks alone, as before.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from node.storage.tables import ticket_fingerprints, ticket_requests, tickets
from sync.statements import DriverQuery, KeyedQuery
from sync.writer import LogBatch

GROUP_READ_LIMIT = 500
"""The most registrations one group read asks for (one statement's worth of keys)."""

_REQUEST_SEEN = DriverQuery(
    select(ticket_requests.c.ticket_id).where(
        ticket_requests.c.request_id == bindparam("request_id")
    )
)
_REQUESTS_SEEN = KeyedQuery(
    select(ticket_requests.c.request_id, ticket_requests.c.ticket_id),
    ticket_requests.c.request_id,
)
_MATTER = select(ticket_fingerprints.c.ticket_id, tickets.c.status).join(
    tickets, tickets.c.ticket_id == ticket_fingerprints.c.ticket_id
)
_SAME_MATTER = DriverQuery(
    _MATTER.where(ticket_fingerprints.c.fingerprint == bindparam("fingerprint"))
)
_SAME_MATTERS = KeyedQuery(
    _MATTER.add_columns(ticket_fingerprints.c.fingerprint), ticket_fingerprints.c.fingerprint
)


@dataclass
class _GroupAnswers:
    """What one writer group read for the registrations noted when it began."""

    asked_requests: set[str] = field(default_factory=set)
    asked_matters: set[str] = field(default_factory=set)
    tickets_of_requests: dict[str, str] = field(default_factory=dict)
    """Request id -> the ticket it made, for those that made one."""
    same_matters: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Fingerprint -> (ticket id, status as stored), for those held."""


class RegistrationReads:
    """The request-seen and same-matter reads of registration jobs, once per writer group."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[str, str]] = {}
        self._next = 0
        self._group: tuple[weakref.ref[LogBatch], _GroupAnswers] | None = None
        """The answers of the group last read, with its batch (only the writer thread)."""

    @contextmanager
    def waiting(self, request_id: str, fingerprint: str) -> Iterator[None]:
        """Note a registration (its request id and matter fingerprint) while it waits for
        the writer; forgotten when the wait ends, however it ends."""
        with self._lock:
            self._next += 1
            token = self._next
            self._waiting[token] = (request_id, fingerprint)
        try:
            yield
        finally:
            with self._lock:
                del self._waiting[token]

    def ticket_of_request(self, batch: LogBatch, request_id: str) -> str | None:
        """The ticket ``request_id`` made in a committed transaction, if any."""
        answers = self._answers(batch)
        if request_id in answers.asked_requests:
            return answers.tickets_of_requests.get(request_id)
        row = _REQUEST_SEEN.first(batch.conn, request_id=request_id)
        return None if row is None else str(row[0])

    def same_matter(self, batch: LogBatch, fingerprint: str) -> tuple[str, str] | None:
        """The committed ticket on the matter ``fingerprint`` and its stored status, if any."""
        answers = self._answers(batch)
        if fingerprint in answers.asked_matters:
            return answers.same_matters.get(fingerprint)
        row = _SAME_MATTER.first(batch.conn, fingerprint=fingerprint)
        return None if row is None else (str(row[0]), str(row[1]))

    def _answers(self, batch: LogBatch) -> _GroupAnswers:
        if self._group is not None and self._group[0]() is batch:
            return self._group[1]
        with self._lock:
            noted = list(self._waiting.values())[:GROUP_READ_LIMIT]
        answers = _GroupAnswers(
            {request_id for request_id, _ in noted}, {fingerprint for _, fingerprint in noted}
        )
        if noted:
            for request_id, ticket_id in _REQUESTS_SEEN.all(
                batch.conn, sorted(answers.asked_requests)
            ):
                answers.tickets_of_requests[str(request_id)] = str(ticket_id)
            for ticket_id, status, fingerprint in _SAME_MATTERS.all(
                batch.conn, sorted(answers.asked_matters)
            ):
                answers.same_matters[str(fingerprint)] = (str(ticket_id), str(status))
        self._group = (weakref.ref(batch), answers)
        return answers
