"""What two nodes teach each other of the hierarchy when they meet (docs/protocol.md §4).

Every Hello carries each side's certificate chain and a trust bundle: the province
authorities and the newest revocation lists it holds. Everything is checked against the
national root before it is learnt, so a bundle from anyone is safe to learn from; a newer
revocation list re-judges the events of the signers it revokes (``discount_signer``). The same
learning serves ``hotline pki publish`` (AdminService.PublishTrust).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from core.errors import InvalidInput
from core.limits import check_count
from proto.hotline.v1 import sync_pb2
from sync.identity import Credentials
from sync.pki import NodeCertificate, PkiError
from sync.reasons import AlertKind, Refusal, Refused
from sync.trust import TrustStore
from sync.writer import LogBatch

T = TypeVar("T")


def peer_certificates(credentials: Credentials) -> sync_pb2.PeerCertificates:
    """A node's certificate and the authorities above it, for the wire."""
    return sync_pb2.PeerCertificates(
        certificate=credentials.certificate.der,
        chain=[c.public_bytes(Encoding.DER) for c in credentials.chain],
    )


def trust_bundle(trust: TrustStore) -> sync_pb2.TrustBundle:
    """What this node knows of the hierarchy besides node certificates."""
    return sync_pb2.TrustBundle(
        authorities=[c.public_bytes(Encoding.DER) for c in trust.authorities()],
        revocation_lists=[c.public_bytes(Encoding.DER) for c in trust.revocation_lists()],
    )


MAX_BUNDLE_ITEMS = 100
"""Most authority certificates, and most revocation lists, one bundle may carry: a CA per
province and the root's, with room to spare."""


def learn_trust(batch: LogBatch, bundle: sync_pb2.TrustBundle) -> tuple[int, int]:
    """Hold (and keep) the authorities and newer revocation lists of a bundle, all or nothing.

    Everything is checked against the national root first, so a bundle from anyone is safe to
    learn from. The whole bundle is read and learnt into a copy of the trust store before any
    of it is kept: one bad item refuses the bundle (``InvalidInput`` naming it) and leaves
    nothing behind. What it teaches counts for the rest of the writer's transaction and reaches
    the node's own trust store once that commits. Returns how many authorities and revocation
    lists were new.
    """
    held = batch.trust
    if held is None:
        return 0, 0
    check_count(tuple(bundle.authorities), "trust.authorities", MAX_BUNDLE_ITEMS)
    check_count(tuple(bundle.revocation_lists), "trust.revocation_lists", MAX_BUNDLE_ITEMS)
    authorities = [
        _read(x509.load_der_x509_certificate, der, f"trust.authorities[{i}]")
        for i, der in enumerate(bundle.authorities)
    ]
    crls = [
        _read(x509.load_der_x509_crl, der, f"trust.revocation_lists[{i}]")
        for i, der in enumerate(bundle.revocation_lists)
    ]
    staged = held
    new_authorities: list[x509.Certificate] = []
    new_crls: list[x509.CertificateRevocationList] = []
    if not all(held.knows(c) for c in authorities) or not all(held.holds(c) for c in crls):
        staged = held.copy()  # the usual Hello teaches nothing new and copies nothing
        new_authorities, new_crls = _learn(staged, authorities, crls)
    for cert in authorities:
        batch.remember_authority(cert)  # idempotent; it may have been learnt from TLS
    if not (new_authorities or new_crls):
        return 0, 0
    batch.stage_trust(staged, partial(_learn, authorities=new_authorities, crls=new_crls))
    for crl in new_crls:
        batch.remember_revocations(crl)
    _discount_revoked(batch, held, staged)
    return len(new_authorities), len(new_crls)


def _read(load: Callable[[bytes], T], der: bytes, field: str) -> T:
    """``load(der)``, or the field named in an ``InvalidInput``."""
    try:
        return load(der)
    except ValueError as exc:
        raise InvalidInput(field, f"does not parse: {exc}") from None


def _learn(
    store: TrustStore,
    authorities: list[x509.Certificate],
    crls: list[x509.CertificateRevocationList],
) -> tuple[list[x509.Certificate], list[x509.CertificateRevocationList]]:
    """Teach ``store`` the authorities, then the revocation lists; returns those it lacked."""
    new_authorities = []
    for i, cert in enumerate(authorities):
        try:
            if store.add_authority(cert):
                new_authorities.append(cert)
        except (ValueError, PkiError, x509.ExtensionNotFound) as exc:
            raise InvalidInput(f"trust.authorities[{i}]", str(exc)) from None
    new_crls = []
    for i, crl in enumerate(crls):
        try:
            if store.add_revocations(crl):
                new_crls.append(crl)
        except (ValueError, PkiError) as exc:
            raise InvalidInput(f"trust.revocation_lists[{i}]", str(exc)) from None
    return new_authorities, new_crls


def _discount_revoked(batch: LogBatch, before: TrustStore, after: TrustStore) -> None:
    """After newer revocation lists: stop counting the newly revoked signers' later events."""
    for node in after.node_certificates():
        at = after.revoked_at(node.certificate)
        was = before.revoked_at(node.certificate)
        if at is not None and (was is None or at < was):
            refused = Refused(Refusal.SIGNER_NOT_TRUSTED, f"certificate revoked since {at} (ms)")
            count = batch.discount_signer(node.key_id, node.node_id, at, str(refused))
            batch.raise_alert(
                AlertKind.REVOKED_SIGNER,
                node.node_id,
                f"certificate {node.serial:x} revoked from {at} ms; "
                f"{count} ticket(s) folded again without its later events",
            )


def welcome(batch: LogBatch, *, certificate: NodeCertificate, bundle: sync_pb2.TrustBundle) -> None:
    """Keep a peer's certificate and learn from the trust bundle it sent (a writer job)."""
    batch.remember_certificates([certificate])
    learn_trust(batch, bundle)
