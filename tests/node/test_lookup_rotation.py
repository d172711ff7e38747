"""Rotating the province's look-up key keeps the links between past and new tickets (issue 12,
item 4).

Duplicate and claimant detection compare keyed digests of the filer's phone (HMAC under the
province's look-up key); the province rotates the key through its rule book, the new key comes
down at the next rounds, and each node's re-keying job moves its past tickets' digests to it.
A ticket filed after the rotation is then still linked to those filed before.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TypeVar

import pytest
from sqlalchemy import select, update

from core.ticket.commands import RegisterTicket
from core.ticket.state import TicketState
from core.ticket.vocabulary import Consumer
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.devnet.samples import APPLIANCES, GYM, NOODLES, SCHOOL, SUPERMARKET, demo_tickets
from node.jobs.lookup_rekey import LookupRekey
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.codec import from_message, to_message
from sync.personal.shelf import UNKEYED, Lookups, lookups_of
from sync.schema import personal_lookups
from sync.writer import Job, Lane, LogBatch
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.registrations import registration
from tests.helpers.world import InProcessNode, World, run_job

GYM_COMPLAINT = dict(demo_tickets())["gym"]
T = TypeVar("T")


def file(world: World, name: str, ticket: RegisterTicket, *, route: bool = True) -> str:
    """Register ``ticket`` at node ``name`` (and route it by jurisdiction); its id."""
    with world.officer(name) as client:
        ticket_id = client.register(
            uuid.uuid4().hex, to_message(ticket, intake_pb2.NewTicket)
        ).ticket_id
        if route:
            client.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    return ticket_id


def state(world: World, name: str, ticket_id: str) -> TicketState:
    with world.officer(name) as client:
        return from_message(TicketState, client.get(ticket_id))


def lookup_key_ids(node: InProcessNode) -> set[str]:
    with node.node.db.read() as conn:
        return {r.key_id for r in conn.execute(select(personal_lookups.c.key_id))}


def rotate(world: World) -> str:
    """The province rotates its look-up key; the id of the new one."""
    assert hotline(["rules", "rotate-lookup-key", *world["province"].cli("620000-02")]) == 0
    with world["province"].client() as province:
        return province.rules().rule_book.lookup_key_id


def test_a_duplicate_is_still_found_after_the_look_up_key_rotates(world: World) -> None:
    world.start_line()
    before = file(world, "chengguan", GYM_COMPLAINT, route=False)
    county = world["chengguan"]
    old_keys = lookup_key_ids(county)
    new_key = rotate(world)
    world.sync("city", "chengguan")  # the new book and key come down
    assert new_key not in old_keys
    run_job(county, "lookup-rekey")
    assert lookup_key_ids(county) == {new_key}
    again = file(world, "chengguan", GYM_COMPLAINT, route=False)
    registration = state(world, "chengguan", again).registration
    assert registration is not None and registration.duplicate_of == before


def test_a_claimant_is_flagged_across_a_rotation_of_the_look_up_key(world: World) -> None:
    clock = HandMovedTime(china("2026-12-01", 9))
    world.start_all("province", "city", "chengguan", clock=Clock(_real=clock))
    province = world["province"]
    claimant = Consumer("钱某", "13809310077")
    tickets = []
    for day, business in enumerate((GYM, NOODLES, APPLIANCES, SCHOOL, SUPERMARKET), start=1):
        clock.set(china(f"2026-12-{day:02d}", 10))
        if day == 4:  # three tickets under the old key, two under the new
            new_key = rotate(world)
            run_job(province, "lookup-rekey")
            assert lookup_key_ids(province) == {new_key}
        ticket = replace(
            GYM_COMPLAINT,
            consumer=claimant,
            respondent=business,
            facts=f"购买的商品与宣传不符，要求十倍赔偿（{business.name}）。",
        )
        tickets.append(file(world, "province", ticket))
    assert run_job(province, "claimants") == 5
    flag = state(world, "province", tickets[0]).claimant
    assert flag is not None and (flag.tickets, flag.businesses) == (5, 5)


def test_digests_the_desk_made_are_kept_only_under_the_look_up_key_still_in_force(
    world: World,
) -> None:
    """The intake desk makes the filer's digests off the writer and hands them to the seal
    shelf; if the key rotated out in between, the writer makes them again under the new one."""
    world.start_all("province")
    node = world["province"].node
    in_force = node.shelf.lookup_key()
    filer = registration("x").consumer
    made = lookups_of(in_force, filer)
    retired = Lookups("retired-key", "0" * 32, "1" * 32)
    for ticket_id, handed in (("620000-t1", made), ("620000-t2", retired), ("620000-t3", None)):

        def seal(
            batch: LogBatch, ticket_id: str = ticket_id, handed: Lookups | None = handed
        ) -> None:
            node.shelf.seal_registration(batch, registration(ticket_id), handed)

        node.writer.call(seal)
    with node.db.read() as conn:
        rows = {
            r.ticket_id: Lookups(r.key_id, r.phone_key, r.id_key)
            for r in conn.execute(select(personal_lookups))
        }
    assert made.phone_key and made.key_id == in_force.key_id
    assert rows == {"620000-t1": made, "620000-t2": made, "620000-t3": made}


def test_the_re_keying_job_takes_the_writer_a_slice_at_a_time_on_the_backlog_lane(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replication storm leaves thousands of seals to open; one writer job per batch of 500
    held the writer for a second while the desk waited (docs/storm.md)."""
    world.start_all("province")
    node = world["province"].node
    ids = [f"620000-s{i}" for i in range(5)]
    for ticket_id in ids:

        def seal_without_lookups(batch: LogBatch, ticket_id: str = ticket_id) -> None:
            node.shelf.seal_registration(batch, registration(ticket_id), None)

        node.writer.call(seal_without_lookups)
    with node.db.write() as conn:  # as if taken in by replication: look-ups under no key
        conn.execute(
            update(personal_lookups)
            .where(personal_lookups.c.ticket_id.in_(ids))
            .values(key_id=UNKEYED, phone_key="", id_key="")
        )
    lanes: list[Lane] = []
    run = node.writer.run

    async def noting_the_lane(job: Job[T], *, lane: Lane = Lane.DESK) -> T:
        lanes.append(lane)
        return await run(job, lane=lane)

    monkeypatch.setattr(node.writer, "run", noting_the_lane)
    rekey = LookupRekey(node.shelf, node.db.read, node.writer, node.blocking, slice_size=2)
    world["province"].run(rekey.run_once())
    assert lanes == [Lane.BACKLOG] * 3  # 2 + 2 + 1 tickets
    in_force = node.shelf.lookup_key().key_id
    with node.db.read() as conn:
        keyed = {
            r.ticket_id: r.key_id
            for r in conn.execute(
                select(personal_lookups).where(personal_lookups.c.ticket_id.in_(ids))
            )
        }
    assert keyed == dict.fromkeys(ids, in_force)


def test_a_seal_taken_in_waits_under_no_key_until_a_round_keys_it_and_then_nothing_is_left(
    world: World,
) -> None:
    """At a million tickets a search of every seal for one without look-ups cost the database
    seconds every round with nothing to find (docs/benchmarks.md, "where the targets stand"):
    a seal taken in now waits under no key, which the job finds by index."""
    world.start_line()
    ticket_id = file(world, "province", GYM_COMPLAINT)
    world.sync("city")
    city = world["city"]

    def lookups_at_city() -> tuple[str, str]:
        with city.node.db.read() as conn:
            row = conn.execute(
                select(personal_lookups).where(personal_lookups.c.ticket_id == ticket_id)
            ).one()
        return row.key_id, row.phone_key

    assert lookups_at_city() == (UNKEYED, "")
    job = LookupRekey(city.node.shelf, city.node.db.read, city.node.writer, city.node.blocking)
    in_force = city.node.shelf.lookup_key().key_id
    assert city.node.blocking.executor.submit(job._pending, in_force).result() == [ticket_id]
    run_job(city, "lookup-rekey")
    key_id, phone_key = lookups_at_city()
    assert key_id == in_force and phone_key
    assert city.node.blocking.executor.submit(job._pending, in_force).result() == []
