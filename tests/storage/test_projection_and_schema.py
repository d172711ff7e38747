"""The ticket table is only a view: rebuilt from the log it is identical to the live one.

And the schema Alembic builds is exactly the one the code declares, on both backends.
"""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from core.ticket.vocabulary import Finding, MediationOutcome, Satisfaction, Track
from node.devnet.samples import demo_tickets
from node.storage.database import Database
from node.storage.tables import ALL_METADATA, tickets
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.codec import enum_number, to_message
from tests.helpers.world import World, spec


def test_migrations_build_exactly_the_declared_schema(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        with db.writer_engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), list(ALL_METADATA))
    finally:
        db.close()
    assert differences == []


def test_a_rebuilt_projection_equals_the_live_one_on_every_level(world: World) -> None:
    for name in ("province", "city", "chengguan"):
        world.start(spec(name))
    with world.officer("province", 0) as centre:
        ids = {}
        for label, ticket in demo_tickets():
            response = centre.register(uuid.uuid4().hex, to_message(ticket, intake_pb2.NewTicket))
            ids[label] = response.ticket_id
            if label != "refund-policy":
                centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=response.ticket_id))
    world.sync("city", "chengguan")
    with world.officer("chengguan", 0) as handler, world.officer("chengguan", 1) as head:
        expired = ids["expired"]
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=expired))
        handler.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=expired, outcome=enum_number(MediationOutcome.SETTLED)
            ),
        )
        handler.step(
            "VerifyReport",
            cw.VerifyReportRequest(
                ticket_id=expired,
                finding=enum_number(Finding.NOT_SUBSTANTIATED),
                evidence="抽检合格",
            ),
        )
        for track in (Track.COMPLAINT, Track.REPORT):
            handler.step(
                "SubmitResult",
                cw.SubmitResultRequest(
                    ticket_id=expired, track=enum_number(track), summary="已办结"
                ),
            )
            head.step(
                "ApproveResult",
                cw.ApproveResultRequest(ticket_id=expired, track=enum_number(track)),
            )
    world.sync("chengguan", "city")
    with world.officer("province", 1) as supervisor:
        supervisor.step(
            "RecordCallback",
            cw.RecordCallbackRequest(
                ticket_id=ids["expired"], satisfaction=enum_number(Satisfaction.DISSATISFIED)
            ),
        )
    world.sync("city", "chengguan")

    for name in ("province", "city", "chengguan"):
        node = world[name].node
        projection = node.writer._project  # the same projection the writer keeps live
        with node.db.read() as conn:
            live = sorted(tuple(r) for r in conn.execute(select(tickets)))
            assert projection.differences(conn) == []  # type: ignore[attr-defined]
        with node.db.write() as conn:
            projection.rebuild(conn)  # type: ignore[attr-defined]
        with node.db.read() as conn:
            rebuilt = sorted(tuple(r) for r in conn.execute(select(tickets)))
        assert rebuilt == live, name
        assert len(live) > 0
