"""A key-encryption key rotated by command, the data keys moved in batches (issue 12, item 6).

``hotline keys rotate`` retires a county's key without touching a row; the node's re-wrapping
job then moves the tickets' data keys to the new key a batch per round, the filer stays
readable (masked) all along, and ``hotline keys forget`` deletes the old key only once nothing
is wrapped under it.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from node.cli.main import main as hotline
from node.devnet.samples import demo_tickets
from node.keys.ring import KeyRing
from proto.hotline.v1 import intake_pb2, ticket_pb2
from sync.codec import to_message
from sync.schema import personal_seals
from tests.helpers.world import InProcessNode, World, run_job


def kek_ids(node: InProcessNode) -> list[str]:
    with node.node.db.read() as conn:
        return [r.kek_id for r in conn.execute(select(personal_seals.c.kek_id))]


def test_a_rotated_key_s_data_moves_in_batches_and_the_old_key_is_then_forgotten(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start_line()
    tickets = [to_message(t, intake_pb2.NewTicket) for _, t in demo_tickets()[:5]]
    with world.officer("chengguan") as handler:
        ids = [handler.register(uuid.uuid4().hex, t).ticket_id for t in tickets]
    county = world["chengguan"]
    folder = world.settings["chengguan"].data_dir
    old = KeyRing.open(folder).active.kek_id
    assert set(kek_ids(county)) == {old}

    world.take_down("chengguan")
    assert hotline(["keys", "rotate", "--data-dir", str(folder)]) == 0
    new = KeyRing.open(folder).active.kek_id
    assert new != old
    county = world.bring_up("chengguan")

    job = county.node.jobs.jobs["rewrap"]
    job._batch = 2  # type: ignore[attr-defined]  # a small batch: several rounds
    run_job(county, "rewrap")
    assert sorted(kek_ids(county)).count(new) == 2
    with world.officer("chengguan") as handler:
        for ticket_id in ids:  # readable under either key meanwhile
            shown = handler.get(ticket_id)
            assert shown.personal_status == ticket_pb2.PERSONAL_DATA_STATUS_MASKED
    for _ in range(3):
        run_job(county, "rewrap")
    assert set(kek_ids(county)) == {new}

    world.take_down("chengguan")
    capsys.readouterr()
    db = ["--db", world.settings["chengguan"].database_url]
    assert hotline(["keys", "forget", "--data-dir", str(folder), "--key", new, *db]) == 2
    assert "active" in capsys.readouterr().err
    assert hotline(["keys", "forget", "--data-dir", str(folder), "--key", old, *db]) == 0
    assert [k.kek_id for k in KeyRing.open(folder).all()] == [new]


def test_a_retired_key_with_data_still_under_it_is_not_forgotten(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start_line()
    with world.officer("chengguan") as handler:
        handler.register(uuid.uuid4().hex, to_message(demo_tickets()[0][1], intake_pb2.NewTicket))
    folder = world.settings["chengguan"].data_dir
    world.take_down("chengguan")
    old = KeyRing.open(folder).active.kek_id
    assert hotline(["keys", "rotate", "--data-dir", str(folder)]) == 0
    capsys.readouterr()
    db = ["--db", world.settings["chengguan"].database_url]
    assert hotline(["keys", "forget", "--data-dir", str(folder), "--key", old, *db]) == 2
    assert "1 data keys are still wrapped" in capsys.readouterr().err
    assert old in [k.kek_id for k in KeyRing.open(folder).all()]
