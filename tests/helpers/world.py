"""Nodes of the sample world, served in-process over real gRPC, for integration tests.

A :class:`World` starts nodes of ``node.devnet.samples.GANSU_WORLD`` each on its own event loop
in a background thread, with its own database (on the backend the ``world`` fixture was given),
data folder and ports picked by the operating system, so tests can run in parallel. Its
scheduled jobs are not left to run on their own: a test runs them when it says so
(:func:`run_job`, :func:`sweep`), and replication rounds when it calls :meth:`World.sync`.

Every node is provisioned as an operator would: its first security administrator made on its
database (``create_first_admin``, what ``hotline officers init-admin`` runs), who signs in and
registers a system administrator and the sample officers with credentials. Every client a test
gets (``world.officer``, ``node.client(officer_id)``) is signed in as a real officer over TLS;
``node.unsigned()`` sends no token. Nodes hash passwords cheaply (``DEVNET_HASH_MEMORY_KIB``).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import func, select

from core.officers import Role
from core.units import UnitLevel, county_of
from node.access.provisioning import create_first_admin
from node.app.clock import Clock
from node.app.levels import profile_of
from node.app.runtime import Node
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from node.cli.session_file import SavedSession, save_session
from node.devnet.hierarchy import Hierarchy
from node.devnet.officers import (
    DEVNET_HASH_MEMORY_KIB,
    DEVNET_PASSWORD,
    SECURITY_ADMIN_NAME,
    DevnetOfficer,
    SignIns,
    now_ms,
)
from node.devnet.samples import GANSU_WORLD, NodeSpec
from node.edge.client import NodeClient
from sync import schema
from sync.codec import enum_number
from sync.log_store import EventLog, Head
from tests.helpers.databases import DbUrlFactory


def spec(name: str) -> NodeSpec:
    """The sample world's node named ``name`` (national, province, city, chengguan, ...)."""
    return next(s for s in GANSU_WORLD if s.name == name)


class InProcessNode:
    """A node served from a background thread with its own event loop, for integration tests."""

    def __init__(self, node: Node, signins: SignIns | None = None) -> None:
        self.node = node
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(node.start(), self._loop).result(30)
        self.peer_port = node.peer_port
        credentials = node.identity.credentials
        assert credentials is not None
        self.signins = signins or SignIns(node.identity.unit_code, credentials.root_pem())
        self.signins.target = self.target

    @property
    def peer_target(self) -> str:
        """``127.0.0.1:PORT`` of the mutual-TLS peer port."""
        return f"127.0.0.1:{self.peer_port}"

    @property
    def target(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def root(self) -> bytes:
        """The national root (PEM) this node's certificate chains to."""
        return self.signins.root

    @property
    def security_admin(self) -> str:
        """The id of the node's security administrator (made at provisioning)."""
        return self.signins.security_admin

    @property
    def system_admin(self) -> str:
        """The id of the node's system administrator (made at provisioning)."""
        return self.signins.system_admin

    def replicate_only_when_asked(self) -> None:
        """No more rounds of the node's own (timer, commits): the test runs each one."""
        self.run(self.node.replicate_only_when_asked())

    def provision(self, real_ms: Callable[[], int] | None = None) -> None:
        """Make the node's first security administrator on its database, as ``hotline
        officers init-admin`` does, and through them its system administrator."""
        parts = self.node
        self.signins.real_ms = real_ms or now_ms
        admin = create_first_admin(
            parts.db,
            parts.identity,
            parts.roster,
            officer_id=self.signins.security_admin,
            name=SECURITY_ADMIN_NAME,
            password=DEVNET_PASSWORD,
            reset=False,
            now_ms=self.signins.real_ms(),
            peer="local:test",
            hashing=parts.access.passwords,
        )
        self.signins.admitted(admin)
        self.signins.add_system_admin()

    def client(self, officer_id: str = "") -> NodeClient:
        """A client of this node signed in as ``officer_id`` (one with credentials here);
        without one, as the node's system administrator (系统管理员: sync, units, trust, the
        node's info and alerts). ``unsigned()`` sends no token."""
        return self.signins.client(officer_id or self.system_admin)

    def cli(self, officer_id: str = "") -> list[str]:
        """``--node`` and ``--token-file`` for a ``hotline`` command acting as ``officer_id``
        (default: the system administrator): a session file as ``hotline login`` writes it
        (mode 0600, the root kept in it), holding the officer's kept token."""
        officer_id = officer_id or self.system_admin
        token = self.signins.token(officer_id)
        path = self.node.settings.data_dir.parent / "sessions" / f"{officer_id}.json"
        node_id = self.node.identity.node_id
        session = SavedSession(self.target, node_id, officer_id, token, 0, self.root.decode())
        save_session(path, session)
        return ["--node", self.target, "--token-file", str(path)]

    def unsigned(self) -> NodeClient:
        """A client of this node sending no session token."""
        return self.signins.unsigned()

    def admin(self) -> NodeClient:
        """A client signed in as the node's security administrator."""
        return self.client(self.security_admin)

    def add_officer(
        self, officer_id: str, name: str, roles: tuple[Role, ...] | list[Role], unit: str = ""
    ) -> None:
        """Put an officer on the roster with credentials (by the security administrator), so
        that ``client(officer_id)`` signs them in."""
        self.signins.add([DevnetOfficer(officer_id, name, tuple(roles), unit)])

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


def chain_held(node: InProcessNode, origin_node: str) -> tuple[Head | None, int]:
    """How far ``node`` holds ``origin_node``'s chain: its head there, and its events held."""
    with node.node.db.read() as conn:
        head = EventLog(conn).head(origin_node)
        count = conn.execute(
            select(func.count())
            .select_from(schema.events)
            .where(schema.events.c.origin_node == origin_node)
        ).scalar_one()
    return head, int(count)


def run_job(node: InProcessNode, name: str) -> int:
    """Run the node's scheduled job ``name`` once; returns how many events it recorded."""
    recorded = node.run(node.node.jobs.run_job(name))
    assert isinstance(recorded, int), f"job {name} answered {recorded!r}"
    return recorded


def sweep(node: InProcessNode) -> int:
    """Run the node's deadline sweep once; returns how many events it recorded."""
    return run_job(node, "deadlines")


@dataclass
class World:
    """Nodes of a small world, started in-process, with their officers on the rosters."""

    root: Path
    db_urls: DbUrlFactory
    hierarchy: Hierarchy
    nodes: dict[str, InProcessNode] = field(default_factory=dict)
    specs: dict[str, NodeSpec] = field(default_factory=dict)
    settings: dict[str, NodeSettings] = field(default_factory=dict)
    personal_suite: str = field(
        default_factory=lambda: os.environ.get("HOTLINE_PERSONAL_SUITE", "international")
    )
    """The cipher suite of personal data its nodes start with: the node's own variable, so
    ``HOTLINE_PERSONAL_SUITE=commercial make test`` runs the whole suite in SM4/SM3; tests of
    both suites set it (the ``personal_suite`` fixture)."""

    def start(
        self,
        spec: NodeSpec,
        *,
        parent: str | None = None,
        sync_interval: float = 3600,
        clock: Clock | None = None,
        parent_address: str = "",
        real_ms: Callable[[], int] | None = None,
        provision: bool = True,
        metrics_port: int = -1,
    ) -> InProcessNode:
        """Start one node of the world (its parent must be started first).

        ``parent_address`` reaches the parent some other way than straight to its peer port
        (through a ``LinkProxy`` that a test cuts and heals); ``real_ms`` stands in for real
        time where sign-in and sessions read it. ``provision=False`` leaves the node as
        ``hotline serve`` first starts it: nobody on its roster, nobody able to act.
        ``metrics_port=0`` serves its Prometheus metrics on a free loopback port.
        """
        parent_name = parent if parent is not None else spec.parent
        parent_target = parent_address or (
            self.nodes[parent_name].peer_target if parent_name in self.nodes else ""
        )
        self.hierarchy.enrol(self.root / spec.name, spec.unit, int(time.time() * 1000))
        settings = NodeSettings(
            level=spec.level,
            unit=spec.unit,
            data_dir=self.root / spec.name,
            db=self.db_urls(),
            parent=parent_target or ("127.0.0.1:9" if spec.parent else ""),
            unit_name=spec.unit_name,
            sync_interval=sync_interval,
            sweep_interval=3600,  # tests run the jobs themselves: run_job(node, name)
            password_hash_memory_kib=DEVNET_HASH_MEMORY_KIB,
            personal_suite=self.personal_suite,
            metrics_port=metrics_port,
        )
        node = InProcessNode(
            build_node(settings, profile_of(spec.level), clock=clock, real_ms=real_ms)
        )
        self.nodes[spec.name] = node
        self.specs[spec.name] = spec
        self.settings[spec.name] = settings
        if not provision:
            return node
        node.provision(real_ms)
        node.signins.add(DevnetOfficer(o.officer_id, o.name, o.roles) for o in spec.officers)
        if spec.level is UnitLevel.STATION and spec.parent in self.nodes:
            county_node = self.nodes[spec.parent]
            with county_node.client(county_node.system_admin) as county:
                county.add_unit(
                    spec.unit, spec.unit_name, enum_number(UnitLevel.STATION), county_of(spec.unit)
                )
        return node

    def start_all(self, *names: str, clock: Clock | None = None) -> None:
        """Start the named nodes of the sample world in the order given (parents first)."""
        for name in names:
            self.start(spec(name), clock=clock)

    def start_line(self, *, clock: Clock | None = None) -> None:
        """Start the province, the city and the county Chengguan: the line a sample ticket
        routed at the province goes down (most tests need no more)."""
        self.start_all("province", "city", "chengguan", clock=clock)

    def __getitem__(self, name: str) -> InProcessNode:
        return self.nodes[name]

    def take_down(self, name: str) -> None:
        """Stop a node as if its link or process went down (its data stays)."""
        self.nodes[name].stop()

    def bring_up(self, name: str, *, clock: Clock | None = None) -> InProcessNode:
        """Start a node again on the same data, database and port (and ``clock``, if given)."""
        old = self.nodes[name]
        settings = replace(self.settings[name], port=old.port, peer_port=old.peer_port)
        real_ms = old.signins.real_ms
        built = build_node(settings, profile_of(settings.level), clock=clock, real_ms=real_ms)
        node = InProcessNode(built, old.signins)  # same officers, and their sessions hold
        self.nodes[name] = node
        return node

    def signed_in(self, argv: list[str]) -> list[str]:
        """A ``hotline`` command line with the session file of the officer it names with
        ``--officer`` (kept: the command checks the session is theirs), or of the node's system
        administrator, for the node its ``--node`` names."""
        target = argv[argv.index("--node") + 1]
        node = next(n for n in self.nodes.values() if n.target == target)
        officer = argv[argv.index("--officer") + 1] if "--officer" in argv else ""
        return [*argv, *node.cli(officer)[2:]]

    def officer(self, name: str, index: int = 0) -> NodeClient:
        """A client of node ``name`` signed in as its ``index``-th sample officer."""
        return self.nodes[name].client(self.specs[name].officers[index].officer_id)

    def sync(self, *names: str) -> None:
        """One replication round for each named node, in the order given (its system
        administrator asks for it)."""
        for name in names:
            node = self.nodes[name]
            with node.client(node.system_admin) as client:
                report = client.sync_now()
            assert not report.error, f"{name}: {report.error}"

    def stop(self) -> None:
        """Stop every node still running, children first."""
        for node in reversed(list(self.nodes.values())):
            if not node.stopped:
                node.stop()
