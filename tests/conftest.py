"""Fixtures shared by the whole suite: databases on both backends, nodes in-process, worlds.

PostgreSQL is reached at ``HOTLINE_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432``)
with a fresh database per test. Where no server answers, PostgreSQL tests are skipped with
the reason shown, unless ``HOTLINE_REQUIRE_POSTGRES=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
import pytest

from core.units import UnitLevel
from node.app.clock import Clock
from node.app.levels import profile_of
from node.app.runtime import Node
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import GANSU_WORLD, NodeSpec
from node.edge.client import NodeClient
from sync.codec import enum_number


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--fault-rounds N``: more kill/restart rounds for tests/faults (default 30)."""
    parser.addoption(
        "--fault-rounds",
        type=int,
        default=None,
        help="kill/restart rounds of the replication fault test "
        "(default: HOTLINE_FAULT_ROUNDS or 30)",
    )


PG_ADMIN = os.environ.get("HOTLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REQUIRE_PG = os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1"


def _pg_problem() -> str | None:
    try:
        with psycopg.connect(f"{PG_ADMIN}/postgres", connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN}: {str(exc).strip().splitlines()[0]}"


_PG_PROBLEM = _pg_problem()


@dataclass
class PostgresDatabases:
    """Creates throw-away PostgreSQL databases and drops them at the end."""

    created: list[str] = field(default_factory=list)

    def new(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = f"hotline_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{PG_ADMIN.replace('postgresql://', 'postgresql+psycopg://')}/{name}"

    def drop_all(self) -> None:
        """Drop every database this fixture made."""
        with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres() -> Iterator[PostgresDatabases]:
    """Fresh PostgreSQL databases for one test (skipped, or failed in CI, without a server)."""
    if _PG_PROBLEM is not None:
        if REQUIRE_PG:
            pytest.fail(f"HOTLINE_REQUIRE_POSTGRES=1 but {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)
    databases = PostgresDatabases()
    try:
        yield databases
    finally:
        databases.drop_all()


DbUrlFactory = Callable[[], str]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_urls(request: pytest.FixtureRequest, tmp_path: Path) -> DbUrlFactory:
    """A factory of fresh database URLs on one backend; tests using it run on both backends."""
    if request.param == "sqlite":
        counter = iter(range(1000))
        return lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    return databases.new


@pytest.fixture
def db_url(db_urls: DbUrlFactory) -> str:
    """One fresh database URL, on each backend in turn."""
    return db_urls()


class InProcessNode:
    """A node served from a background thread with its own event loop, for integration tests."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(node.start(), self._loop).result(30)
        self.peer_port = node.peer_port

    @property
    def peer_target(self) -> str:
        """``127.0.0.1:PORT`` of the mutual-TLS peer port."""
        return f"127.0.0.1:{self.peer_port}"

    @property
    def target(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    def client(self, officer_id: str = "") -> NodeClient:
        """A client of this node acting as ``officer_id``."""
        return NodeClient(self.target, officer_id)

    def run(self, coroutine: object, timeout: float = 60) -> object:
        """Run a coroutine on the node's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)  # type: ignore[arg-type]

    @property
    def stopped(self) -> bool:
        """True once ``stop`` has run."""
        return self._loop.is_closed()

    def stop(self) -> None:
        """Stop the node and its loop."""
        asyncio.run_coroutine_threadsafe(self.node.stop(grace=0.5), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@dataclass
class World:
    """Nodes of a small world, started in-process, with their officers on the rosters."""

    root: Path
    db_urls: DbUrlFactory
    hierarchy: Hierarchy
    nodes: dict[str, InProcessNode] = field(default_factory=dict)
    specs: dict[str, NodeSpec] = field(default_factory=dict)
    settings: dict[str, NodeSettings] = field(default_factory=dict)

    def start(
        self,
        spec: NodeSpec,
        *,
        parent: str | None = None,
        sync_interval: float = 3600,
        clock: Clock | None = None,
    ) -> InProcessNode:
        """Start one node of the world (its parent must be started first)."""
        parent_name = parent if parent is not None else spec.parent
        parent_target = self.nodes[parent_name].peer_target if parent_name in self.nodes else ""
        self.hierarchy.enrol(self.root / spec.name, spec.unit, int(time.time() * 1000))
        settings = NodeSettings(
            level=spec.level,
            unit=spec.unit,
            data_dir=self.root / spec.name,
            db=self.db_urls(),
            parent=parent_target or ("127.0.0.1:9" if spec.parent else ""),
            unit_name=spec.unit_name,
            sync_interval=sync_interval,
            sweep_interval=3600,  # tests run the jobs themselves: node.jobs.jobs[name].run_once()
        )
        node = InProcessNode(build_node(settings, profile_of(spec.level), clock=clock))
        self.nodes[spec.name] = node
        self.specs[spec.name] = spec
        self.settings[spec.name] = settings
        with node.client() as client:
            for officer in spec.officers:
                client.add_officer(
                    officer.officer_id,
                    officer.name,
                    spec.unit,
                    [enum_number(r) for r in officer.roles],
                )
        if spec.level is UnitLevel.STATION and spec.parent in self.nodes:
            with self.nodes[spec.parent].client() as county:
                county.add_unit(
                    spec.unit, spec.unit_name, enum_number(UnitLevel.STATION), spec.unit[:6]
                )
        return node

    def __getitem__(self, name: str) -> InProcessNode:
        return self.nodes[name]

    def take_down(self, name: str) -> None:
        """Stop a node as if its link or process went down (its data stays)."""
        self.nodes[name].stop()

    def bring_up(self, name: str, *, clock: Clock | None = None) -> InProcessNode:
        """Start a node again on the same data, database and port (and ``clock``, if given)."""
        old = self.nodes[name]
        settings = replace(self.settings[name], port=old.port, peer_port=old.peer_port)
        node = InProcessNode(build_node(settings, profile_of(settings.level), clock=clock))
        self.nodes[name] = node
        return node

    def officer(self, name: str, index: int = 0) -> NodeClient:
        """A client of node ``name`` acting as its ``index``-th officer."""
        return self.nodes[name].client(self.specs[name].officers[index].officer_id)

    def sync(self, *names: str) -> None:
        """One replication round for each named node, in the order given."""
        for name in names:
            with self.nodes[name].client() as client:
                report = client.sync_now()
            assert not report.error, f"{name}: {report.error}"

    def stop(self) -> None:
        """Stop every node still running, children first."""
        for node in reversed(list(self.nodes.values())):
            if not node.stopped:
                node.stop()


@pytest.fixture(scope="session")
def hierarchy(tmp_path_factory: pytest.TempPathFactory) -> Hierarchy:
    """One national root and province CAs for the whole test session (enrols every node)."""
    return Hierarchy.throwaway(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def world(tmp_path: Path, db_urls: DbUrlFactory, hierarchy: Hierarchy) -> Iterator[World]:
    """An empty world on one backend; ``world.start(spec)`` brings nodes up (see GANSU_WORLD)."""
    w = World(tmp_path, db_urls, hierarchy)
    try:
        yield w
    finally:
        w.stop()


def spec(name: str) -> NodeSpec:
    """The sample world's node named ``name`` (national, province, city, chengguan, ...)."""
    return next(s for s in GANSU_WORLD if s.name == name)
