"""A network of real node processes on loopback: for the demo, integration tests and benchmarks.

Each node is a separate ``python -m node serve`` process with its own data folder. Ports are
chosen by the operating system (port 0) and read back from a port file, so parallel runs never
collide; a restarted node binds the port it had, so its children find it again.

Before its first start a node is provisioned as an operator would do it: its first security
administrator is made on its data folder (``init_admin_in_folder``, what ``hotline officers
init-admin`` runs); once it serves, that administrator signs in over TLS and makes a system
administrator (sync, units, trust). Every client of the network is signed in as a real officer
(``node.devnet.officers``). The nodes hash passwords cheaply (``DEVNET_HASH_MEMORY_KIB``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.officers import Role
from core.units import UnitLevel, county_of
from node.access.passwords import PasswordHashing
from node.access.provisioning import init_admin_in_folder
from node.cli.session_file import SavedSession, save_session
from node.devnet.hierarchy import Hierarchy
from node.devnet.officers import (
    DEVNET_HASH_MEMORY_KIB,
    DEVNET_PASSWORD,
    SECURITY_ADMIN_NAME,
    DevnetOfficer,
    SignIns,
    now_ms,
    security_admin_id,
    system_admin_id,
)
from node.devnet.samples import NodeSpec
from node.edge.client import NodeClient
from sync.codec import enum_number
from sync.identity import NodeIdentity


@dataclass
class NodeProcess:
    """One node process: how to start it and where it listens."""

    name: str
    level: UnitLevel
    unit: str
    data_dir: Path
    parent: NodeProcess | None = None
    unreachable_parent: bool = False
    db_url: str = ""
    unit_name: str = ""
    sync_interval: float = 0.5
    extra_args: tuple[str, ...] = ()
    hierarchy: Hierarchy | None = None
    """Enrols the node before its first start (None: it must be enrolled already)."""
    parent_address: str = ""
    """Overrides where the parent is reached (e.g. through a link proxy)."""
    port: int = 0
    peer_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    password_hash_memory_kib: int = DEVNET_HASH_MEMORY_KIB
    """Argon2id memory the node hashes passwords with (a throwaway network's: cheap)."""
    signins: SignIns | None = None
    """Its officers with credentials (set at the first start, when it is provisioned)."""
    node_id: str = ""
    """The node's id (known once enrolled)."""
    provision: bool = True
    """Make its security and system administrators at the first start (False: a test does
    it the operator's way, with ``hotline officers init-admin``)."""

    @property
    def target(self) -> str:
        """``127.0.0.1:PORT`` of the client port (Intake, Casework, Admin)."""
        return f"127.0.0.1:{self.port}"

    @property
    def peer_target(self) -> str:
        """``127.0.0.1:PORT`` of the mutual-TLS peer port its children call."""
        return f"127.0.0.1:{self.peer_port}"

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until it serves; the first time, provision it (its
        security administrator on the data folder before, its system administrator after)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.hierarchy is not None:
            self.hierarchy.enrol(self.data_dir, self.unit, int(time.time() * 1000))
        first = self.signins is None
        if first:
            self.signins = self._provision() if self.provision else self._unprovisioned()
        port_file = self.data_dir / "port"
        port_file.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "node", "serve", "--level", self.level.value,
            "--unit", self.unit, "--data-dir", str(self.data_dir), "--port", str(self.port),
            "--peer-port", str(self.peer_port), "--port-file", str(port_file),
            "--sync-interval", str(self.sync_interval),
            *self.extra_args,
        ]  # fmt: skip
        if self.parent_address:
            command += ["--parent", self.parent_address]
        elif self.parent is not None:
            command += ["--parent", self.parent.peer_target]
        elif self.unreachable_parent:
            command += ["--parent", "127.0.0.1:9"]  # its parent is not part of this network
        if self.db_url:
            command += ["--db", self.db_url]
        if self.unit_name:
            command += ["--unit-name", self.unit_name]
        log = (self.data_dir / "node.log").open("ab")
        memory = str(self.password_hash_memory_kib)
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "HOTLINE_PASSWORD_HASH_MEMORY_KIB": memory,
            },
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not port_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"node {self.name} exited at start; see "
                    f"{self.data_dir / 'node.log'}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {self.name} did not start in {timeout}s")
            time.sleep(0.05)
        ports = json.loads(port_file.read_text(encoding="utf-8"))
        self.port, self.peer_port = ports["port"], ports["peer_port"]
        assert self.signins is not None
        self.signins.target = self.target
        with self.signins.unsigned() as client:
            client.wait_ready(timeout=timeout)
        if first and self.provision:
            self.signins.add_system_admin()

    def sibling(self, name: str) -> NodeProcess:
        """Another process of this node, not yet started: the same data folder, database and
        officers, its own ports (several processes of a hub on PostgreSQL: docs/scaling.md).
        Start this one first: it enrols and provisions the node, which the sibling finds so.
        The officers' kept tokens are shared too: a session holds on every process, and a
        second sign-in in the same 30 s would spend a TOTP code the database knows spent."""
        assert self.signins is not None, f"node {self.name} was never started"
        officers = replace(self.signins, target="")
        return replace(
            self, name=name, hierarchy=None, port=0, peer_port=0, process=None, signins=officers
        )

    def _unprovisioned(self) -> SignIns:
        """Nobody with credentials yet; the root the node's certificate chains to."""
        identity = NodeIdentity.load_or_create(self.data_dir, self.unit, self.level)
        credentials = identity.credentials
        if credentials is None:
            raise RuntimeError(f"node {self.name} is not enrolled: give the network a hierarchy")
        self.node_id = identity.node_id
        return SignIns(self.unit, credentials.root_pem())

    def _provision(self) -> SignIns:
        """Make the node's first security administrator on its data folder (the node is not
        running), as ``hotline officers init-admin`` does."""
        signins = self._unprovisioned()
        admin, _ = init_admin_in_folder(
            self.data_dir,
            self.unit,
            db_url=self.db_url,
            officer_id=security_admin_id(self.unit),
            name=SECURITY_ADMIN_NAME,
            password=DEVNET_PASSWORD,
            reset=False,
            now_ms=now_ms(),
            peer="local:devnet",
            unit_name=self.unit_name,
            hashing=PasswordHashing(self.password_hash_memory_kib),
        )
        signins.admitted(admin)
        return signins

    def client(self, officer_id: str = "") -> NodeClient:
        """A client of this node signed in as ``officer_id``; without one, as the node's system
        administrator (系统管理员: sync, units, trust, the node's info and alerts)."""
        assert self.signins is not None, f"node {self.name} was never started"
        return self.signins.client(officer_id or self.signins.system_admin)

    def cli(self, officer_id: str = "") -> list[str]:
        """``--node`` and ``--token-file`` for a ``hotline`` command acting as ``officer_id``
        (default: the system administrator): a session file as ``hotline login`` writes it
        (mode 0600, the root kept in it), holding the officer's kept token."""
        assert self.signins is not None, f"node {self.name} was never started"
        officer_id = officer_id or self.signins.system_admin
        token = self.signins.token(officer_id)
        path = self.data_dir.parent / "sessions" / f"{officer_id}.json"
        root = self.signins.root.decode("ascii")
        save_session(path, SavedSession(self.target, self.node_id, officer_id, token, 0, root))
        return ["--node", self.target, "--token-file", str(path)]

    def unsigned(self) -> NodeClient:
        """A client of this node sending no session token."""
        assert self.signins is not None, f"node {self.name} was never started"
        return self.signins.unsigned()

    def add_officer(
        self, officer_id: str, name: str, roles: tuple[Role, ...] | list[Role], unit: str = ""
    ) -> None:
        """Put an officer on the roster with credentials (by the security administrator)."""
        assert self.signins is not None, f"node {self.name} was never started"
        self.signins.add([DevnetOfficer(officer_id, name, tuple(roles), unit)])

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the node to stop (SIGTERM) and wait; kill it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Kill the node at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        """The end of the node's log file."""
        path = self.data_dir / "node.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@dataclass
class LocalNetwork:
    """Nodes started under one folder; stops them all on exit."""

    root: Path
    db_url_for: Callable[[str], str] | None = None
    sync_interval: float = 0.5
    nodes: dict[str, NodeProcess] = field(default_factory=dict)
    hierarchy: Hierarchy | None = None
    """The network's PKI (a root and province CAs under ``root/pki``), made on first use."""
    node_args: tuple[str, ...] = ()
    """Flags every node of this network is started with, before its own ``extra_args``: what a
    drill's nodes must share, such as its clock (``--clock-speed``, ``--clock-start``,
    ``--clock-anchor``: docs/drills.md) and ``--sweep-interval``."""

    def __post_init__(self) -> None:
        if self.hierarchy is None:
            self.hierarchy = Hierarchy.throwaway(self.root / "pki")

    def add(
        self,
        name: str,
        level: UnitLevel,
        unit: str,
        parent: str | None = None,
        *,
        unit_name: str = "",
        extra_args: tuple[str, ...] = (),
        parent_address: str = "",
        provision: bool = True,
    ) -> NodeProcess:
        """Start a node named ``name`` under ``parent`` (a name given before); with
        ``provision=False`` nobody may act on it until a test makes its administrator."""
        node = NodeProcess(
            name=name,
            level=level,
            unit=unit,
            data_dir=self.root / name,
            parent=self.nodes.get(parent) if parent else None,
            unreachable_parent=bool(parent) and parent not in self.nodes,
            db_url=self.db_url_for(name) if self.db_url_for else "",
            unit_name=unit_name,
            sync_interval=self.sync_interval,
            extra_args=(*self.node_args, *extra_args),
            hierarchy=self.hierarchy,
            parent_address=parent_address,
            provision=provision,
        )
        node.start()
        self.nodes[name] = node
        return node

    def __getitem__(self, name: str) -> NodeProcess:
        return self.nodes[name]

    def client(self, name: str, officer_id: str = "") -> NodeClient:
        """A client of node ``name`` signed in as ``officer_id`` (without one: as its system
        administrator)."""
        return self.nodes[name].client(officer_id)

    def add_officer(
        self,
        name: str,
        officer_id: str,
        officer_name: str,
        roles: tuple[Role, ...] | list[Role],
        unit: str = "",
    ) -> None:
        """Put an officer on node ``name``'s roster with credentials."""
        self.nodes[name].add_officer(officer_id, officer_name, roles, unit)

    def stop_all(self) -> None:
        """Stop every node, children first."""
        for node in reversed(list(self.nodes.values())):
            node.stop()

    def __enter__(self) -> LocalNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        for node in reversed(list(self.nodes.values())):
            node.kill() if exc[0] is not None else node.stop()

    def start_world(self, world: tuple[NodeSpec, ...], *, only: set[str] | None = None) -> None:
        """Start the nodes of ``world`` top-down and put their officers on their rosters.

        A station is also made known to its county, which assigns tickets to it.
        """
        for spec in world:
            if only is not None and spec.name not in only:
                continue
            node = self.add(spec.name, spec.level, spec.unit, spec.parent, unit_name=spec.unit_name)
            assert node.signins is not None
            node.signins.add(DevnetOfficer(o.officer_id, o.name, o.roles) for o in spec.officers)
            if spec.level is UnitLevel.STATION and spec.parent in self.nodes:
                county_node = self.nodes[spec.parent]
                with county_node.client(system_admin_id(county_node.unit)) as county:
                    county.add_unit(
                        spec.unit,
                        spec.unit_name,
                        enum_number(UnitLevel.STATION),
                        county_of(spec.unit),
                    )

    def settle(self, rounds: int = 12) -> int:
        """Run replication rounds bottom-up and top-down until nothing moves; returns rounds."""
        order = [n for n in self.nodes.values() if n.parent is not None and n.running]
        by_depth = sorted(order, key=lambda n: n.level.rank, reverse=True)
        for done in range(1, rounds + 1):
            moved = 0
            for node in [*by_depth, *reversed(by_depth)]:
                if node.running and node.parent is not None and node.parent.running:
                    with node.client() as client:
                        report = client.sync_now()
                    # A failed round has not shown that nothing is left to move.
                    moved += report.pushed + report.pulled + (1 if report.error else 0)
            if moved == 0:
                return done
        return rounds
