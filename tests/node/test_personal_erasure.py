"""Erasure of personal data at the end of its retention period, on real nodes (个人信息删除).

A complaint closed at the county keeps its filer's data sealed on every node it reached; three
years later (the default retention) the county's erasure job signs ``PersonalDataErased`` and,
as replication carries it, every node deletes what it held, while the signed log stays whole
and its audit still passes. The nodes run on a clock the test moves by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import func, select

from core import hlc
from core.personal import DEFAULT_RETENTION_DAYS, ERASURE_REASON
from core.ticket.events import PersonalDataErased
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import MediationOutcome, Track
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.devnet.samples import demo_tickets
from node.jobs.erasure import personal_data_erasure
from node.storage.tables import consumer_codes, ticket_fingerprints
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import ticket_pb2
from sync import schema
from sync.audit import audit_log, audit_ticket, load_trust_store, personal_data_to_dict
from sync.codec import enum_number, from_message
from sync.log_store import EventLog
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.tickets import register_and_route
from tests.helpers.world import InProcessNode, World, run_job, spec

LINE = ("province", "city", "chengguan")
GYM = dict(demo_tickets())["gym"]
PERSONAL_TABLES = (
    schema.personal_seals,
    schema.personal_lookups,
    consumer_codes,
    ticket_fingerprints,
)


def start_line(world: World, time: HandMovedTime) -> None:
    for name in LINE:
        world.start(spec(name), clock=Clock(_real=time))


def close_at_county(world: World, ticket_id: str) -> TicketState:
    """The county accepts, the consumer withdraws, the handler signs, the head approves."""
    with world.officer("chengguan", 0) as handler, world.officer("chengguan", 1) as head:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        handler.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=ticket_id, outcome=enum_number(MediationOutcome.WITHDRAWN)
            ),
        )
        handler.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=ticket_id, track=enum_number(Track.COMPLAINT), summary="消费者撤回投诉"
            ),
        )
        approved = head.step(
            "ApproveResult",
            cw.ApproveResultRequest(ticket_id=ticket_id, track=enum_number(Track.COMPLAINT)),
        )
    state = from_message(TicketState, approved.ticket)
    assert state.status is TicketStatus.CLOSED and state.holder_unit == "620102"
    return state


def personal_rows(node: InProcessNode, ticket_id: str) -> dict[str, int]:
    """How many rows of each personal-data table the node holds for the ticket."""
    with node.node.db.read() as conn:
        return {
            table.name: int(
                conn.execute(
                    select(func.count()).select_from(table).where(table.c.ticket_id == ticket_id)
                ).scalar_one()
            )
            for table in PERSONAL_TABLES
        }


def erasures_in_log(node: InProcessNode, ticket_id: str) -> list[PersonalDataErased]:
    with node.node.db.read() as conn:
        events = [e.recorded().event for e in EventLog(conn).ticket_events(ticket_id)]
    return [e for e in events if isinstance(e, PersonalDataErased)]


def shown(world: World, name: str, ticket_id: str) -> ticket_pb2.Ticket:
    with world.officer(name) as officer:
        return officer.get(ticket_id)


def after_retention(closed: TicketState, days: float) -> dt.datetime:
    """``days`` after the end of the default retention period of a ticket closed at ``closed``."""
    ended = dt.datetime.fromtimestamp(hlc.to_millis(closed.closed_hlc) / 1000, dt.UTC)
    return ended + dt.timedelta(days=DEFAULT_RETENTION_DAYS + days)


def root_of(world: World) -> x509.Certificate:
    return x509.load_pem_x509_certificate(world.hierarchy.root_pem())


def test_a_complaint_closed_at_the_county_is_erased_everywhere_three_years_on_and_the_log_still_audits(  # noqa: E501
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], personal_suite: str
) -> None:
    world.personal_suite = personal_suite  # in both cipher suites
    time = HandMovedTime(china("2026-12-01", 10))
    start_line(world, time)
    with world.officer("province") as centre:
        closed_id = register_and_route(centre, "gym")
        open_id = register_and_route(centre, "fridge")
    world.sync("city", "chengguan")
    time.set(china("2026-12-03", 10))
    closed = close_at_county(world, closed_id)
    world.sync("chengguan", "city")
    county = world["chengguan"]
    for name in LINE:  # the filer's data went everywhere the ticket went
        held = personal_rows(world[name], closed_id)
        assert held[schema.personal_seals.name] == 1, name
        assert shown(world, name, closed_id).personal_status == (
            ticket_pb2.PERSONAL_DATA_STATUS_MASKED
        )

    time.set(after_retention(closed, -1))  # a day before the end of the retention period
    assert run_job(county, "erasure") == 0
    time.set(after_retention(closed, 1))
    assert run_job(county, "erasure") == 1  # the closed ticket; the open one is kept
    assert run_job(county, "erasure") == 0  # a second round records nothing new
    assert erasures_in_log(county, closed_id) == [
        PersonalDataErased(ERASURE_REASON, DEFAULT_RETENTION_DAYS)
    ]
    world.sync("chengguan", "city")

    for name in LINE:
        node = world[name]
        assert personal_rows(node, closed_id) == dict.fromkeys(
            (t.name for t in PERSONAL_TABLES), 0
        ), name
        ticket = shown(world, name, closed_id)
        assert ticket.personal_status == ticket_pb2.PERSONAL_DATA_STATUS_ERASED, name
        consumer = ticket.registration.consumer
        assert (consumer.name, consumer.phone, consumer.address, consumer.id_number) == (
            "",
            "",
            "",
            "",
        ), name
        assert ticket.registration.personal.commitment, name  # the commitment stays signed
        assert personal_rows(node, open_id)[schema.personal_seals.name] == 1, name
        assert shown(world, name, open_id).personal_status == (
            ticket_pb2.PERSONAL_DATA_STATUS_MASKED
        )
        with node.node.db.read() as conn:
            trust = load_trust_store(conn, root_of(world))
            report = audit_log(conn, trust)
            entries, problems = audit_ticket(conn, trust, closed_id)
        assert report.ok, (name, report.problems)
        assert problems == [], name
        assert all(e.signature_ok and e.certificate_ok and e.counted for e in entries), name
        assert entries[0].short_type == "TicketRegistered"
        assert entries[-1].short_type == "PersonalDataErased"
        erased = personal_data_to_dict(entries)
        assert erased["status"] == "erased" and erased["by_unit"] == "620102", name
        assert erased["by_node"] == county.node.identity.node_id

    world.stop()  # the inspector works on the county's database at rest
    root = tmp_path / "inspector-root.pem"
    root.write_bytes(world.hierarchy.root_pem())
    db = world.settings["chengguan"].db
    capsys.readouterr()
    assert hotline(["audit", "ticket", closed_id, "--db", db, "--root", str(root)]) == 0
    printed = capsys.readouterr().out
    assert "个人信息已删除 personal data erased" in printed
    assert f"by node {county.node.identity.node_id} (620102)" in printed
    assert printed.rstrip().endswith("OK: complete and untouched")
    for value in (GYM.consumer.name, GYM.consumer.phone, GYM.consumer.address):
        assert value not in printed
    assert hotline(["audit", "--db", db, "--root", str(root)]) == 0
    assert "OK: every signature, hash, column and chain checks out." in capsys.readouterr().out


def test_the_province_erases_a_ticket_whose_county_is_down_after_the_grace(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    start_line(world, time)
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    closed = close_at_county(world, ticket_id)
    world.sync("chengguan", "city")
    world.take_down("chengguan")  # its node is gone when the retention period ends
    province, city = world["province"], world["city"]

    time.set(after_retention(closed, 1))
    assert run_job(province, "erasure") == 0  # the holder's node has its week first
    assert run_job(city, "erasure") == 0  # the city is above the holder, not the holder
    time.set(after_retention(closed, 8))
    assert run_job(city, "erasure") == 0
    assert run_job(province, "erasure") == 1
    assert run_job(province, "erasure") == 0
    assert personal_rows(province, ticket_id)[schema.personal_seals.name] == 0
    world.sync("city")  # the city takes the province's erasure down
    assert personal_rows(city, ticket_id)[schema.personal_seals.name] == 0

    county = world.bring_up("chengguan", clock=Clock(_real=time))
    assert personal_rows(county, ticket_id)[schema.personal_seals.name] == 1
    world.sync("chengguan")
    assert personal_rows(county, ticket_id) == dict.fromkeys((t.name for t in PERSONAL_TABLES), 0)
    assert shown(world, "chengguan", ticket_id).personal_status == (
        ticket_pb2.PERSONAL_DATA_STATUS_ERASED
    )
    assert run_job(county, "erasure") == 0  # already erased: the county records nothing
    (erasure,) = erasures_in_log(county, ticket_id)
    assert erasure.retention_days == DEFAULT_RETENTION_DAYS


def test_an_open_ticket_past_the_retention_is_not_erased(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    start_line(world, time)
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    with world.officer("chengguan", 0) as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    time.set(china("2031-01-01", 10))  # four years on, still in handling
    for name in LINE:
        assert run_job(world[name], "erasure") == 0, name
        assert personal_rows(world[name], ticket_id)[schema.personal_seals.name] == 1, name


def test_the_retention_period_is_read_at_each_round(world: World) -> None:
    time = HandMovedTime(china("2026-12-01", 10))
    start_line(world, time)
    county = world["chengguan"]
    days = [30]
    county.node.jobs.jobs["erasure"] = personal_data_erasure(county.node, lambda: days[0])
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    closed = close_at_county(world, ticket_id)
    ended = dt.datetime.fromtimestamp(hlc.to_millis(closed.closed_hlc) / 1000, dt.UTC)
    time.set(ended + dt.timedelta(days=31))
    days[0] = 60  # the rule book was amended before the round
    assert run_job(county, "erasure") == 0
    days[0] = 30
    assert run_job(county, "erasure") == 1
    (erasure,) = erasures_in_log(county, ticket_id)
    assert erasure.retention_days == 30
    assert personal_rows(county, ticket_id)[schema.personal_seals.name] == 0
