"""What an administrator asks of a node: who it is, its replication, alerts, quarantine, trust.

``hotline info``, ``hotline sync now|status``, ``hotline alerts``, ``hotline quarantine
release`` and ``hotline pki publish`` reach these through ``AdminService``. Lags are computed
from the log (what the parent has not acknowledged, what a child has not pulled) so they
survive restarts. Reads run on the node's blocking pool; changes go through the log writer.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from core.errors import InvalidInput, NotFound
from core.units import Unit, jurisdiction_prefix, level_of
from node.app.blocking import BlockingPool
from node.storage.tables import tickets
from proto.hotline.v1 import admin_pb2, sync_pb2
from sync.children import ChildReplication
from sync.client import ParentLink, upward_lag
from sync.codec import enum_number
from sync.errors import ReplicationError
from sync.identity import NodeIdentity
from sync.log_store import EventLog
from sync.reasons import AlertKind
from sync.trust_sharing import learn_trust
from sync.writer import LogBatch, LogWriter

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]


@dataclass
class ReplicationDesk:
    """The node and its replication as an administrator sees them."""

    identity: NodeIdentity
    unit: Callable[[], Unit]
    """This node's unit (its name may change with the roster)."""
    parent: str
    """The parent's peer address, as configured ('' at the top)."""
    backend: str
    """``sqlite`` or ``postgresql``."""
    read: ReadSnapshot
    writer: LogWriter
    link: ParentLink | None
    children: Callable[[], ChildReplication | None]
    wall_ms: Callable[[], int]
    """The node's clock: ages in ``sync status`` are measured on it (a drill runs it fast)."""
    blocking: BlockingPool

    async def info(self) -> admin_pb2.NodeInfo:
        """Who this node is and how replication stands (``hotline info``)."""
        return await self.blocking.run(self.read_info)

    def read_info(self) -> admin_pb2.NodeInfo:
        """``info`` as a blocking read."""
        with self.read() as conn:
            log = EventLog(conn)
            events = log.count_events()
            count = conn.execute(select(func.count()).select_from(tickets)).scalar_one()
            own = log.head(self.identity.node_id)
        unit = self.unit()
        info = admin_pb2.NodeInfo(
            node_id=self.identity.node_id,
            unit_code=unit.code,
            unit_name=unit.name,
            level=enum_number(unit.level),
            key_id=self.identity.key_id,
            parent=self.parent,
            events=events,
            tickets=count,
            database=self.backend,
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
        """One replication round now (``hotline sync now``)."""
        if self.link is None:
            return admin_pb2.SyncReport(error="this node has no parent")
        try:
            report = await self.link.sync_once()
        except ReplicationError as exc:
            return admin_pb2.SyncReport(error=str(exc))
        return admin_pb2.SyncReport(
            pushed=report.pushed, pulled=report.pulled, rejected=report.rejected
        )

    async def status(self) -> admin_pb2.SyncStatus:
        """Per peer: lag in events and time, last error; plus quarantined origins and alerts."""
        return await self.blocking.run(self.read_status)

    def read_status(self) -> admin_pb2.SyncStatus:
        """``status`` as a blocking read."""
        status = admin_pb2.SyncStatus(now_ms=self.wall_ms())
        with self.read() as conn:
            log = EventLog(conn)
            for origin, (reason, since) in sorted(log.quarantined().items()):
                status.quarantined.add(origin_node=origin, reason=reason, since_ms=since)
            status.open_alerts = log.count_open_alerts()
            status.refused_events = log.count_refused()
            service = self.children()
            contacts = list(service.children.values()) if service else []
            unsent, oldest = upward_lag(log, self.link.prefix) if self.link is not None else (0, 0)
            child_lags = [
                (
                    c,
                    log.feed_count_after(
                        jurisdiction_prefix(c.unit_code, level_of(c.unit_code)), c.pulled_to
                    ),
                )
                for c in contacts
            ]
        if self.link is not None:
            s = self.link.status
            status.peers.add(
                peer=self.link.target,
                role="parent",
                node_id=s.parent_node,
                unsent_events=unsent,
                oldest_unsent_ms=oldest,
                unpulled_events=s.unpulled_events,
                last_success_ms=s.last_success_ms,
                last_error=s.last_error,
                failures=s.failures,
            )
        for contact, unpulled in sorted(child_lags, key=lambda c: c[0].node_id):
            status.peers.add(
                peer=contact.node_id,
                role="child",
                node_id=contact.node_id,
                unpulled_events=unpulled,
                last_success_ms=contact.last_contact_ms,
            )
        return status

    async def alerts(self, limit: int) -> admin_pb2.ListAlertsResponse:
        """Open alerts, newest first."""
        return await self.blocking.run(self.read_alerts, limit)

    def read_alerts(self, limit: int) -> admin_pb2.ListAlertsResponse:
        """``alerts`` as a blocking read."""
        with self.read() as conn:
            rows = EventLog(conn).open_alerts(limit or 100)
        return admin_pb2.ListAlertsResponse(
            alerts=[
                admin_pb2.Alert(
                    id=r.id,
                    kind=r.kind,
                    subject=r.subject,
                    detail=r.detail,
                    raised_ms=r.raised_ms,
                    repeats=r.repeats,
                    last_ms=r.last_ms or r.raised_ms,
                )
                for r in rows
            ]
        )

    async def release(self, origin_node: str, note: str) -> bool:
        """Let a quarantined origin in again; its fork evidence and alerts stay on record."""
        if not origin_node:
            raise InvalidInput("origin_node", "name the origin to release")

        def job(batch: LogBatch) -> bool:
            if not batch.release(origin_node):
                return False
            batch.clear_alerts(AlertKind.FORK, origin_node)
            batch.raise_alert(
                AlertKind.RELEASED, origin_node, note or "released by an administrator"
            )
            return True

        released = await self.writer.run(job)
        if not released:
            raise NotFound(f"origin {origin_node} is not quarantined here")
        return released

    async def publish(self, bundle: sync_pb2.TrustBundle) -> admin_pb2.PublishTrustResponse:
        """Hold new authorities and revocation lists; replication spreads them."""
        authorities, crls = await self.writer.run(lambda batch: learn_trust(batch, bundle))
        return admin_pb2.PublishTrustResponse(
            authorities_added=authorities, revocation_lists_added=crls
        )
