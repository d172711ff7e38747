"""Personal data sealed beside the signed log (issue 12, item 1; protocol 2).

A registration is signed with a commitment to its filer's data, never the data; the data
travels sealed beside it, is checked against the commitment by every node that takes it in,
and is kept under each node's own key-encryption key. A peer of protocol 1, a registration with
the data in clear, or a seal that is not what the registration commits to, are refused.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select

from core.ticket.events import TicketRegistered
from core.ticket.vocabulary import NO_CONSUMER, Consumer
from node.cli.main import main as hotline
from node.devnet.samples import demo_tickets
from proto.hotline.v1 import intake_pb2, sync_pb2, ticket_pb2
from sync import schema
from sync.codec import to_message
from sync.envelope import seal
from sync.log_store import EventLog
from sync.personal.fresh import fresh_seal
from sync.personal.suites import CipherSuite
from tests.helpers.peers import push_raw
from tests.helpers.world import InProcessNode, World, run_job

GYM = dict(demo_tickets())["gym"]


def walk_in(consumer: Consumer | None = None) -> intake_pb2.NewTicket:
    """The gym complaint as a walk-in at a county, with ``consumer`` as its filer."""
    command = GYM if consumer is None else replace(GYM, consumer=consumer)
    return to_message(command, intake_pb2.NewTicket)


def seals_held(node: InProcessNode, ticket_id: str) -> int:
    with node.node.db.read() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(schema.personal_seals)
            .where(schema.personal_seals.c.ticket_id == ticket_id)
        )
        return int(count.scalar_one())


def registration_of(node: InProcessNode, ticket_id: str) -> TicketRegistered:
    with node.node.db.read() as conn:
        events = EventLog(conn).ticket_events(ticket_id)
    found = [e.recorded().event for e in events if e.event_type.endswith("TicketRegistered")]
    assert len(found) == 1
    event = found[0]
    assert isinstance(event, TicketRegistered)
    return event


def sqlite_bytes(node: InProcessNode) -> bytes:
    """The bytes of a node's SQLite database and write-ahead log ('' on PostgreSQL)."""
    url = node.node.settings.database_url
    if not url.startswith("sqlite"):
        return b""
    path = Path(url.split("///", 1)[1])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_a_registration_is_signed_with_a_commitment_and_not_the_filers_data(
    world: World, personal_suite: str
) -> None:
    world.personal_suite = personal_suite
    world.start_line()
    with world.officer("chengguan") as handler:
        ticket_id = handler.register(uuid.uuid4().hex, walk_in()).ticket_id
    county = world["chengguan"]
    registration = registration_of(county, ticket_id)
    assert registration.consumer == NO_CONSUMER
    assert registration.personal.suite == CipherSuite.parse(personal_suite).value
    assert len(registration.personal.commitment) == 32
    assert seals_held(county, ticket_id) == 1
    disk = sqlite_bytes(county)
    for value in (GYM.consumer.name, GYM.consumer.phone, GYM.consumer.address):
        assert value.encode() not in disk
    assert GYM.consumer.id_number and GYM.consumer.id_number.encode() not in disk


def test_the_filer_is_shown_masked_wherever_the_seal_travelled(
    world: World, personal_suite: str
) -> None:
    world.personal_suite = personal_suite
    world.start_line()
    with world.officer("chengguan") as handler:
        ticket_id = handler.register(uuid.uuid4().hex, walk_in()).ticket_id
        answer = handler.get(ticket_id)
    world.sync("chengguan", "city")
    shown = {"chengguan": answer}
    for name in ("city", "province"):
        assert seals_held(world[name], ticket_id) == 1
        with world.officer(name) as officer:
            shown[name] = officer.get(ticket_id)
    phone = GYM.consumer.phone
    for name, ticket in shown.items():
        consumer = ticket.registration.consumer
        assert ticket.personal_status == ticket_pb2.PERSONAL_DATA_STATUS_MASKED, name
        assert consumer.phone == f"{phone[:3]}****{phone[-4:]}", name
        assert consumer.name == GYM.consumer.name[0] + "*" * (len(GYM.consumer.name) - 1), name


def test_a_peer_of_protocol_1_is_refused_with_a_reason(world: World) -> None:
    world.start_all("province", "city")
    city = world["city"]
    with pytest.raises(grpc.RpcError) as refused:
        push_raw(city, world["province"], [], protocol_version=0)
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "protocol 1" in str(refused.value.details())


def _signed_registration(
    county: InProcessNode, ticket_id: str, registration: TicketRegistered
) -> list:  # type: ignore[type-arg]
    """A registration signed by ``county`` as the next event of its chain."""
    with county.node.db.read() as conn:
        head = EventLog(conn).head(county.node.identity.node_id)
    assert head is not None
    with county.node.db.read() as conn:
        held = EventLog(conn).chain_after(county.node.identity.node_id, 0, 1)[0]
    return [
        seal(
            county.node.identity,
            event_id=uuid.uuid4().hex,
            seq=head.seq + 1,
            prev_hash=head.hash,
            ticket_id=ticket_id,
            event=registration,
            hlc=held.hlc + 10_000_000,
            officer=held.officer,
            ticket_version=0,
        )
    ]


def test_a_registration_with_the_filer_in_clear_is_refused_and_never_stored(
    world: World,
) -> None:
    world.start_line()
    county, city = world["chengguan"], world["city"]
    with world.officer("chengguan") as handler:
        genuine = handler.register(uuid.uuid4().hex, walk_in()).ticket_id
    world.sync("chengguan")
    in_clear = replace(registration_of(county, genuine), consumer=GYM.consumer)
    forged_id = f"{county.node.identity.node_id}-999999"
    event = _signed_registration(county, forged_id, replace(in_clear, ticket_id=forged_id))
    summary = push_raw(county, city, event)
    assert summary.rejected == 1
    assert "personal data in clear" in summary.rejections[0].reason
    with city.node.db.read() as conn:
        assert not EventLog(conn).known_ids([event[0].event_id])
    assert GYM.consumer.phone.encode() not in sqlite_bytes(city)


def _forged_pair(
    world: World, ticket_id_seq: int, *, seal_commitment_of_other: bool
) -> tuple[InProcessNode, InProcessNode, str, list, sync_pb2.PersonalSeal]:  # type: ignore[type-arg]
    """A registration the county signs (committing to the gym's filer) and a seal of someone
    else's data sent beside it: under the signed commitment (it then does not open to it) or
    under its own (it opens, but to what the registration does not sign)."""
    world.start_line()
    county, city = world["chengguan"], world["city"]
    with world.officer("chengguan") as handler:
        genuine = handler.register(uuid.uuid4().hex, walk_in()).ticket_id
    world.sync("chengguan")
    ticket_id = f"{county.node.identity.node_id}-{ticket_id_seq:06d}"
    suite = CipherSuite.INTERNATIONAL
    signed, _ = fresh_seal(suite, ticket_id, GYM.consumer)
    held = registration_of(county, genuine)
    registration = replace(
        held,
        ticket_id=ticket_id,
        personal=replace(held.personal, commitment=signed.commitment),
    )
    other, data_key = fresh_seal(suite, ticket_id, Consumer("李四", "13800000000"))
    seal_message = sync_pb2.PersonalSeal(
        ticket_id=ticket_id,
        suite=suite.value,
        commitment=other.commitment if seal_commitment_of_other else signed.commitment,
        nonce=other.nonce,
        ciphertext=other.ciphertext,
        data_key=data_key,
    )
    return (
        county,
        city,
        ticket_id,
        _signed_registration(county, ticket_id, registration),
        (seal_message),
    )


def test_a_seal_that_does_not_open_to_its_commitment_is_deleted_at_its_first_opening(
    world: World,
) -> None:
    county, city, ticket_id, events, seal = _forged_pair(
        world, 999998, seal_commitment_of_other=False
    )
    summary = push_raw(county, city, events, seals=[seal])
    assert summary.accepted == 1
    assert seals_held(city, ticket_id) == 1  # its commitment is the registration's
    run_job(city, "lookup-rekey")  # the first opening: it does not open to its commitment
    assert seals_held(city, ticket_id) == 0
    with world.officer("city") as officer:
        shown = officer.get(ticket_id)
    assert shown.personal_status == ticket_pb2.PERSONAL_DATA_STATUS_NOT_HELD
    assert not shown.registration.consumer.phone


def test_a_seal_for_another_commitment_than_the_registration_s_is_never_kept(
    world: World,
) -> None:
    county, city, ticket_id, events, seal = _forged_pair(
        world, 999997, seal_commitment_of_other=True
    )
    summary = push_raw(county, city, events, seals=[seal])
    assert summary.accepted == 1
    assert seals_held(city, ticket_id) == 0


def test_after_the_province_switches_suites_the_seals_still_travel(world: World) -> None:
    """Nodes that started in SM4 keep SM4 key-encryption keys; registrations sealed in AES-256
    after the rule book switches are wrapped under them and still go up the line."""
    world.personal_suite = "commercial"
    world.start_line()
    cli = world["province"].cli("620000-02")
    assert hotline(["rules", "personal", "--suite", "international", *cli]) == 0
    world.sync("city", "chengguan")  # the book comes down
    with world.officer("chengguan") as handler:
        ticket_id = handler.register(uuid.uuid4().hex, walk_in()).ticket_id
    assert registration_of(world["chengguan"], ticket_id).personal.suite == (
        CipherSuite.INTERNATIONAL.value
    )
    world.sync("chengguan", "city")
    for name in ("city", "province"):
        assert seals_held(world[name], ticket_id) == 1
        with world.officer(name) as officer:
            shown = officer.get(ticket_id)
        assert shown.personal_status == ticket_pb2.PERSONAL_DATA_STATUS_MASKED, name
