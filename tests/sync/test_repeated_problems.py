"""A problem that comes back on every replication round is counted on one alert, not raised anew.

A county whose stored event was edited pushes it again on every round (its parent never takes
it, so the parent's head never moves past it). The parent keeps one open alert and one problem
row for it, each counting the rounds; an alert raised on another problem is raised on its own.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from node.cli.main import main as hotline
from proto.hotline.v1 import casework_pb2 as cw
from sync import schema
from sync.log_store import EventLog
from tests.helpers.tickets import register_and_route
from tests.helpers.world import World

ROUNDS = 5


def test_a_tampered_event_pushed_every_round_raises_one_alert_with_a_count(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start_line()
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    world.take_down("city")  # so the step stays on the county until after the tampering
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    county = world["chengguan"]
    with county.node.db.read() as conn:
        accept = EventLog(conn).chain_after(county.node.identity.node_id, 0, 10_000)[-1]
    forged = accept.envelope.replace("李强".encode(), "王强".encode())
    with county.node.db.write() as conn:
        conn.execute(
            update(schema.events)
            .where(schema.events.c.event_id == accept.event_id)
            .values(envelope=forged)
        )

    city = world.bring_up("city")
    for _ in range(ROUNDS):
        with county.client() as client:
            assert client.sync_now().rejected == 1

    with city.client() as client:
        alerts = [a for a in client.alerts() if a.kind == "tampered-event"]
    assert len(alerts) == 1, [a.detail for a in alerts]
    # At least once a round: the county's own link may run a round of its own between them.
    seen = alerts[0].repeats
    assert seen >= ROUNDS
    assert alerts[0].last_ms > alerts[0].raised_ms
    with city.node.db.read() as conn:
        problems = conn.execute(
            select(schema.sync_problems.c.repeats).where(
                schema.sync_problems.c.event_id == accept.event_id
            )
        ).all()
    # The county's own link may have run one more round since (each read is a moment's).
    (problem,) = problems
    assert problem.repeats >= seen

    status = hotline(["alerts", *city.cli()])  # its system administrator
    out = capsys.readouterr().out
    printed = re.search(r"seen (\d+) times", out)
    assert status == 0 and printed is not None and int(printed.group(1)) >= seen, out
