"""`hotline audit` on the databases an inspector is handed: PostgreSQL by its plain URL, files.

The inspector brings their own copy of the national root (``ca.pem`` of the root's folder).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from node.cli.main import main as hotline
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import demo_tickets
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message
from tests.helpers.databases import PostgresDatabases
from tests.helpers.world import World, spec


def test_audit_reads_a_postgresql_database_by_its_plain_url(
    tmp_path: Path,
    postgres: PostgresDatabases,
    hierarchy: Hierarchy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = World(tmp_path, postgres.new, hierarchy)
    try:
        world.start(spec("province"))
        with world.officer("province") as centre:
            ticket = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
            ticket_id = centre.register(uuid.uuid4().hex, ticket).ticket_id
    finally:
        world.stop()
    url = world.settings["province"].db
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    assert plain.startswith("postgresql://") and plain != url
    root = tmp_path / "inspector-root.pem"
    root.write_bytes(hierarchy.root_pem())

    capsys.readouterr()
    for given in (plain, plain.replace("postgresql://", "postgres://")):
        assert hotline(["audit", "--db", given, "--root", str(root)]) == 0, capsys.readouterr()
        assert "OK: every signature, hash, column and chain checks out." in capsys.readouterr().out
    assert hotline(["audit", "ticket", ticket_id, "--db", plain, "--root", str(root)]) == 0
    history = capsys.readouterr().out
    assert "TicketRegistered" in history and "+08:00" in history
    assert history.rstrip().endswith("OK: complete and untouched")


def test_audit_of_a_database_that_is_not_there_is_one_line_and_creates_nothing(
    tmp_path: Path, hierarchy: Hierarchy, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root.pem"
    root.write_bytes(hierarchy.root_pem())
    missing = tmp_path / "chengguam" / "node.db"
    assert hotline(["audit", "--db", str(missing), "--root", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"hotline: db: no database file at {missing}"]
    assert not missing.exists()

    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    assert hotline(["audit", "--db", unreachable, "--root", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hotline: storage: cannot read the database")
