"""Taking in events from a peer: verify each one, store what holds, report what does not.

Two directions, two sets of checks (docs/protocol.md):

* **Upward** (``ingest_chains``): a child sends whole chains of the origins in its subtree. Each
  event must be signed by the key of its origin, and continue that origin's chain exactly
  (sequence = head + 1, previous hash = head's hash). A gap, a rewrite or a fork is refused.
* **Downward** (``ingest_feed``): a parent sends the events of tickets in this node's
  jurisdiction, from origins outside it. They are partial chains by design (filtered), so only
  the signature and the signer's key are checked.

A refused event is not stored, is recorded in ``sync_problems`` with its reason, and never
stops the rest of the batch. Events already held are counted as duplicates and skipped, which
makes replaying any batch harmless. Both functions run as jobs of the node's ``LogWriter``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sync.envelope import GENESIS_HASH, SealedEvent
from sync.identity import PublicIdentity
from sync.log_store import Head
from sync.writer import LogBatch

MAX_REPORTED_REJECTIONS = 20


@dataclass
class IngestReport:
    """What became of a batch of received events."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[tuple[str, str]] = field(default_factory=list)

    def reject(self, event: SealedEvent, reason: str) -> None:
        """Count a refused event and keep the first reasons for the sender."""
        self.rejected += 1
        if len(self.rejections) < MAX_REPORTED_REJECTIONS:
            self.rejections.append((event.event_id, reason))

    def add(self, other: IngestReport) -> None:
        """Sum another report into this one."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        room = MAX_REPORTED_REJECTIONS - len(self.rejections)
        self.rejections.extend(other.rejections[:room])


def _signature_problem(
    batch: LogBatch, event: SealedEvent, offered: dict[str, PublicIdentity]
) -> str | None:
    key = offered.get(event.signer_key_id) or batch.key(event.signer_key_id)
    if key is None:
        return f"unknown signer key {event.signer_key_id[:16]}"
    if key.node_id != event.origin_node:
        return f"key {event.signer_key_id[:16]} belongs to {key.node_id}, not {event.origin_node}"
    if not event.signature_valid(key.public_key):
        return "signature does not verify"
    batch.register_key(key)
    return None


def _finish(
    batch: LogBatch, report: IngestReport, refused: list[tuple[SealedEvent, str]], peer: str
) -> None:
    for event, reason in refused:
        report.reject(event, reason)
        batch.record_problem(event.event_id, event.origin_node, peer, reason)


def ingest_chains(
    batch: LogBatch,
    events: Sequence[SealedEvent],
    keys: Sequence[PublicIdentity],
    *,
    peer: str,
    subtree_prefix: str,
) -> IngestReport:
    """Store a child's events that continue their origins' chains; refuse the rest."""
    report = IngestReport()
    offered = {k.key_id: k for k in keys}
    known = batch.known_ids(e.event_id for e in events)
    heads: dict[str, Head] = {}
    accepted: list[SealedEvent] = []
    refused: list[tuple[SealedEvent, str]] = []
    for event in events:
        if event.event_id in known:
            report.duplicates += 1
            continue
        if not event.origin_unit.startswith(subtree_prefix):
            refused.append((event, f"origin {event.origin_unit} is outside the sender's subtree"))
            continue
        if event.origin_node == batch.identity.node_id:
            refused.append((event, "claims to come from the receiving node itself"))
            continue
        problem = _signature_problem(batch, event, offered)
        if problem is not None:
            refused.append((event, problem))
            continue
        head = (
            heads.get(event.origin_node)
            or batch.head(event.origin_node)
            or Head(event.origin_node, event.origin_unit, 0, GENESIS_HASH)
        )
        if event.origin_seq <= head.seq:
            held = batch.event_at(event.origin_node, event.origin_seq)
            if held is not None and held.hash == event.hash:
                report.duplicates += 1
            else:
                refused.append(
                    (
                        event,
                        f"fork: a different event {event.origin_node}#"
                        f"{event.origin_seq} is already held",
                    )
                )
            continue
        if event.origin_seq != head.seq + 1:
            refused.append(
                (
                    event,
                    f"gap: expected {event.origin_node}#{head.seq + 1}, got #{event.origin_seq}",
                )
            )
            continue
        if event.prev_hash != head.hash:
            refused.append((event, "chain broken: previous hash does not match the held chain"))
            continue
        heads[event.origin_node] = Head(
            event.origin_node, event.origin_unit, event.origin_seq, event.hash
        )
        known.add(event.event_id)
        accepted.append(event)
    batch.store_received(accepted, peer)
    for head in heads.values():
        batch.set_head(head)
    report.accepted = len(accepted)
    _finish(batch, report, refused, peer)
    return report


def ingest_feed(
    batch: LogBatch,
    events: Sequence[SealedEvent],
    keys: Sequence[PublicIdentity],
    *,
    peer: str,
) -> IngestReport:
    """Store a parent's feed events whose signatures hold; refuse the rest."""
    report = IngestReport()
    offered = {k.key_id: k for k in keys}
    known = batch.known_ids(e.event_id for e in events)
    accepted: list[SealedEvent] = []
    refused: list[tuple[SealedEvent, str]] = []
    for event in events:
        if event.event_id in known:
            report.duplicates += 1
            continue
        problem = _signature_problem(batch, event, offered)
        if problem is not None:
            refused.append((event, problem))
            continue
        known.add(event.event_id)
        accepted.append(event)
    batch.store_received(accepted, peer)
    report.accepted = len(accepted)
    _finish(batch, report, refused, peer)
    return report
