"""End-to-end fixtures: real node processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.devnet.processes import LocalNetwork
from tests.helpers.databases import PostgresDatabases


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def network(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalNetwork]:
    """An empty network of node processes on one backend; every process is stopped after."""
    db_url_for = None
    if request.param == "postgresql":
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        db_url_for = lambda _name: databases.new()  # noqa: E731
    net = LocalNetwork(tmp_path, db_url_for=db_url_for, sync_interval=0.3)
    try:
        yield net
    finally:
        for node in net.nodes.values():
            node.kill()
