"""The parent keeps the signed head of its child's access record: a tail cut is caught above.

Cutting the last rows of a node's access record and setting its head row back leaves a whole
chain; nothing in the node's own database shows it. At every replication round the child sends
its record's head, signed, in its Hello, and the parent keeps the newest one
(``sync.access_anchors``). Then `hotline audit --parent-db` finds the cut in the child's
database, and the parent raises an ``access-record`` alert when the child's head comes back
lower than the one it kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from node.cli.main import main as hotline
from node.edge.client import CallError
from sync import schema
from sync.access_anchors import held
from tests.helpers.auditing import HANDLER, AuditedCounty, start_audited_county
from tests.helpers.signin import access_rows
from tests.helpers.world import InProcessNode, World, spec


def _county_under_city(world: World) -> tuple[InProcessNode, AuditedCounty]:
    city = world.start(spec("city"))
    county = start_audited_county(world)
    county.node.replicate_only_when_asked()  # a round of its own would land between a cut and ours
    with county.node.client() as guesser:
        for _ in range(2):
            with pytest.raises(CallError):
                guesser.sign_in(HANDLER, "Wrong-password-123", "000000")
    return city, county


def _sync(county: AuditedCounty) -> None:
    link = county.node.node.link
    assert link is not None
    county.node.run(link.sync_once())


def _cut_tail(db: str, keep: int) -> None:
    engine = create_engine(db)
    try:
        with engine.begin() as conn:
            digest = conn.execute(
                text("SELECT digest FROM access_record WHERE seq = :s"), {"s": keep}
            ).scalar_one()
            conn.execute(text("DELETE FROM access_record WHERE seq > :s"), {"s": keep})
            conn.execute(
                text("UPDATE access_record_head SET seq = :s, digest = :d"),
                {"s": keep, "d": bytes(digest)},
            )
    finally:
        engine.dispose()


def test_the_parent_keeps_the_child_s_signed_head_and_the_audit_catches_a_tail_cut_with_it(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city, county = _county_under_city(world)
    _sync(county)
    last = access_rows(county.node)[-1]
    node_id = county.node.node.identity.node_id
    with city.node.db.read() as conn:
        kept = held(conn, node_id)
    assert [k.seq for k in kept] == [last.seq]
    world.stop()
    root = tmp_path / "root.pem"
    root.write_bytes(world.hierarchy.root_pem())
    db, parent = world.settings["chengguan"].db, world.settings["city"].db
    audit = ["audit", "--db", db, "--root", str(root), "--parent-db", parent]

    capsys.readouterr()
    assert hotline(audit) == 0
    out = capsys.readouterr().out
    assert f"the parent's anchor of {node_id}'s access record: {last.seq}:" in out

    _cut_tail(db, last.seq - 2)
    assert hotline(["audit", "--db", db, "--root", str(root)]) == 0  # whole chain, alone
    capsys.readouterr()
    assert hotline(audit) == 1
    out = capsys.readouterr().out
    assert f"the record ends at row {last.seq - 2}, before the anchored row" in out


def _alerts(city: InProcessNode) -> list[tuple[str, str]]:
    with city.node.db.read() as conn:
        rows = conn.execute(
            select(schema.alerts.c.subject, schema.alerts.c.detail).where(
                schema.alerts.c.kind == "access-record"
            )
        ).all()
    return [(r.subject, r.detail) for r in rows]


def _kept(city: InProcessNode, county: AuditedCounty) -> list[int]:
    with city.node.db.read() as conn:
        return [k.seq for k in held(conn, county.node.node.identity.node_id)]


def _wrong_tries(county: AuditedCounty, count: int) -> None:
    with county.node.client() as guesser:
        for _ in range(count):
            with pytest.raises(CallError):
                guesser.sign_in("620102-nobody", "Wrong-password-123", "000000")


def test_a_record_that_grows_on_replaces_the_head_kept_once_it_shows_the_kept_row(
    world: World,
) -> None:
    city, county = _county_under_city(world)
    _sync(county)
    first = access_rows(county.node)[-1].seq
    _wrong_tries(county, 2)
    _sync(county)  # the parent now names `first`; the child proves it at the next round
    _wrong_tries(county, 2)
    _sync(county)
    assert _kept(city, county) == [access_rows(county.node)[-1].seq]
    assert first < _kept(city, county)[0]
    assert _alerts(city) == []


def test_a_child_whose_record_went_back_is_an_alert_at_the_parent_which_keeps_the_higher_head(
    world: World,
) -> None:
    city, county = _county_under_city(world)
    _sync(county)
    node_id = county.node.node.identity.node_id
    before = access_rows(county.node)[-1].seq
    _cut_tail(world.settings["chengguan"].db, before - 3)
    _sync(county)
    assert _kept(city, county) == [before]
    [(subject, detail)] = _alerts(city)
    assert subject == node_id and f"now ends at row {before - 3}" in detail


def test_a_record_cut_and_grown_past_the_head_kept_between_two_rounds_is_caught(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city, county = _county_under_city(world)
    _sync(county)
    anchored = access_rows(county.node)[-1].seq
    _cut_tail(world.settings["chengguan"].db, anchored - 2)
    _wrong_tries(county, 5)  # rows anchored-1 .. anchored+3, made anew
    grown = access_rows(county.node)[-1].seq
    assert grown > anchored
    _sync(county)
    assert _kept(city, county) == [anchored, grown]  # the old head is not given up
    [(_, detail)] = _alerts(city)
    assert f"row {anchored} is now" in detail and "rewritten" in detail
    world.stop()
    root = tmp_path / "root.pem"
    root.write_bytes(world.hierarchy.root_pem())
    db, parent = world.settings["chengguan"].db, world.settings["city"].db
    capsys.readouterr()
    assert hotline(["audit", "--db", db, "--root", str(root), "--parent-db", parent]) == 1
    out = capsys.readouterr().out
    assert f"row {anchored}'s digest is now" in out and "rewritten from there" in out
