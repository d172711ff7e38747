"""A running node: its parts, its servers, and a start and a stop that keep their promises.

``build_node`` (``node.app.wiring``) assembles a ``Node`` from settings and a level profile;
``start`` opens the client port (and the peer port, where the level has children), starts the
writer, the scheduler and replication; ``stop`` undoes all of it in the order that loses
nothing: no new calls; calls under way finish (up to the grace period); the scheduler's round
and the replication round under way finish; the writer commits every job it was given and
answers every caller; then the link, the pools and the database close.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from dataclasses import dataclass, field
from functools import partial

import grpc
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from core.units import Unit
from node.access.desk import SignInDesk
from node.app.blocking import BlockingPool
from node.app.clock import Clock
from node.app.memory import give_memory_back
from node.app.profile import LevelProfile, ServiceMount
from node.app.settings import NodeSettings
from node.desks.casework import CaseworkDesk
from node.desks.intake import IntakeDesk
from node.desks.odr import OdrDesk
from node.desks.officer_accounts import OfficerAccounts
from node.desks.personal_data import PersonalDataDesk
from node.desks.province_rules import ProvinceRules
from node.desks.records import TicketRecords
from node.desks.replication import ReplicationDesk
from node.desks.roster import Roster
from node.desks.supervision import SupervisionQueue
from node.edge.acts import ActRecorder
from node.edge.caller import SessionInterceptor
from node.edge.errors import ErrorMappingInterceptor
from node.edge.front import FrontInterceptor, front_key
from node.edge.gate import CallGate
from node.edge.guard import PermissionGuard
from node.edge.limits import port_limit
from node.enrolment.desk import EnrolmentDesk
from node.enrolment.roster import RosterBook
from node.enrolment.supervision import StandingsDesk
from node.jobs.scheduler import JobScheduler
from node.metrics import MetricsEndpoint, NodeMetrics
from node.metrics.readings import NodeReadings
from node.personal.lookup_keys import LookupKeyStore
from node.storage.database import Database
from node.views.obligations import DeadlineRules
from node.views.tickets import TicketProjection
from sync.children import ChildReplication
from sync.client import ParentLink
from sync.identity import NodeIdentity
from sync.personal.shelf import SealShelf
from sync.trust import TrustStore
from sync.verification import SignatureVerifier
from sync.writer import LogWriter

log = logging.getLogger(__name__)

LOOP_TURN = 0.001
"""Seconds a thread holds the interpreter lock before the event loop may take it."""


@dataclass(eq=False)
class Node:
    """A running (or ready to run) node and its parts."""

    settings: NodeSettings
    profile: LevelProfile
    clock: Clock
    identity: NodeIdentity
    db: Database
    blocking: BlockingPool
    roster: Roster
    trust: TrustStore
    verifier: SignatureVerifier
    deadlines: DeadlineRules
    rules: ProvinceRules
    projection: TicketProjection
    writer: LogWriter
    link: ParentLink | None
    records: TicketRecords
    casework: CaseworkDesk
    supervision: SupervisionQueue
    replication: ReplicationDesk
    shelf: SealShelf
    """The tickets' sealed personal data (``sync.personal.shelf``)."""
    intake: IntakeDesk = field(init=False)
    """Set by the wiring once the level's registration hooks (which take the node) exist."""
    jobs: JobScheduler = field(init=False)
    """Set by the wiring once the level's jobs (which take the node) exist."""
    access: SignInDesk = field(init=False)
    """Officers' sign-in and session tokens (set by the wiring)."""
    officer_accounts: OfficerAccounts = field(init=False)
    """Officer account records made here or handed down and up (set by the wiring)."""
    personal_data: PersonalDataDesk = field(init=False)
    """Looks at a filer's personal data in full, each recorded (set by the wiring)."""
    odr: OdrDesk = field(init=False)
    """The enterprises' steps on ODR disputes and the consumer's answer (set by the wiring)."""
    odr_roster: RosterBook = field(init=False)
    """The ODR roster's signed records held here (set by the wiring)."""
    enrolment: EnrolmentDesk = field(init=False)
    """ODR applications, listings and removals (set by the wiring)."""
    odr_standings: StandingsDesk = field(init=False)
    """Supervision of ODR units: standings and judged periods (set by the wiring)."""
    children: ChildReplication | None = None
    """Set when the peer port's SyncService is mounted (levels with children)."""
    lookup_keys: LookupKeyStore | None = None
    """The province's look-up keys kept in the data folder (set by the wiring)."""
    metrics: NodeMetrics | None = None
    """The node's Prometheus metrics, made at start when ``metrics_port`` is set (not -1)."""
    server: aio.Server | None = None
    peer_server: aio.Server | None = None
    port: int = 0
    peer_port: int = 0
    metrics_port: int = 0
    """The metrics port bound (0: none)."""
    _metrics_endpoint: MetricsEndpoint | None = None
    _gates: dict[str, CallGate] = field(default_factory=dict)
    _link_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _link_task: asyncio.Task[None] | None = None
    _health: health_aio.HealthServicer | None = None
    _stopping: asyncio.Task[None] | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def own_unit(self) -> Unit:
        """This node's unit."""
        return self.roster.own_unit()

    async def start(self) -> int:
        """Start the writer, the servers, the scheduler and replication; returns the client port."""
        self.writer.start()
        if self.settings.metrics_port >= 0 and self.metrics is None:
            self.metrics = NodeMetrics()
            self.writer.on_group = self.metrics.observe_group
            self.jobs.on_job = self.metrics.observe_job
        self._health = health_aio.HealthServicer()
        names: list[str] = []
        self.server = self._server(self.profile.client_services, names)
        # TLS with the node's own certificate; officers prove who they are with a session token.
        self.port = self.server.add_secure_port(
            f"{self.settings.host}:{self.settings.port}", self._tls(client_auth=False)
        )
        if self.port == 0:
            raise OSError(f"cannot listen on {self.settings.host}:{self.settings.port}")
        if self.profile.peer_services:
            self.peer_server = self._server(self.profile.peer_services, names)
            address = f"{self.settings.host}:{self.settings.peer_port}"
            self.peer_port = self.peer_server.add_secure_port(address, self._tls(client_auth=True))
            if self.peer_port == 0:
                raise OSError(f"cannot listen on {address}")
            await self.peer_server.start()
        await self.server.start()
        for name in ("", *names):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.jobs.start(self.settings.sweep_interval)
        if self.metrics is not None:
            if self.link is not None:
                self.link.on_round = partial(self.metrics.observe_round, self.link.target)
            if self.children is not None:
                self.children.on_events = self.metrics.observe_child_events
        self._serve_metrics()
        if self.link is not None:
            self.writer.on_commit = self.link.wake
            self._link_task = asyncio.create_task(self.link.run(self._link_stop))
        # What start-up made (modules, descriptors, engines) lives as long as the node: keep
        # it out of the collector's way, so a full collection never stalls the loop for long.
        gc.freeze()
        # Memory a burst of large requests took goes back to the system after it.
        give_memory_back()
        # Reads and folds on the blocking pool hold the interpreter lock in turns; a shorter
        # turn than the default 5 ms lets the loop answer calls between them.
        sys.setswitchinterval(LOOP_TURN)
        return self.port

    def _serve_metrics(self) -> None:
        """Serve the node's metrics on ``host:metrics_port`` (``node.metrics``), if asked."""
        if self.metrics is None or self._metrics_endpoint is not None:
            return
        self.metrics.registry.register(NodeReadings(self, lambda: self._gates))
        self._metrics_endpoint = MetricsEndpoint(self.metrics.registry)
        self.metrics_port = self._metrics_endpoint.start(
            self.settings.host, self.settings.metrics_port
        )

    def _server(self, mounts: tuple[ServiceMount, ...], names: list[str]) -> aio.Server:
        """A server with ``mounts``, health and reflection; the names served go to ``names``.

        It receives no message larger than its largest method takes (``node.edge.limits``),
        and its gate (``node.edge.gate``) holds each method to its own size and the server to
        ``max_calls`` of our calls at once; errors are mapped outside the gate, so that its
        refusals get their codes too. On the client port, who is calling comes from the
        session token (``node.edge.caller``), checked after the gate.
        """
        options: list[tuple[str, int]] = [
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", port_limit([m.name for m in mounts])),
        ]
        gate = CallGate(self.settings.max_calls, meter=self.metrics)
        self._gates["peer" if any(m.peer for m in mounts) else "client"] = gate
        interceptors: list[aio.ServerInterceptor] = [  # type: ignore[type-arg]
            ErrorMappingInterceptor(),
            gate,
        ]
        if not any(m.peer for m in mounts):
            # A web front's visitor, when the front shows the node's key (node.edge.front).
            interceptors.append(FrontInterceptor(front_key(self.settings.data_dir)))
            interceptors.append(SessionInterceptor(self.access))
            # Who may call what, for every method (node.edge.guard, core.access.permissions).
            interceptors.append(PermissionGuard(self))
            # What an administrator changed, into the access record (node.edge.acts).
            interceptors.append(ActRecorder(self.access))
        server = aio.server(interceptors=interceptors, options=options)
        for mount in mounts:
            mount.add(self, server)
            names.append(mount.name)
        assert self._health is not None
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        served = [m.name for m in mounts]
        reflection.enable_server_reflection(
            [*served, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        return server

    def _tls(self, *, client_auth: bool) -> grpc.ServerCredentials:
        """TLS with this node's certificate. With ``client_auth`` (the peer port) it is mutual:
        clients must present a certificate chaining to the national root. Without (the client
        port), officers' tools check the node's certificate and prove themselves with a session
        token (``node.edge.channels``)."""
        credentials = self.identity.credentials
        assert credentials is not None  # build_node refuses a node without one
        return grpc.ssl_server_credentials(
            [(self.identity.tls_key_pem(), credentials.chain_pem())],
            root_certificates=credentials.root_pem() if client_auth else None,
            require_client_auth=client_auth,
        )

    async def stop(self, grace: float = 5.0) -> None:
        """Stop without losing anything acknowledged; safe to call more than once.

        A second call (a second SIGTERM) waits for the first to finish instead of starting
        another stop half-way through.
        """
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop(grace))
        await asyncio.shield(self._stopping)

    async def _stop(self, grace: float) -> None:
        try:
            if self._health is not None:
                await self._health.enter_graceful_shutdown()
            servers = [s for s in (self.server, self.peer_server) if s is not None]
            # No new calls from here; calls under way have ``grace`` seconds to finish.
            await asyncio.gather(*(s.stop(grace) for s in servers))
            # Refused sign-in tries not yet recorded (a burst under way) are recorded now.
            await self.access.flush_bursts()
            await self.jobs.stop()
            self._link_stop.set()
            if self._link_task is not None:
                await self._finish_link(grace)
            if self.link is not None:
                await self.link.close()
            # Every job queued so far is committed (or refused) and its caller answered.
            await asyncio.get_running_loop().run_in_executor(None, self.writer.stop)
        finally:
            if self._metrics_endpoint is not None:
                self._metrics_endpoint.stop()
            self.verifier.close()
            self.blocking.close()
            self.db.close()
            self._stopped.set()

    async def replicate_only_when_asked(self) -> None:
        """Stop the rounds run on the timer and on every commit; ``sync_once`` (``hotline
        sync``) still runs one. For a drill or test that changes the database by hand between
        two rounds: a round started by a commit of its own would otherwise land in between."""
        self.writer.on_commit = None
        self._link_stop.set()
        if self._link_task is not None:
            await asyncio.gather(self._link_task, return_exceptions=True)

    async def _finish_link(self, grace: float) -> None:
        """Let a replication round under way end (its batches commit), then stop the link.
        A round still waiting for its parent to answer has nothing to finish: it is cancelled
        at once, so a node whose parent is away stops without waiting out the grace."""
        task = self._link_task
        assert task is not None
        exchanging = self.link is not None and self.link.exchanging
        done, _ = await asyncio.wait({task}, timeout=grace if exchanging else 0)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait(self) -> None:
        """Block until the node has stopped."""
        await self._stopped.wait()
