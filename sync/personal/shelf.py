"""The node's sealed personal data (个人信息密封), kept beside the log, never inside it.

A registration is signed with a commitment to its filer's data and no data (protocol 2); the
data itself is sealed under the ticket's own data key, and this module keeps that seal in
``personal_seals`` with the data key wrapped under the node's key-encryption key. It is the one
place that:

- seals a new registration before it is signed (``seal_registration``), in the registering
  writer job, and returns the registration as it will be signed;
- takes in the seals that came with a batch of replicated events (``prepare`` on the pool,
  ``take`` in the writer job), each checked against the commitment its signed registration
  holds, so a relay cannot swap the data (whether the ciphertext opens to it is checked at its
  first opening, by the look-up job);
- hands the seals of the registrations it sends on (``outgoing``), the data key unwrapped for
  the mutually authenticated link;
- opens a ticket's data for a look (``consumer_of``) and for the masked listings (``masked``).

Erasure deletes the row (``node.views.tickets`` does it when it folds ``PersonalDataErased``),
so nothing of the values is left on the node; the signed log keeps verifying. Keyed look-ups
(phone and ID digests for duplicate, group and claimant detection) go into
``personal_lookups`` under the province's look-up key: with the seal of a registration made
here, by the look-up job for one received (``node.jobs.lookup_rekey``); erasure deletes them.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy import Connection, select

from core.personal import MaskedConsumer, mask_consumer
from core.ticket.events import TicketRegistered
from core.ticket.vocabulary import NO_CONSUMER, Consumer, PersonalCommitment
from proto.hotline.v1 import events_pb2, sync_pb2
from sync import schema
from sync.envelope import SealedEvent
from sync.ingest import REGISTERED
from sync.personal.digests import lookup_key, normalized_id_number, normalized_phone
from sync.personal.fresh import fresh_seal
from sync.personal.seal import SealedPersonal, open_personal
from sync.personal.suites import CipherSuite, SealBroken
from sync.writer import LogBatch

log = logging.getLogger(__name__)


class DataKeyWrapping(Protocol):
    """Wraps a ticket's data key under the node's key-encryption key, and unwraps it."""

    def wrap(self, ticket_id: str, data_key: bytes) -> tuple[str, bytes]:
        """(key-encryption key id, wrapped data key)."""
        ...

    def unwrap(self, kek_id: str, ticket_id: str, wrapped: bytes) -> bytes:
        """The data key; ``SealBroken`` when it does not unwrap."""
        ...


@dataclass(frozen=True)
class LookupKey:
    """The province's key for the keyed look-up digests (关联键密钥), with its id and suite."""

    key_id: str
    suite: CipherSuite
    key: bytes

    def __repr__(self) -> str:
        return f"LookupKey({self.key_id!r}, {self.suite.value!r})"


@dataclass(frozen=True)
class Lookups:
    """A filer's keyed digests under one look-up key; '' for a field not given."""

    key_id: str
    phone_key: str
    id_key: str


def lookups_of(key: LookupKey, consumer: Consumer) -> Lookups:
    """The keyed digests of a filer's normalized phone and ID number under ``key``."""
    phone = normalized_phone(consumer.phone) if consumer.phone else ""
    id_number = normalized_id_number(consumer.id_number) if consumer.id_number else ""
    return Lookups(
        key.key_id,
        lookup_key(key.suite, key.key, "phone", phone),
        lookup_key(key.suite, key.key, "id", id_number),
    )


UNKEYED = ""
"""The ``key_id`` of the look-up row of a seal taken in without look-ups (replicated): no
digests yet (the same as no row to every reader), and a key id below every real one, so the
look-up job finds it by the index on ``key_id`` (``node.jobs.lookup_rekey``)."""

_SEAL_COLUMNS = (
    schema.personal_seals.c.ticket_id,
    schema.personal_seals.c.suite,
    schema.personal_seals.c.commitment,
    schema.personal_seals.c.nonce,
    schema.personal_seals.c.ciphertext,
    schema.personal_seals.c.kek_id,
    schema.personal_seals.c.wrapped_key,
)


@dataclass(frozen=True)
class HeldSeal:
    """A row of ``personal_seals``: the sealed data and the wrapped data key."""

    sealed: SealedPersonal
    kek_id: str
    wrapped_key: bytes


@dataclass(frozen=True)
class PreparedSeal:
    """A received seal opened and checked (``SealShelf.prepare``), ready for ``take``."""

    ticket_id: str
    registration_event: str
    """The event id of the registration it came with and was checked against ('' if none)."""
    sealed: SealedPersonal
    kek_id: str
    wrapped_key: bytes

    def __repr__(self) -> str:
        return f"PreparedSeal({self.ticket_id!r})"


def _commitment_in(registration: SealedEvent) -> PersonalCommitment:
    """The commitment a signed registration holds, read from its message alone (a backlog of
    thousands must not decode each into the domain event here)."""
    personal = events_pb2.TicketRegistered.FromString(registration.payload).personal
    return PersonalCommitment(personal.suite, personal.commitment)


def _commits_to(expected: PersonalCommitment, sealed: SealedPersonal) -> bool:
    """True when the seal is what the registration commits to (suite and commitment)."""
    return expected.suite == sealed.suite.value and hmac.compare_digest(
        expected.commitment, sealed.commitment
    )


class SealShelf:
    """Where a node keeps its tickets' sealed personal data; see the module docstring."""

    def __init__(
        self,
        keys: DataKeyWrapping,
        *,
        suite: Callable[[], CipherSuite],
        lookup_key: Callable[[], LookupKey],
    ) -> None:
        self._keys = keys
        self.keys = keys
        """How the data keys are wrapped (the node's key ring: ``node.keys.wrapping``)."""
        self._suite = suite
        """The suite new registrations are sealed with: the province rule book's choice."""
        self._lookup_key = lookup_key
        self.lookup_key = lookup_key
        """The look-up key in force (``node.personal.in_force``)."""

    # -- writing, in writer jobs ---------------------------------------------------------------

    def seal_registration(
        self, batch: LogBatch, registration: TicketRegistered, lookups: Lookups | None = None
    ) -> TicketRegistered:
        """Seal the registration's filer beside the log; the registration to sign instead.

        The returned event carries no personal value, only the commitment. Nothing is sealed
        for a registration without personal data (a suggestion left anonymous). ``lookups``:
        the filer's digests as the caller already made them off the writer (the intake desk
        needs them for its same-matter fingerprint); used when made under the look-up key
        still in force, so the writer does not compute them a second time.
        """
        consumer = registration.consumer
        if consumer.empty:
            return replace(registration, consumer=NO_CONSUMER, personal=PersonalCommitment())
        suite = self._suite()
        sealed, data_key = fresh_seal(suite, registration.ticket_id, consumer)
        self._keep(batch, registration.ticket_id, sealed, data_key)
        self._keep_lookups(batch, registration.ticket_id, consumer, lookups)
        personal = PersonalCommitment(suite.value, sealed.commitment)
        return replace(registration, consumer=NO_CONSUMER, personal=personal)

    def prepare(
        self, seals: Sequence[sync_pb2.PersonalSeal], events: Sequence[SealedEvent]
    ) -> list[PreparedSeal]:
        """The seals that came with a batch of replicated ``events``, checked and wrapped under
        this node's key: on the node's pool, before the writer job that stores the batch (it
        reads no table), so a backlog's seals cost the log writer two comparisons and a row.

        A seal must name the suite and commitment its registration signs (checked here when the
        registration is among ``events``, else by ``take`` against the log) and carry a data
        key of its suite's length. Whether its ciphertext opens to exactly that commitment is
        checked the first time it is opened: by the look-up job, within a round, which digests
        it and deletes (and logs) one that does not (``node.jobs.lookup_rekey``); a look or a
        masked answer checks it too. What fails here is dropped and logged: the registration
        still counts, and the data comes again with the next copy of it.
        """
        registrations: dict[str, SealedEvent] = {
            e.ticket_id: e for e in events if e.event_type == REGISTERED
        }
        ready: list[PreparedSeal] = []
        for message in seals:
            ticket_id = message.ticket_id
            try:
                suite = CipherSuite.parse(message.suite)
                sealed = SealedPersonal(
                    suite, message.commitment, message.nonce, message.ciphertext
                )
                if len(message.data_key) != suite.key_bytes:
                    raise SealBroken(f"a {suite.name} data key has {suite.key_bytes} bytes")
                registration = registrations.get(ticket_id)
                if registration is not None and not _commits_to(
                    _commitment_in(registration), sealed
                ):
                    raise SealBroken("it is not the data the signed registration commits to")
            except (SealBroken, ValueError) as exc:
                log.warning("personal data of ticket %s not kept: %s", ticket_id, exc)
                continue
            kek_id, wrapped = self._keys.wrap(ticket_id, message.data_key)
            event_id = registration.event_id if registration is not None else ""
            ready.append(PreparedSeal(ticket_id, event_id, sealed, kek_id, wrapped))
        return ready

    def take(self, batch: LogBatch, prepared: Sequence[PreparedSeal]) -> int:
        """Keep the prepared seals whose registration this batch stored, or held before with
        the same commitment and its data not erased; returns how many were kept. The writer's
        part: no cryptography, a look at what the batch holds, and a row per seal (its keyed
        look-ups follow from the look-up job, which opens it)."""
        kept = 0
        for seal in prepared:
            ticket_id = seal.ticket_id
            stored = seal.registration_event and any(
                e.event_id == seal.registration_event for e in batch.buffered_for(ticket_id)
            )
            if not stored:
                state = batch.state_of(ticket_id)
                held = state.registration
                if (
                    held is None
                    or state.personal_erased
                    or not _commits_to(held.personal, seal.sealed)
                ):
                    continue
            self._keep_row(batch, ticket_id, seal.sealed, seal.kek_id, seal.wrapped_key)
            self._mark_unkeyed(batch, ticket_id, new_here=bool(stored))
            kept += 1
        return kept

    def _mark_unkeyed(self, batch: LogBatch, ticket_id: str, *, new_here: bool) -> None:
        """A look-up row under no key for a seal taken in, unless the ticket has look-ups:
        the look-up job opens the seal and writes the digests. A ticket whose registration
        this batch stores has none (the common case, a backlog's: no read); one held before
        may (a seal sent again), and keeps them."""
        lookups = schema.personal_lookups.c
        held = (
            None
            if new_here
            else batch.conn.execute(
                select(lookups.ticket_id).where(lookups.ticket_id == ticket_id)
            ).first()
        )
        if held is None:
            batch.upsert(
                schema.personal_lookups,
                {"ticket_id": ticket_id, "key_id": UNKEYED, "phone_key": "", "id_key": ""},
            )

    def _keep(
        self, batch: LogBatch, ticket_id: str, sealed: SealedPersonal, data_key: bytes
    ) -> None:
        kek_id, wrapped = self._keys.wrap(ticket_id, data_key)
        self._keep_row(batch, ticket_id, sealed, kek_id, wrapped)

    def _keep_row(
        self, batch: LogBatch, ticket_id: str, sealed: SealedPersonal, kek_id: str, wrapped: bytes
    ) -> None:
        batch.upsert(
            schema.personal_seals,
            {
                "ticket_id": ticket_id,
                "suite": sealed.suite.value,
                "commitment": sealed.commitment,
                "nonce": sealed.nonce,
                "ciphertext": sealed.ciphertext,
                "kek_id": kek_id,
                "wrapped_key": wrapped,
                "stored_ms": batch.now_ms(),
            },
        )

    def _keep_lookups(
        self, batch: LogBatch, ticket_id: str, consumer: Consumer, made: Lookups | None
    ) -> None:
        key = self._lookup_key()
        found = (
            made if made is not None and made.key_id == key.key_id else lookups_of(key, consumer)
        )
        batch.upsert(
            schema.personal_lookups,
            {
                "ticket_id": ticket_id,
                "key_id": found.key_id,
                "phone_key": found.phone_key,
                "id_key": found.id_key,
            },
        )

    # -- reading -------------------------------------------------------------------------------

    def held(self, conn: Connection, ticket_ids: Iterable[str]) -> dict[str, HeldSeal]:
        """The seals held for ``ticket_ids`` (tickets without one are left out)."""
        ids = sorted(set(ticket_ids))
        found: dict[str, HeldSeal] = {}
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(*_SEAL_COLUMNS).where(
                    schema.personal_seals.c.ticket_id.in_(ids[start : start + 500])
                )
            )
            for r in rows:
                sealed = SealedPersonal(CipherSuite(r.suite), r.commitment, r.nonce, r.ciphertext)
                found[r.ticket_id] = HeldSeal(sealed, r.kek_id, r.wrapped_key)
        return found

    def _open(self, ticket_id: str, seal: HeldSeal) -> Consumer:
        data_key = self._keys.unwrap(seal.kek_id, ticket_id, seal.wrapped_key)
        return open_personal(seal.sealed, ticket_id, data_key)

    def consumer_of(self, conn: Connection, ticket_id: str) -> Consumer | None:
        """The filer of ``ticket_id`` in clear; None when no seal is held here.

        Only for a look that is recorded (``PersonalDataRevealed``) or a computation that keeps
        nothing in clear (re-keying the look-ups).
        """
        seal = self.held(conn, [ticket_id]).get(ticket_id)
        return None if seal is None else self._open(ticket_id, seal)

    def masked(self, conn: Connection, ticket_ids: Iterable[str]) -> dict[str, MaskedConsumer]:
        """The masked filer (张*, 139****0001) of each ticket whose seal is held here."""
        return {t: mask_consumer(self._open(t, s)) for t, s in self.held(conn, ticket_ids).items()}

    def outgoing(self, conn: Connection, ticket_ids: Iterable[str]) -> list[sync_pb2.PersonalSeal]:
        """The seals of ``ticket_ids`` as they travel to a peer, data keys unwrapped."""
        sent: list[sync_pb2.PersonalSeal] = []
        for ticket_id, seal in self.held(conn, ticket_ids).items():
            try:
                data_key = self._keys.unwrap(seal.kek_id, ticket_id, seal.wrapped_key)
            except SealBroken as exc:
                log.error("personal data of ticket %s cannot be sent: %s", ticket_id, exc)
                continue
            sent.append(
                sync_pb2.PersonalSeal(
                    ticket_id=ticket_id,
                    suite=seal.sealed.suite.value,
                    commitment=seal.sealed.commitment,
                    nonce=seal.sealed.nonce,
                    ciphertext=seal.sealed.ciphertext,
                    data_key=data_key,
                )
            )
        return sent
