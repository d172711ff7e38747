"""A batch of events as received from a peer: its events opened, its signers' certificates.

Opening thousands of envelopes and checking a batch's certificates take a thread's time, so
callers run ``read_batch`` on their node's blocking pool, never on the event loop; the
signatures are then checked by ``sync.verification`` and the events judged by ``sync.ingest``.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509

from proto.hotline.v1 import sync_pb2
from sync.envelope import EnvelopeError, SealedEvent, open_sealed
from sync.pki import NodeCertificate, PkiError
from sync.reasons import Refusal, Refused
from sync.trust import TrustStore


def signer_certificates(trust: TrustStore, ders: Any) -> list[NodeCertificate]:
    """The node certificates of a batch, each checked against the trust store."""
    nodes = []
    for der in ders:
        try:
            nodes.append(trust.add_node(x509.load_der_x509_certificate(der)))
        except (ValueError, PkiError):
            continue  # the events it would vouch for are refused as from an unknown signer
    return nodes


def open_batch(batch: sync_pb2.EventBatch) -> tuple[list[SealedEvent], list[tuple[str, str]]]:
    """The events of a received batch; unparseable ones are set aside with reasons."""
    events: list[SealedEvent] = []
    broken: list[tuple[str, str]] = []
    for i, signed in enumerate(batch.events):
        try:
            events.append(open_sealed(signed.envelope, signed.signature))
        except EnvelopeError as exc:
            broken.append((f"#{i}", str(Refused(Refusal.UNPARSEABLE, str(exc)))))
    return events, broken


def batch_certificates(trust: TrustStore, events: list[SealedEvent]) -> list[bytes]:
    """DER certificates of the signers of ``events`` (what a receiver needs to verify them)."""
    return [c.der for c in trust.certificates_for(e.signer_key_id for e in events)]


def read_batch(
    trust: TrustStore, batch: sync_pb2.EventBatch
) -> tuple[list[SealedEvent], list[NodeCertificate], list[tuple[str, str]]]:
    """A received batch's events, its signers' certificates, and what could not be opened."""
    certificates = signer_certificates(trust, batch.certificates)
    events, broken = open_batch(batch)
    return events, certificates, broken
