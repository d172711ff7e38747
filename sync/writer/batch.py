"""``LogBatch``: one writer transaction as a job sees it, with the node's records beside the log.

Besides the events and their states (``sync.writer.events``), a job keeps what the node learns
while taking them in: the certificates and revocation lists it trusts, the events a revocation
stops counting, alerts for an administrator, quarantined origins and fork evidence, and how far
it has pulled from each peer. Every one of these goes through the batch, buffered and undoable;
the trust store a node judges events by changes in memory only once the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Connection, Table, func, select

from core import hlc as hybrid_clock
from sync import schema
from sync.envelope import SealedEvent
from sync.identity import NodeIdentity
from sync.pki import NodeCertificate
from sync.reasons import AlertKind
from sync.trust import TrustStore, certificate_row, name_key_hex
from sync.writer.committed import CommittedStates
from sync.writer.events import EventBuffer

log = logging.getLogger(__name__)


class LogBatch(EventBuffer):
    """One writer transaction, as the jobs see it: every write is buffered until the flush."""

    def __init__(
        self,
        conn: Connection,
        identity: NodeIdentity,
        wall_ms: Callable[[], int],
        trust: TrustStore | None = None,
        committed: CommittedStates | None = None,
    ) -> None:
        super().__init__(conn, identity, wall_ms, committed)
        self._node_trust = trust
        self._trust = trust
        self._quarantined: set[str] | None = None
        self._released: set[str] = set()

    # -- trust ---------------------------------------------------------------------------------

    @property
    def trust(self) -> TrustStore | None:
        """What this node trusts, counting what earlier jobs of this transaction learnt
        (``stage_trust``); None only for tools that never receive events."""
        return self._trust

    def stage_trust(self, staged: TrustStore, learn: Callable[[TrustStore], object]) -> None:
        """Judge by ``staged`` for the rest of this transaction, and teach the node's own store
        the same once the transaction commits.

        ``staged`` is a copy of ``trust`` (``TrustStore.copy``) that the job has already taught;
        ``learn`` teaches a store the same things (it runs again on the node's store, which
        other threads may have taught certificates meanwhile, so it must not replace it).
        """
        if self._node_trust is None:
            raise ValueError("this writer has no trust store to teach")
        self._journal.append((setattr, self, "_trust", self._trust))
        self._trust = staged
        self.after_commit(partial(learn, self._node_trust))

    def remember_certificates(self, nodes: Iterable[NodeCertificate]) -> None:
        """Keep node certificates learnt from peers (so they can be passed on and audited)."""
        for node in nodes:
            self.upsert(schema.trusted_certificates, certificate_row(node.certificate, node))

    def remember_authority(self, cert: x509.Certificate) -> None:
        """Keep a province CA certificate learnt from a peer or an administrator."""
        self.upsert(schema.trusted_certificates, certificate_row(cert, None))

    def remember_revocations(self, crl: x509.CertificateRevocationList) -> None:
        """Keep an authority's newest revocation list."""
        self.upsert(
            schema.revocation_lists,
            {
                "issuer": name_key_hex(crl.issuer),
                "last_update_ms": int(crl.last_update_utc.timestamp() * 1000),
                "der": crl.public_bytes(serialization.Encoding.DER),
            },
        )

    def discount_signer(self, key_id: str, node_id: str, from_ms: int, verdict: str) -> int:
        """Stop counting a signer's events from ``from_ms`` on (its certificate was revoked).

        Events stored as counted, before or in this batch, become evidence (only their
        ``verdict`` changes; the signed rows stay as they were) and their tickets are folded
        again, so every node that learns of a revocation ends with the same state. Returns
        how many tickets were folded again.
        """
        since = hybrid_clock.from_millis(from_ms)
        verdict = verdict[:300]
        events = schema.events
        rows = self.conn.execute(
            select(events.c.event_id, events.c.ticket_id).where(
                events.c.signer_key_id == key_id,
                events.c.origin_node == node_id,
                events.c.hlc >= since,
                events.c.verdict == "",
            )
        )
        tickets = self.rejudge({r.event_id: r.ticket_id for r in rows}, verdict)
        mine = [
            event
            for event, _, judged in self.buffered_events()
            if not judged
            and event.signer_key_id == key_id
            and event.origin_node == node_id
            and event.hlc >= since
        ]
        for event in mine:
            self.demote(event, verdict)
        return len(tickets | {e.ticket_id for e in mine})

    # -- alerts ------------------------------------------------------------------------------

    def raise_alert(self, kind: AlertKind, subject: str, detail: str) -> None:
        """Raise an alert for an administrator (``hotline alerts``); ``kind`` is stored by value.

        The same problem again (same kind, subject and detail, still open), as a tampered event
        pushed on every replication round is, counts on its one alert (``repeats``, ``last_ms``)
        instead of raising another.
        """
        row = {"kind": kind.value, "subject": subject, "detail": detail[:2000], "cleared_ms": 0}
        if self._seen_again(schema.alerts, row):
            log.info("alert %s on %s again: %s", kind.value, subject, detail)
            return
        log.warning("alert %s on %s: %s", kind.value, subject, detail)
        now = self.now_ms()
        self.insert(schema.alerts, {**row, "raised_ms": now, "repeats": 1, "last_ms": now})

    def _seen_again(self, table: Table, key: dict[str, Any]) -> bool:
        """Count one more sighting on the row of ``table`` whose columns equal ``key`` (written
        in this batch, or before it and not changed by it); False when there is none."""
        now = self.now_ms()
        seen = False

        def again(row: dict[str, Any]) -> dict[str, Any]:
            nonlocal seen
            if seen or any(row[name] != value for name, value in key.items()):
                return row
            seen = True
            return {**row, "repeats": row["repeats"] + 1, "last_ms": now}

        self.replace_pending(table, again)
        if seen:
            return True
        if self.changes(table, key):
            return False  # e.g. cleared in this batch: what was seen before no longer stands
        held = self.conn.execute(
            select(func.count())
            .select_from(table)
            .where(*(table.c[name] == value for name, value in key.items()))
        ).scalar_one()
        if not held:
            return False
        self.update(table, key, {"repeats": table.c.repeats + 1, "last_ms": now})
        return True

    def clear_alerts(self, kind: AlertKind, subject: str) -> None:
        """Clear the open alerts of ``kind`` on ``subject``, raised before or in this batch."""
        now = self.now_ms()

        def cleared(row: dict[str, Any]) -> dict[str, Any]:
            if row["kind"] == kind.value and row["subject"] == subject and not row["cleared_ms"]:
                return {**row, "cleared_ms": now}
            return row

        self.replace_pending(schema.alerts, cleared)
        self.update(
            schema.alerts,
            {"kind": kind.value, "subject": subject, "cleared_ms": 0},
            {"cleared_ms": now},
        )

    # -- quarantine and evidence -------------------------------------------------------------

    def is_quarantined(self, origin_node: str) -> bool:
        """True when ``origin_node``'s events are held back (counting this batch)."""
        if (origin_node,) in self._upserts.get(schema.quarantined_origins, {}):
            return True
        if self._quarantined is None:
            self._quarantined = set(self.log.quarantined())
        return origin_node in self._quarantined and origin_node not in self._released

    def quarantine(self, origin_node: str, reason: str) -> None:
        """Hold back ``origin_node``'s events until an administrator releases it."""
        self.upsert(
            schema.quarantined_origins,
            {"origin_node": origin_node, "reason": reason[:2000], "since_ms": self.now_ms()},
        )

    def release(self, origin_node: str) -> bool:
        """Let ``origin_node``'s events in again; False when it was not held back."""
        if not self.is_quarantined(origin_node):
            return False
        self.delete(schema.quarantined_origins, (origin_node,))
        if origin_node not in self._released:
            self._released.add(origin_node)
            self._journal.append((self._released.discard, origin_node))
        return True

    def record_fork(self, held: SealedEvent, other: SealedEvent, peer: str) -> None:
        """Keep the second of two events claiming one place in a chain, as evidence."""
        self.upsert(
            schema.fork_evidence,
            {
                "origin_node": other.origin_node,
                "origin_seq": other.origin_seq,
                "held_hash": held.hash,
                "other_hash": other.hash,
                "envelope": other.envelope,
                "signature": other.signature,
                "peer": peer,
                "seen_ms": self.now_ms(),
            },
        )

    # -- replication -------------------------------------------------------------------------

    def set_cursor(self, peer: str, position: int) -> None:
        """Record how far this node has pulled from ``peer``, with the events pulled."""
        self.upsert(
            schema.peer_cursors, {"peer": peer, "position": position, "updated_ms": self.now_ms()}
        )

    def record_problem(self, event_id: str, origin_node: str, peer: str, reason: str) -> None:
        """Keep a note of an event refused on receipt (it is not stored in the log); the same
        refusal again, from the same peer, counts on its note."""
        key = {"event_id": event_id, "origin_node": origin_node, "peer": peer, "reason": reason}
        if self._seen_again(schema.sync_problems, key):
            return
        now = self.now_ms()
        self.insert(schema.sync_problems, {**key, "recorded_ms": now, "repeats": 1, "last_ms": now})
