"""Enrolling nodes: the file-level steps of ``hotline pki`` around the PKI primitives.

In production the steps happen on different machines: the national administration keeps the
root (``init-root``) and certifies each province (``init-ca``); a node creates its keys and a
request (``request``), its province issues the certificate (``issue``), the node installs it
(``install``); the province revokes what must no longer count (``revoke``). ``sync.pki`` holds
the cryptography; this module the request, the bundle handed back, and the revocation list file.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sync.identity import NodeIdentity
from sync.pki import (
    Authority,
    NodeCertificate,
    PkiError,
    cert_pem,
    enrolment_request,
    revocation_list,
)

CRL_FILE = "crl.pem"


def request_for(identity: NodeIdentity) -> x509.CertificateSigningRequest:
    """The enrolment request of a node (proves it holds both its keys)."""
    return enrolment_request(
        identity.tls_key, identity.event_key, identity.node_id, identity.unit_code, identity.level
    )


def bundle_pem(authority: Authority, node: NodeCertificate) -> bytes:
    """What an authority hands back: the node's certificate, its own, and the root (PEM)."""
    return b"".join(
        cert_pem(c) for c in (node.certificate, authority.certificate, *authority.chain)
    )


def install_bundle(identity: NodeIdentity, data_dir: Path, bundle: bytes) -> None:
    """Install a certificate bundle (node certificate, authorities, root last) in ``data_dir``."""
    certs = x509.load_pem_x509_certificates(bundle)
    if len(certs) < 2:
        raise PkiError("a bundle holds the node's certificate and at least the national root")
    root = certs[-1]
    if root.issuer != root.subject:
        raise PkiError("the bundle's last certificate is not the national root")
    chain = certs[1:-1]
    identity.install(
        data_dir,
        cert_pem(certs[0]),
        b"".join(cert_pem(c) for c in chain),
        cert_pem(root),
    )


def revoke(
    authority_dir: Path, authority: Authority, serials: dict[int, int], now_ms: int
) -> x509.CertificateRevocationList:
    """Add serials (serial -> revocation time) to the authority's CRL file and return it."""
    path = authority_dir / CRL_FILE
    previous = x509.load_pem_x509_crl(path.read_bytes()) if path.exists() else None
    crl = revocation_list(authority, serials, now_ms, previous=previous)
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return crl
