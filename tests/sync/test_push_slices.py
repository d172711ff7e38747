"""A pushed batch is taken in slices: bounded writer jobs, chains whole, seals with their events.

The parent takes a child's pushed batch as several writer jobs of at most ``SLICE_EVENTS``
events (``sync.push_slices``), so its desk never waits for a whole backlog; the child's chain
must still arrive whole and in order, and each registration's sealed personal data with it.
"""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import func, select

from core.units import UnitLevel
from node.devnet.samples import random_ticket
from proto.hotline.v1 import intake_pb2
from sync import schema
from sync.codec import to_message
from sync.envelope import GENESIS_HASH, SealedEvent, seal
from sync.identity import NodeIdentity
from sync.ingest import CheckedEvent
from sync.log_store import EventLog
from sync.personal.seal import SealedPersonal
from sync.personal.shelf import PreparedSeal
from sync.personal.suites import CipherSuite
from sync.push_slices import SLICE_EVENTS, cut
from tests.helpers.registrations import COUNTY, registration
from tests.helpers.world import World, chain_held


def _chain(length: int) -> list[CheckedEvent]:
    origin = NodeIdentity.generate("620102", UnitLevel.COUNTY)
    events: list[SealedEvent] = []
    for seq in range(1, length + 1):
        ticket_id = f"T{seq}"
        events.append(
            seal(
                origin,
                event_id=uuid.uuid4().hex,
                seq=seq,
                prev_hash=events[-1].hash if events else GENESIS_HASH,
                ticket_id=ticket_id,
                event=registration(ticket_id),
                hlc=1_790_000_000_000 << 16 | seq,
                officer=COUNTY.ref(),
                ticket_version=1,
            )
        )
    return [CheckedEvent(e) for e in events]


def _seal(ticket_id: str, registration_event: str) -> PreparedSeal:
    sealed = SealedPersonal(CipherSuite.INTERNATIONAL, b"c" * 32, b"n" * 12, b"x" * 40)
    return PreparedSeal(ticket_id, registration_event, sealed, "kek-1", b"w" * 40)


def test_a_batch_is_cut_in_order_into_slices_of_at_most_the_size() -> None:
    checked = _chain(11)
    slices = cut(checked, [], size=4)
    assert [len(s.checked) for s in slices] == [4, 4, 3]
    assert [c for s in slices for c in s.checked] == checked


def test_a_seal_goes_with_the_slice_holding_its_registration() -> None:
    checked = _chain(9)
    seals = [_seal(c.event.ticket_id, c.event.event_id) for c in checked[::2]]
    slices = cut(checked, seals, size=3)
    for part in slices:
        held = {c.event.event_id for c in part.checked}
        assert all(s.registration_event in held for s in part.seals)
    assert sum(len(s.seals) for s in slices) == len(seals)


def test_a_seal_of_no_registration_in_the_batch_goes_after_every_event() -> None:
    checked = _chain(5)
    earlier = _seal("T-EARLIER", "")
    unknown = _seal("T-OTHER", "an-event-not-in-this-batch")
    slices = cut(checked, [earlier, unknown], size=2)
    assert [s.seals for s in slices] == [[], [], [earlier, unknown]]


def test_seals_alone_still_make_one_slice() -> None:
    alone = _seal("T-EARLIER", "")
    assert [(s.checked, s.seals) for s in cut([], [alone])] == [([], [alone])]
    assert [(s.checked, s.seals) for s in cut([], [])] == [([], [])]


def test_a_slice_holds_at_least_one_event() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        cut(_chain(2), [], size=0)


def test_a_backlog_longer_than_a_slice_arrives_whole_with_its_seals(world: World) -> None:
    world.start_line()
    backlog = 2 * SLICE_EVENTS + 7  # three slices of one pushed batch
    rng = random.Random(12315)
    with world.officer("chengguan") as handler:
        for _ in range(backlog):
            ticket = to_message(random_ticket(rng), intake_pb2.NewTicket)
            handler.register(uuid.uuid4().hex, ticket)
    world.sync("chengguan")
    county = world["chengguan"].node
    with county.db.read() as conn:
        own = EventLog(conn).head(county.identity.node_id)
        sealed_here = conn.execute(
            select(func.count()).select_from(schema.personal_seals)
        ).scalar_one()
    head, held = chain_held(world["city"], county.identity.node_id)
    with world["city"].node.db.read() as conn:
        sealed_there = conn.execute(
            select(func.count()).select_from(schema.personal_seals)
        ).scalar_one()
    assert own is not None and own.seq >= backlog
    assert head == own
    assert held == own.seq
    assert sealed_here >= backlog and sealed_there == sealed_here
