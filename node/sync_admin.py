"""What an administrator asks of a node's replication: status, alerts, quarantine, trust.

``hotline sync status``, ``hotline alerts``, ``hotline quarantine release`` and ``hotline pki
publish`` reach these through ``AdminService``. Lags are computed from the log (what the
parent has not acknowledged, what a child has not pulled) so they survive restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import Connection, delete, update

from core.errors import InvalidInput, NotFound
from core.units import jurisdiction_prefix, level_of
from proto.hotline.v1 import admin_pb2, sync_pb2
from sync import schema
from sync.client import ParentLink, upward_lag
from sync.log_store import EventLog
from sync.service import SyncServicer, learn_trust
from sync.writer import LogBatch, LogWriter

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]


@dataclass
class SyncAdministration:
    """Replication as an administrator sees it on one node."""

    read: ReadSnapshot
    writer: LogWriter
    link: ParentLink | None
    children: Callable[[], SyncServicer | None]
    wall_ms: Callable[[], int]
    """The node's clock: ages in ``sync status`` are measured on it (a drill runs it fast)."""

    def status(self) -> admin_pb2.SyncStatus:
        """Per peer: lag in events and time, last error; plus quarantined origins and alerts."""
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

    def alerts(self, limit: int) -> admin_pb2.ListAlertsResponse:
        """Open alerts, newest first."""
        with self.read() as conn:
            rows = EventLog(conn).open_alerts(limit or 100)
        return admin_pb2.ListAlertsResponse(
            alerts=[
                admin_pb2.Alert(
                    id=r.id, kind=r.kind, subject=r.subject, detail=r.detail, raised_ms=r.raised_ms
                )
                for r in rows
            ]
        )

    async def release(self, origin_node: str, note: str) -> bool:
        """Let a quarantined origin in again; its fork evidence and alerts stay on record."""
        if not origin_node:
            raise InvalidInput("origin_node", "name the origin to release")

        def job(batch: LogBatch) -> bool:
            table = schema.quarantined_origins
            done = batch.conn.execute(delete(table).where(table.c.origin_node == origin_node))
            if not done.rowcount:
                return False
            batch.conn.execute(
                update(schema.alerts)
                .where(schema.alerts.c.subject == origin_node, schema.alerts.c.kind == "fork")
                .values(cleared_ms=batch.now_ms())
            )
            batch.raise_alert("released", origin_node, note or "released by an administrator")
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
