"""The verifying worker's read-ahead: the writer folds from it exactly where a fold would agree.

A received registration is decoded, folded alone and its view encoded in the worker process
(``sync.read_ahead``); the writer takes that state only when the event is all its ticket has
here, and otherwise folds as before. On SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from core.ticket.events import ComplaintAccepted, DomainEvent
from core.ticket.fold import fold
from core.ticket.state import TicketState, TicketStatus
from core.units import UnitLevel
from node.storage.database import Database
from node.storage.tables import tickets
from node.views.tickets import encode_state
from sync.envelope import GENESIS_HASH, SealedEvent, seal
from sync.identity import NodeIdentity
from sync.read_ahead import ReadAhead, pack, read_ahead, unpack
from sync.reasons import Refusal
from sync.verification import PROCESS_BATCH, SignatureVerifier
from sync.writer import LogBatch, LogWriter
from tests.helpers.registrations import COUNTY, registration
from tests.helpers.writers import running_writer

CITY = "620100"


def _sealed(
    origin: NodeIdentity, ticket_id: str, event: DomainEvent, seq: int = 1, version: int = 1
) -> SealedEvent:
    return seal(
        origin,
        event_id=uuid.uuid4().hex,
        seq=seq,
        prev_hash=GENESIS_HASH,
        ticket_id=ticket_id,
        event=event,
        hlc=1_790_000_000_000 << 16 | seq,
        officer=COUNTY.ref(),
        ticket_version=version,
    )


@pytest.fixture
def county() -> NodeIdentity:
    return NodeIdentity.generate("620102", UnitLevel.COUNTY)


@pytest.fixture
def city(db_url: str) -> Iterator[tuple[Database, LogWriter]]:
    with running_writer(db_url, CITY) as started:
        yield started


def _marked(ahead: ReadAhead) -> ReadAhead:
    """The same read-ahead with a state no fold of the event gives: seeing it proves use."""
    assert ahead.alone is not None
    alone = dataclasses.replace(ahead.alone, holder_unit="620199")
    return ReadAhead(ahead.event, alone, encode_state(alone))


def test_read_ahead_of_a_registration_is_its_fold_and_view(county: NodeIdentity) -> None:
    event = _sealed(county, "T1", registration("T1"))
    ahead = read_ahead(event.envelope, event.signature)
    assert ahead is not None
    assert ahead.event is None  # its fold alone stands in for it
    assert ahead.alone == fold("T1", [event.recorded()])
    assert ahead.alone.status is not TicketStatus.UNKNOWN
    assert ahead.view == encode_state(ahead.alone)


def test_a_later_step_is_decoded_but_not_folded_alone(county: NodeIdentity) -> None:
    event = _sealed(county, "T1", ComplaintAccepted("受理"), seq=2, version=2)
    ahead = read_ahead(event.envelope, event.signature)
    assert ahead is not None
    assert ahead.event == ComplaintAccepted("受理")
    assert ahead.alone is None


def test_packed_verdicts_unpack_to_equal_states_with_the_same_enum_members(
    county: NodeIdentity,
) -> None:
    event = _sealed(county, "T1", registration("T1"))
    ahead = read_ahead(event.envelope, event.signature)
    assert ahead is not None and ahead.alone is not None
    [(ok, back), (bad, none)] = unpack(pack([(True, ahead), (False, None)]))
    assert ok and not bad and none is None
    assert back == ahead
    assert back is not None and back.alone is not None
    assert back.alone.status is ahead.alone.status


def test_bytes_that_do_not_open_get_no_read_ahead() -> None:
    assert read_ahead(b"\xff\xff not an envelope", bytes(64)) is None


def test_writer_takes_the_worker_fold_when_the_event_is_all_its_ticket_has(
    city: tuple[Database, LogWriter], county: NodeIdentity
) -> None:
    db, writer = city
    event = _sealed(county, "T1", registration("T1"))
    ahead = read_ahead(event.envelope, event.signature)
    assert ahead is not None
    marked = _marked(ahead)

    def take(batch: LogBatch) -> TicketState:
        batch.store_received([event], "peer", {event.event_id: marked})
        return batch.state_of("T1")

    assert writer.call(take) == marked.alone
    with db.read() as conn:
        row = conn.execute(select(tickets).where(tickets.c.ticket_id == "T1")).one()
    assert row.state == marked.view


def test_writer_folds_itself_when_the_ticket_has_other_events(
    city: tuple[Database, LogWriter], county: NodeIdentity
) -> None:
    _, writer = city
    first = _sealed(county, "T1", registration("T1"))
    writer.call(lambda batch: batch.store_received([first], "peer"))
    second = _sealed(county, "T1", registration("T1"), seq=2, version=2)
    ahead = read_ahead(second.envelope, second.signature)
    assert ahead is not None

    def take(batch: LogBatch) -> TicketState:
        batch.store_received([second], "peer", {second.event_id: _marked(ahead)})
        return batch.state_of("T1")

    assert writer.call(take) == fold("T1", [first.recorded(), second.recorded()])


def test_a_read_ahead_serves_only_the_event_it_was_read_from(
    city: tuple[Database, LogWriter], county: NodeIdentity
) -> None:
    _, writer = city
    event = _sealed(county, "T1", registration("T1"))
    other = dataclasses.replace(_sealed(county, "T1", registration("T1")), event_id=event.event_id)
    ahead = read_ahead(event.envelope, event.signature)
    assert ahead is not None

    def take(batch: LogBatch) -> TicketState:
        mark = batch.mark()
        batch.store_received([event], "peer", {event.event_id: _marked(ahead)})
        batch.undo_to(mark)  # as when the job that stored it fails
        batch.store_received([other], "peer")
        return batch.state_of("T1")

    assert writer.call(take) == fold("T1", [other.recorded()])


def test_worker_process_refuses_a_bad_signature_and_reads_ahead_the_rest(
    county: NodeIdentity,
) -> None:
    key = county.public.public_key
    events = [_sealed(county, f"T{i}", registration(f"T{i}")) for i in range(PROCESS_BATCH)]
    tampered = dataclasses.replace(events[3], signature=bytes(64))
    events[3] = tampered

    class Keys:
        """The one part of a trust store the verifier asks: the county's certified key."""

        def certificates_for(self, key_ids: object) -> list[object]:
            return [type("Certified", (), {"event_public_key": key})()]

    threads = ThreadPoolExecutor(1)
    verifier = SignatureVerifier(threads)
    try:
        checked = asyncio.run(verifier.check(events, Keys()))  # type: ignore[arg-type]
    finally:
        verifier.close()
        threads.shutdown()
    assert checked[3].signature_problem is not None
    assert checked[3].signature_problem.reason is Refusal.BAD_SIGNATURE
    assert checked[3].read_ahead is None
    good = [c for i, c in enumerate(checked) if i != 3]
    assert all(c.signature_problem is None for c in good)
    for c in good:
        assert c.read_ahead is not None
        assert c.read_ahead.alone == fold(c.event.ticket_id, [c.event.recorded()])
