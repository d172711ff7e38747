"""`hotline audit` checks the access record: an edited, removed or cut-off row is caught.

Issue 11, item 6 ("editing one of its rows in the database is caught by `hotline audit`").
A county whose officers signed in for real, with refused tries in its record, is stopped; its
database is then edited as a curious administrator would (SQLite and PostgreSQL), and the
inspector's audit, with their own copy of the national root, names the first broken row and
exits 1. A tail cut with the head row set back leaves a whole chain: the anchor an auditor kept
from an earlier read catches it. Rows signed before `hotline pki rotate` still verify after it.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.access.record import digest_of
from node.cli.main import main as hotline
from node.edge.client import CallError
from sync.identity import NodeIdentity
from tests.helpers.auditing import HANDLER, AuditedCounty, start_audited_county
from tests.helpers.signin import access_rows
from tests.helpers.world import World


def _prepared(world: World, tmp_path: Path) -> tuple[AuditedCounty, str, Path, str]:
    """The county after refused tries and a read, stopped: its record's anchor, the inspector's
    root and the database URL."""
    county = start_audited_county(world)
    with county.node.client() as guesser:
        for _ in range(3):
            with pytest.raises(CallError):
                guesser.sign_in(HANDLER, "Wrong-password-123", "000000")
    _, anchor = county.read(outcome="refused")
    world.stop()
    root = tmp_path / "inspector-root.pem"
    root.write_bytes(world.hierarchy.root_pem())
    return county, anchor, root, world.settings["chengguan"].db


def _audit(db: str, root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    status = hotline(["audit", "--db", db, "--root", str(root), *extra])
    return status, capsys.readouterr().out


def _sql(db: str, *statements: str) -> None:
    engine = create_engine(db)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_an_untouched_record_passes_and_its_head_is_printed_to_keep(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    county, anchor, root, db = _prepared(world, tmp_path)
    status, out = _audit(db, root, capsys)
    assert status == 0, out
    rows = len(access_rows(county.node))
    assert f"access record (访问记录): {rows} rows" in out
    assert "OK: every row follows from the one before and its signature verifies." in out
    head = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert head.startswith(f"{rows}:") and len(head.split(":")[1]) == 64
    status, out = _audit(db, root, capsys, "--anchor", anchor, "--anchor", head[:24])
    assert status == 0, out
    status, out = _audit(db, root, capsys, "--json")
    document = json.loads(out)
    assert document["access_record"]["ok"] and document["access_record"]["head"] == head


def test_a_row_edited_in_the_database_is_caught(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, root, db = _prepared(world, tmp_path)
    _sql(db, "UPDATE access_record SET detail = 'nothing happened' WHERE seq = 6")
    status, out = _audit(db, root, capsys)
    assert status == 1
    assert "FIRST BROKEN ROW: 6" in out
    assert "row 6: its content does not hash to its digest: a column of the row was edited" in out


def test_a_row_edited_with_its_digest_made_anew_is_caught_by_its_signature(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    county, _, root, db = _prepared(world, tmp_path)
    row = access_rows(county.node)[5]
    engine = create_engine(db)
    try:
        with engine.begin() as conn:
            previous = conn.execute(
                text("SELECT previous FROM access_record WHERE seq = 6")
            ).scalar_one()
            edited = replace(row, detail="nothing happened")
            digest = digest_of(bytes(previous), edited)
            conn.execute(
                text(
                    "UPDATE access_record SET detail = 'nothing happened', digest = :d "
                    "WHERE seq = 6"
                ),
                {"d": digest},
            )
    finally:
        engine.dispose()
    status, out = _audit(db, root, capsys)
    assert status == 1
    assert "FIRST BROKEN ROW: 6" in out
    assert "row 6: its signature does not verify" in out
    assert "row 7: its previous digest" in out


def test_a_row_removed_from_the_middle_is_caught(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, root, db = _prepared(world, tmp_path)
    _sql(db, "DELETE FROM access_record WHERE seq = 5")
    status, out = _audit(db, root, capsys)
    assert status == 1
    assert "FIRST BROKEN ROW: 6" in out
    assert "row 6: row 5 is missing: row 6 follows row 4" in out


def test_a_tail_cut_with_the_head_set_back_is_caught_by_the_anchor_kept(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    county, anchor, root, db = _prepared(world, tmp_path)
    anchored = int(anchor.split(":")[0])
    rows = access_rows(county.node)
    keep = anchored - 2
    engine = create_engine(db)
    try:
        with engine.begin() as conn:
            kept_digest = bytes(
                conn.execute(
                    text("SELECT digest FROM access_record WHERE seq = :s"), {"s": keep}
                ).scalar_one()
            )
            conn.execute(text("DELETE FROM access_record WHERE seq > :s"), {"s": keep})
            conn.execute(
                text("UPDATE access_record_head SET seq = :s, digest = :d"),
                {"s": keep, "d": kept_digest},
            )
    finally:
        engine.dispose()
    assert len(rows) > keep
    status, out = _audit(db, root, capsys)
    assert status == 0, "without an anchor, a clean cut leaves a whole chain (documented)"
    status, out = _audit(db, root, capsys, "--anchor", anchor)
    assert status == 1
    assert f"the record ends at row {keep}, before the anchored row: rows were cut" in out


def test_a_head_row_that_names_another_row_is_caught(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, root, db = _prepared(world, tmp_path)
    _sql(db, "UPDATE access_record_head SET seq = seq + 1")
    status, out = _audit(db, root, capsys)
    assert status == 1 and "the head row names row" in out


def test_rows_signed_before_a_key_rotation_still_verify(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    county, _, root, db = _prepared(world, tmp_path)
    folder = world.settings["chengguan"].data_dir
    old_key = NodeIdentity.load_or_create(folder, "620102", county.node.node.identity.level).key_id
    NodeIdentity.rotate(folder)
    world.hierarchy.enrol(folder, "620102", int(time.time() * 1000))
    node = world.bring_up("chengguan")
    try:
        with node.client() as guesser, pytest.raises(CallError):
            guesser.sign_in(HANDLER, "Wrong-password-123", "000000")
        new_key = node.node.identity.key_id
    finally:
        world.stop()
    assert new_key != old_key
    status, out = _audit(db, root, capsys, "--json")
    found = json.loads(out)["access_record"]
    assert status == 0, found
    assert set(found["keys"]) == {old_key, new_key}
    assert found["signed_by"] == [node.node.identity.node_id]


def test_a_row_signed_by_a_key_no_certificate_names_is_caught(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, root, db = _prepared(world, tmp_path)
    _sql(db, "UPDATE access_record SET key_id = 'ab' WHERE seq = 2")
    status, out = _audit(db, root, capsys)
    assert status == 1 and "row 2: signed by key ab" in out
