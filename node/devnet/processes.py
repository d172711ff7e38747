"""A network of real node processes on loopback: for the demo, integration tests and benchmarks.

Each node is a separate ``python -m node serve`` process with its own data folder. Ports are
chosen by the operating system (port 0) and read back from a port file, so parallel runs never
collide; a restarted node binds the port it had, so its children find it again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.units import UnitLevel, county_of
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import NodeSpec
from node.edge.client import NodeClient
from sync.codec import enum_number


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
        """Start the process and wait until it serves."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.hierarchy is not None:
            self.hierarchy.enrol(self.data_dir, self.unit, int(time.time() * 1000))
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
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
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
        with NodeClient(self.target) as client:
            client.wait_ready(timeout=timeout)

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
    ) -> NodeProcess:
        """Start a node named ``name`` under ``parent`` (a name given before)."""
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
        )
        node.start()
        self.nodes[name] = node
        return node

    def __getitem__(self, name: str) -> NodeProcess:
        return self.nodes[name]

    def client(self, name: str, officer_id: str = "") -> NodeClient:
        """A client of node ``name`` acting as ``officer_id``."""
        return NodeClient(self.nodes[name].target, officer_id)

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
            self.add(spec.name, spec.level, spec.unit, spec.parent, unit_name=spec.unit_name)
            with self.client(spec.name) as client:
                for officer in spec.officers:
                    client.add_officer(
                        officer.officer_id,
                        officer.name,
                        spec.unit,
                        [enum_number(r) for r in officer.roles],
                    )
            if spec.level is UnitLevel.STATION and spec.parent in self.nodes:
                with self.client(spec.parent) as county:
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
                    with NodeClient(node.target) as client:
                        report = client.sync_now()
                    # A failed round has not shown that nothing is left to move.
                    moved += report.pushed + report.pulled + (1 if report.error else 0)
            if moved == 0:
                return done
        return rounds
