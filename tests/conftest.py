"""Fixtures shared by the whole suite: databases on both backends, worlds of in-process nodes.

PostgreSQL tests get a fresh database each (``tests.helpers.databases``); where no server
answers they are skipped with the reason shown, unless ``HOTLINE_REQUIRE_POSTGRES=1`` (CI),
where that is a failure. The code behind the fixtures lives in ``tests.helpers``: test modules
import from there, never from a conftest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from node.devnet.hierarchy import Hierarchy
from tests.helpers.databases import REQUIRE_PG, DbUrlFactory, PostgresDatabases, postgres_problem
from tests.helpers.schema_templates import SchemaTemplates
from tests.helpers.world import World

# Property tests check what holds, not how fast: hypothesis' per-example deadline (200 ms) and
# its "generation too slow" health check fail on a machine busy with other tests (the suite
# runs on parallel workers), so the suite's profile turns both off. HYPOTHESIS_PROFILE=default
# brings them back.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--fault-rounds N``: more kill/restart rounds for tests/faults (default 30)."""
    parser.addoption(
        "--fault-rounds",
        type=int,
        default=None,
        help="kill/restart rounds of the replication fault test "
        "(default: HOTLINE_FAULT_ROUNDS or 30)",
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """On parallel workers (``-n N``), real-process tests run in lanes (``tests.helpers.lanes``)."""
    if config.getvalue("dist") != "load":
        return None  # a distribution asked for by name is left as asked
    from tests.helpers.lanes import LaneScheduling

    return LaneScheduling(config, log)  # type: ignore[arg-type]


_PG_PROBLEM = postgres_problem()


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


@pytest.fixture(scope="session")
def hierarchy(tmp_path_factory: pytest.TempPathFactory) -> Hierarchy:
    """One national root and province CAs for the test session (each xdist worker has its
    own); every node of a ``world`` is enrolled in it."""
    return Hierarchy.throwaway(tmp_path_factory.mktemp("pki"))


@pytest.fixture(params=["international", "commercial"])
def personal_suite(request: pytest.FixtureRequest) -> str:
    """Each cipher suite of personal data in turn (AES-256-GCM/SHA-256, SM4-GCM/SM3)."""
    return str(request.param)


@pytest.fixture(scope="session")
def schema_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaTemplates]:
    """One migrated database per backend for the session, copied for every world's node."""
    templates = SchemaTemplates(tmp_path_factory.mktemp("schema"))
    try:
        yield templates
    finally:
        templates.drop()


@pytest.fixture
def world(
    tmp_path: Path, db_urls: DbUrlFactory, hierarchy: Hierarchy, schema_templates: SchemaTemplates
) -> Iterator[World]:
    """An empty world on one backend; ``world.start(spec)`` brings nodes up (see GANSU_WORLD).
    Its nodes' databases start as copies of a migrated template (``schema_templates``)."""
    w = World(tmp_path, schema_templates.copies(db_urls), hierarchy)
    try:
        yield w
    finally:
        w.stop()
