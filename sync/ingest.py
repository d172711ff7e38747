"""Taking in events from a peer: verify each one, store what holds, report what does not.

Receipt happens in two steps so that the costly part runs beside the writer, on both cores:

1. ``sync.verification`` (no database, another core): each event's Ed25519 signature against
   the event key its signer's certificate certifies. Certificates travel with the batch and
   are checked against the trust store first.
2. ``ingest_chains`` / ``ingest_feed`` (a job of the node's one ``LogWriter``): everything that
   depends on what the node already holds, in one transaction.

**Upward** (``ingest_chains``) a child sends whole chains of the origins in its subtree. Each
event must continue its origin's chain exactly (sequence = head + 1, previous hash = head's
hash). Then it must *count*: its signer's certificate valid and not revoked at the event's time,
the officer one of the signer's own unit, the unit entitled to the event type and involved in the
ticket. An event that links but does not count is kept as evidence (its place in the chain is
taken, its verdict says why, nothing folds it). An event that does not link is not stored:

* a **duplicate** (same place, same bytes) is skipped, which makes any replay harmless;
* a **fork** (same place, other bytes: a cloned node, a restored backup) is kept in
  ``fork_evidence``, the origin is quarantined until an administrator releases it, and an
  alert is raised;
* a **gap** stops that origin's chain for the rest of the batch until the missing events arrive;
* a **broken signature** is refused with a tamper alert.

**Downward** (``ingest_feed``) a parent sends the events of tickets in this node's jurisdiction;
they are partial chains by design (filtered), so only the signature, the certificate and the
unit's entitlement are checked, and what fails is refused.

A refused event never stops the rest of its batch; every refusal is recorded in
``sync_problems`` with its reason (a ``sync.reasons.Refusal`` and the specifics) and counted,
and raises the alert that reason calls for (none for a gap, a wait or a quarantined origin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core import hlc
from core.ticket.authority import DISPATCH_LEVELS
from core.ticket.state import TicketStatus
from core.units import jurisdiction_prefix, level_of
from proto.hotline.v1 import events_pb2
from sync.envelope import GENESIS_HASH, SealedEvent
from sync.identity import NotEnrolled
from sync.log_store import Head
from sync.pki import NodeCertificate
from sync.read_ahead import REGISTERED as REGISTERED  # re-exported: the wire name ingest uses
from sync.read_ahead import ReadAhead
from sync.reasons import Refusal, Refused
from sync.trust import TrustStore
from sync.writer import LogBatch

MAX_REPORTED_REJECTIONS = 20
ROUTED = "hotline.v1.TicketRouted"


@dataclass
class IngestReport:
    """What became of a batch of received events."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[tuple[str, str]] = field(default_factory=list)

    def reject(self, event_id: str, reason: str) -> None:
        """Count a refused event and keep the first reasons for the sender."""
        self.rejected += 1
        if len(self.rejections) < MAX_REPORTED_REJECTIONS:
            self.rejections.append((event_id, reason))

    def add(self, other: IngestReport) -> None:
        """Sum another report into this one."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        room = MAX_REPORTED_REJECTIONS - len(self.rejections)
        self.rejections.extend(other.rejections[:room])


@dataclass(frozen=True)
class CheckedEvent:
    """A received event and what its signature check found (None when it verified)."""

    event: SealedEvent
    signature_problem: Refused | None = None
    read_ahead: ReadAhead | None = None
    """What the verifying worker decoded of it, if it did (``sync.read_ahead``)."""


def why_not_counted(trust: TrustStore, event: SealedEvent) -> Refused | None:
    """Why an event with a good signature does not count, judged on the event alone (None: it does).

    The signer's certificate must have been valid for the origin node and unit at the event's
    time and not revoked by then; the officer must belong to the signer's unit; and routing is
    for dispatching levels only. Whether the unit may act on *this* ticket is asked of the
    ticket's state (``_not_involved``) and, for concurrent steps, by the fold.
    """
    verdict = trust.signer(
        event.signer_key_id, event.origin_node, event.origin_unit, hlc.to_millis(event.hlc)
    )
    if not verdict.ok:
        return Refused(Refusal.SIGNER_NOT_TRUSTED, verdict.reason)
    if event.officer.unit_code != event.origin_unit:
        return Refused(
            Refusal.OFFICER_OF_ANOTHER_UNIT,
            f"the officer is of {event.officer.unit_code}, the signer of {event.origin_unit}",
        )
    if event.event_type == ROUTED and level_of(event.origin_unit) not in DISPATCH_LEVELS:
        return Refused(
            Refusal.UNIT_DOES_NOT_DISPATCH,
            f"{event.origin_unit} is a {level_of(event.origin_unit).value} unit",
        )
    return None


def personal_data_in_clear(event: SealedEvent) -> Refused | None:
    """Why a registration may not be stored at all: it carries the filer's data in clear.

    Protocol 2 signs only a commitment (docs/protocol.md, "Personal data"); storing such an
    event, even as evidence, would write the values to this node's disk, so it is refused
    before it takes a place in its chain (the origin waits, as for a broken link).
    """
    if event.event_type != REGISTERED:
        return None
    # The message alone, not the domain event: a backlog of registrations is read once more
    # by the fold anyway, and this check must stay cheap.
    consumer = events_pb2.TicketRegistered.FromString(event.payload).consumer
    if not (consumer.name or consumer.phone or consumer.address or consumer.id_number):
        return None
    return Refused(Refusal.PERSONAL_DATA_IN_CLEAR, f"ticket {event.ticket_id}")


def _not_involved(batch: LogBatch, event: SealedEvent) -> Refused | None:
    """Why the event's unit has nothing to do with its ticket, as far as this node knows."""
    if event.event_type == REGISTERED:
        return None
    state = batch.state_of(event.ticket_id)
    if state.status is TicketStatus.UNKNOWN:
        return None  # the ticket's registration is not held here: nothing to judge against
    unit = event.origin_unit
    prefix = jurisdiction_prefix(unit, level_of(unit))
    if any(u == unit or u.startswith(prefix) for u in state.units_involved):
        return None
    return Refused(Refusal.UNIT_NOT_INVOLVED, f"{unit}, ticket {event.ticket_id}")


def _refuse(
    batch: LogBatch, report: IngestReport, event: SealedEvent, peer: str, refused: Refused
) -> None:
    """Count, record and (if its reason calls for one) raise an alert for one refusal."""
    reason = str(refused)
    report.reject(event.event_id, reason)
    batch.record_problem(event.event_id, event.origin_node, peer, reason)
    if refused.alert is not None:
        batch.raise_alert(
            refused.alert,
            event.origin_node,
            f"event {event.event_id} ({event.event_type}) from {peer}: {reason}",
        )


def ingest_chains(
    batch: LogBatch,
    checked: Sequence[CheckedEvent],
    *,
    peer: str,
    subtree_prefix: str,
    certificates: Sequence[NodeCertificate] = (),
) -> IngestReport:
    """Store a child's events that continue their origins' chains; refuse the rest."""
    trust = _trust(batch)
    batch.remember_certificates(certificates)
    report = IngestReport()
    known = batch.known_ids(c.event.event_id for c in checked)
    stalled: set[str] = set()
    counted: list[SealedEvent] = []
    for item in checked:
        event = item.event
        origin = event.origin_node
        if event.event_id in known:
            report.duplicates += 1
            continue
        if not event.origin_unit.startswith(subtree_prefix):
            refused = Refused(Refusal.OUTSIDE_SUBTREE, f"origin {event.origin_unit}")
            _refuse(batch, report, event, peer, refused)
            continue
        if origin == batch.identity.node_id:
            _refuse(batch, report, event, peer, Refused(Refusal.FROM_RECEIVER))
            continue
        if batch.is_quarantined(origin):
            _refuse(batch, report, event, peer, Refused(Refusal.QUARANTINED, origin))
            continue
        if origin in stalled:
            _refuse(batch, report, event, peer, Refused(Refusal.WAITS_FOR_EARLIER))
            continue
        problem = item.signature_problem or personal_data_in_clear(event)
        if problem is not None:
            stalled.add(origin)
            _refuse(batch, report, event, peer, problem)
            continue
        head = batch.head(origin) or Head(origin, event.origin_unit, 0, GENESIS_HASH)
        if event.origin_seq <= head.seq:
            held = batch.event_at(origin, event.origin_seq)
            if held is not None and held.hash == event.hash:
                report.duplicates += 1
                continue
            stalled.add(origin)
            refused = Refused(
                Refusal.FORK, f"a different event {origin}#{event.origin_seq} is already held"
            )
            if held is not None:
                batch.record_fork(held, event, peer)
            batch.quarantine(origin, str(refused))
            _refuse(batch, report, event, peer, refused)
            continue
        if event.origin_seq != head.seq + 1:
            stalled.add(origin)
            refused = Refused(
                Refusal.GAP, f"expected {origin}#{head.seq + 1}, got #{event.origin_seq}"
            )
            _refuse(batch, report, event, peer, refused)
            continue
        if event.prev_hash != head.hash:
            stalled.add(origin)
            refused = Refused(Refusal.CHAIN_BROKEN, "previous hash does not match the held chain")
            _refuse(batch, report, event, peer, refused)
            continue
        batch.set_head(Head(origin, event.origin_unit, event.origin_seq, event.hash))
        known.add(event.event_id)
        not_counted = why_not_counted(trust, event)
        if not_counted is not None:
            batch.store_evidence(event, peer, str(not_counted))
            _refuse(batch, report, event, peer, not_counted)
            continue
        counted.append(event)
    batch.store_received(counted, peer, _read_ahead(checked))
    batch.prefetch(e.ticket_id for e in counted if e.event_type != REGISTERED)
    for event in counted:
        not_involved = _not_involved(batch, event)
        if not_involved is not None:
            batch.demote(event, str(not_involved))
            _refuse(batch, report, event, peer, not_involved)
        else:
            report.accepted += 1
    return report


def ingest_feed(
    batch: LogBatch,
    checked: Sequence[CheckedEvent],
    *,
    peer: str,
    certificates: Sequence[NodeCertificate] = (),
) -> IngestReport:
    """Store a parent's feed events that verify and count; refuse the rest."""
    trust = _trust(batch)
    batch.remember_certificates(certificates)
    report = IngestReport()
    known = batch.known_ids(c.event.event_id for c in checked)
    accepted: list[SealedEvent] = []
    for item in checked:
        event = item.event
        if event.event_id in known:
            report.duplicates += 1
            continue
        refused = (
            item.signature_problem or personal_data_in_clear(event) or why_not_counted(trust, event)
        )
        if refused is not None:
            _refuse(batch, report, event, peer, refused)
            continue
        known.add(event.event_id)
        accepted.append(event)
    batch.store_received(accepted, peer, _read_ahead(checked))
    report.accepted = len(accepted)
    return report


def _read_ahead(checked: Sequence[CheckedEvent]) -> dict[str, ReadAhead]:
    """The worker's read-ahead of a batch's events, by event id (``store_received`` takes
    only those of the events it stores)."""
    return {c.event.event_id: c.read_ahead for c in checked if c.read_ahead is not None}


def _trust(batch: LogBatch) -> TrustStore:
    if batch.trust is None:
        raise NotEnrolled("this node's writer has no trust store: it cannot take in events")
    return batch.trust
