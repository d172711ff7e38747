"""Assembling a node: the one place where settings become a running process.

``build_node`` wires the pieces (identity, database, roster, log writer, desks, parent link,
gRPC server) from ``NodeSettings``; tests pass fakes for the clock or identity instead. The
level packages (``province_hub``, ``city_node``, ``station_agent``) call it with the services
their level serves on top of the common ones (Intake, Casework, Admin, health, reflection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection
from sqlalchemy import func, select

from core.deadlines.china_time import china_date
from core.units import Unit, UnitLevel
from node.casework import CaseworkDesk
from node.clock import Clock
from node.database import Database
from node.grpc_edge import ErrorMappingInterceptor
from node.incidents import IncidentSweep
from node.intake import IntakeDesk
from node.obligations import default_rules
from node.projection import TicketProjection, tickets
from node.queue import SupervisionQueue, SupervisionServicer
from node.roster import Roster
from node.rules import ProvinceRules, RulesServicer
from node.servicers import AdminServicer, CaseworkServicer, IntakeServicer
from node.settings import NodeSettings
from node.sweeps import EscalationSweep, sweep_officer
from node.sync_admin import SyncAdministration
from proto.hotline.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    casework_pb2,
    casework_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    rules_pb2,
    rules_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
    sync_pb2,
    sync_pb2_grpc,
)
from sync.client import ParentLink
from sync.codec import enum_number
from sync.envelope import GENESIS_HASH
from sync.errors import ReplicationError
from sync.identity import Credentials, NodeIdentity, NotEnrolled
from sync.log_store import EventLog, Head
from sync.service import SyncServicer
from sync.trust import TrustStore
from sync.verification import SignatureVerifier
from sync.writer import LogWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceMount:
    """A service a level adds to its node: ``add`` mounts it and returns its full name."""

    add: Callable[[Node, aio.Server], str]
    peer: bool = False
    """True for services of the mutual-TLS peer port (node to node), False for the client port."""


def _add_sync_service(node: Node, server: aio.Server) -> str:
    node.sync_service = SyncServicer(
        node.identity,
        node.db.read,
        node.writer,
        node.trust,
        node.clock.wall_ms,
        node.verifier,
        rules=node.rules,
    )
    sync_pb2_grpc.add_SyncServiceServicer_to_server(node.sync_service, server)
    return str(sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name)


mount_sync_service = ServiceMount(_add_sync_service, peer=True)
"""``SyncService`` for this node's children, on the peer port."""


@dataclass
class Node:
    """A running (or ready to run) node and its parts."""

    settings: NodeSettings
    clock: Clock
    identity: NodeIdentity
    db: Database
    roster: Roster
    projection: TicketProjection
    writer: LogWriter
    intake: IntakeDesk
    casework: CaseworkDesk
    link: ParentLink | None
    trust: TrustStore
    verifier: SignatureVerifier
    sweep: EscalationSweep
    rules: ProvinceRules
    mounts: Sequence[ServiceMount] = ()
    server: aio.Server | None = None
    peer_server: aio.Server | None = None
    port: int = 0
    peer_port: int = 0
    sync_service: SyncServicer | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _health: health_aio.HealthServicer | None = None

    @property
    def own_unit(self) -> Unit:
        """This node's unit."""
        return self.roster.own_unit()

    async def info(self) -> admin_pb2.NodeInfo:
        """Who this node is and how replication stands."""
        with self.db.read() as conn:
            events = EventLog(conn).count_events()
            count = conn.execute(select(func.count()).select_from(tickets)).scalar_one()
            own = EventLog(conn).head(self.identity.node_id)
        unit = self.own_unit
        info = admin_pb2.NodeInfo(
            node_id=self.identity.node_id,
            unit_code=unit.code,
            unit_name=unit.name,
            level=enum_number(unit.level),
            key_id=self.identity.key_id,
            parent=self.settings.parent,
            events=events,
            tickets=count,
            database=self.db.backend,
        )
        if self.link is not None:
            s = self.link.status
            info.parent_status.peer = self.link.target
            info.parent_status.pull_cursor = s.pull_cursor
            info.parent_status.pushed_seq = s.pushed_seq
            info.parent_status.own_seq = own.seq if own else 0
            info.parent_status.last_error = s.last_error
            info.parent_status.last_success_ms = s.last_success_ms
        return info

    async def sync_now(self) -> admin_pb2.SyncReport:
        """One replication round now (AdminService.SyncNow)."""
        if self.link is None:
            return admin_pb2.SyncReport(error="this node has no parent")
        try:
            report = await self.link.sync_once()
        except ReplicationError as exc:
            return admin_pb2.SyncReport(error=str(exc))
        return admin_pb2.SyncReport(
            pushed=report.pushed, pulled=report.pulled, rejected=report.rejected
        )

    async def start(self) -> int:
        """Start the writer, the gRPC server and replication; returns the bound port."""
        self.writer.start()
        server = aio.server(
            interceptors=[ErrorMappingInterceptor()], options=[("grpc.so_reuseport", 0)]
        )
        intake_pb2_grpc.add_IntakeServiceServicer_to_server(
            IntakeServicer(self.intake, self.roster), server
        )
        casework_pb2_grpc.add_CaseworkServiceServicer_to_server(
            CaseworkServicer(self.casework), server
        )
        admin_pb2_grpc.add_AdminServiceServicer_to_server(
            AdminServicer(
                self.roster,
                self.info,
                self.sync_now,
                SyncAdministration(
                    self.db.read,
                    self.writer,
                    self.link,
                    lambda: self.sync_service,
                    self.clock.wall_ms,
                ),
            ),
            server,
        )
        supervision_pb2_grpc.add_SupervisionServiceServicer_to_server(
            SupervisionServicer(
                SupervisionQueue(
                    self.roster.own_unit().code,
                    self.db.read,
                    self.projection.deadlines or default_rules(),
                    self.clock.wall_ms,
                )
            ),
            server,
        )
        rules_pb2_grpc.add_RulesServiceServicer_to_server(
            RulesServicer(self.rules, self.roster, self.writer, self.clock.wall_ms), server
        )
        names = [
            rules_pb2.DESCRIPTOR.services_by_name["RulesService"].full_name,
            supervision_pb2.DESCRIPTOR.services_by_name["SupervisionService"].full_name,
            intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name,
            casework_pb2.DESCRIPTOR.services_by_name["CaseworkService"].full_name,
            admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
        ]
        names.extend(m.add(self, server) for m in self.mounts if not m.peer)
        self._health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        names.append(health.SERVICE_NAME)
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
        self.port = server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        if self.port == 0:
            raise OSError(f"cannot listen on {self.settings.host}:{self.settings.port}")
        peer_mounts = [m for m in self.mounts if m.peer]
        if peer_mounts:
            self.peer_server = aio.server(
                interceptors=[ErrorMappingInterceptor()],
                options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 64 << 20)],
            )
            names.extend(m.add(self, self.peer_server) for m in peer_mounts)
            health_pb2_grpc.add_HealthServicer_to_server(self._health, self.peer_server)
            address = f"{self.settings.host}:{self.settings.peer_port}"
            self.peer_port = self.peer_server.add_secure_port(address, self._tls())
            if self.peer_port == 0:
                raise OSError(f"cannot listen on {address}")
            await self.peer_server.start()
        await server.start()
        self.server = server
        for name in ("", *names):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.sweep.start(self.settings.sweep_interval)
        if self.link is not None:
            self.writer.on_commit = self.link.wake
            self._tasks.append(asyncio.create_task(self.link.run(self._stop)))
        return self.port

    def _tls(self) -> grpc.ServerCredentials:
        """Mutual TLS with this node's certificate; clients must chain to the national root."""
        credentials = self.identity.credentials
        assert credentials is not None  # build_node refuses a node without one
        return grpc.ssl_server_credentials(
            [(self.identity.tls_key_pem(), credentials.chain_pem())],
            root_certificates=credentials.root_pem(),
            require_client_auth=True,
        )

    async def stop(self, grace: float = 2.0) -> None:
        """Stop serving, finish replication, drain the writer and close the database."""
        self._stop.set()
        self.sweep.stop()
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self.peer_server is not None:
            await self.peer_server.stop(grace)
        if self.server is not None:
            await self.server.stop(grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.link is not None:
            await self.link.close()
        self.writer.stop()
        self.verifier.close()
        self.db.close()

    async def wait(self) -> None:
        """Block until ``stop`` is called (or the task is cancelled)."""
        await self._stop.wait()


def _prepare_log(db: Database, identity: NodeIdentity, credentials: Credentials) -> TrustStore:
    """Record the node's own chain head and certificates; load what the node trusts."""
    trust = TrustStore(credentials.root)
    for authority in credentials.chain:
        if authority.subject != credentials.root.subject:
            trust.add_authority(authority)
    trust.add_node(credentials.certificate.certificate)
    with db.write() as conn:
        log_ = EventLog(conn)
        if log_.head(identity.node_id) is None:
            log_.set_head(Head(identity.node_id, identity.unit_code, 0, GENESIS_HASH))
        for authority in trust.authorities():
            log_.keep_certificate(authority, None)
        log_.keep_certificate(credentials.certificate.certificate, credentials.certificate)
        for problem in log_.load_trust(trust):
            log.warning("a kept certificate no longer verifies: %s", problem)
    return trust


def build_node(
    settings: NodeSettings,
    *,
    mounts: Sequence[ServiceMount] = (),
    clock: Clock | None = None,
    identity: NodeIdentity | None = None,
) -> Node:
    """Wire a node from its settings; ``clock`` and ``identity`` may be fakes in tests."""
    clock = clock or Clock.from_settings(settings)
    identity = identity or NodeIdentity.load_or_create(
        settings.data_dir, settings.unit, settings.level
    )
    if identity.credentials is None:
        raise NotEnrolled(
            f"node {identity.node_id} ({settings.unit}) has no certificate yet: enrol it with "
            f"`hotline pki request --data-dir {settings.data_dir} ...` and `hotline pki install`"
        )
    db = Database.open(settings.database_url)
    roster = Roster(db, settings.unit)
    if settings.unit not in roster.units:
        if settings.level is not UnitLevel.STATION:
            raise ValueError(f"unknown unit {settings.unit}; register it in the region table")
        roster.register_unit(
            settings.unit,
            settings.unit_name or f"{settings.unit} 市场监管所",
            UnitLevel.STATION,
            settings.unit[:6],
        )
    trust = _prepare_log(db, identity, identity.credentials)
    verifier = SignatureVerifier(ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify"))
    rules = default_rules()
    province_rules = ProvinceRules(roster.own_unit(), identity, rules)
    with db.read() as conn:
        province_rules.load(conn)
    unknown = province_rules.unknown_years(china_date(clock.wall_ms()))
    if unknown:
        log.warning(
            "THE HOLIDAY CALENDAR DOES NOT KNOW %s: deadlines there count weekends only until "
            "the province loads that year's holidays (`hotline rules holidays`)",
            ", ".join(map(str, unknown)),
        )
    projection = TicketProjection(roster.own_unit(), rules)
    writer = LogWriter(
        db.writer_engine,
        identity,
        clock.wall_ms,
        projection,
        max_batch=settings.writer_batch,
        trust=trust,
    )
    link = None
    if settings.parent:
        link = ParentLink(
            settings.parent,
            identity,
            db.read,
            writer,
            clock.wall_ms,
            trust,
            parent_unit=settings.parent_unit,
            verifier=verifier,
            rules=province_rules,
            batch_size=settings.sync_batch,
            interval=settings.sync_interval,
        )
    return Node(
        settings=settings,
        clock=clock,
        identity=identity,
        db=db,
        roster=roster,
        projection=projection,
        writer=writer,
        intake=IntakeDesk(
            db,
            writer,
            roster,
            clock,
            emergencies=settings.incidents.emergencies,
            campaigns=province_rules.campaign_of,
        ),
        casework=CaseworkDesk(writer, roster, clock, rules),
        link=link,
        trust=trust,
        verifier=verifier,
        sweep=EscalationSweep(
            roster.own_unit(),
            db.read,
            writer,
            rules,
            clock.wall_ms,
            incidents=IncidentSweep(
                roster.own_unit(),
                db.read,
                writer,
                clock.wall_ms,
                sweep_officer(roster.own_unit()),
                settings.incidents,
            ),
        ),
        rules=province_rules,
        mounts=mounts,
    )
