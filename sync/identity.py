"""A node's identity: its id, unit, keys and certificate, kept on disk beside its data.

Two private keys live in the data folder, both with file mode 0600 (a key file others can read
is refused): ``node.key``, the Ed25519 key that signs every event, and ``tls.key``, the ECDSA
key of its TLS links. Both are generated on first start. Enrolment (``hotline pki``) adds
``node.crt`` (the node's certificate), ``chain.pem`` (the authority above it) and ``root.pem``
(the national root). The node id is the unit code plus a random suffix, so a reinstalled
station laptop starts a new chain instead of silently forking the old one; rotating keys keeps
the id and the chain, and sets the old keys aside as ``*.old-<key id>``.

A node signs with its certificate only where every other node would count what it signs: at
start it refuses a certificate that is not valid on its own clock, and a drill hierarchy's
certificate off a drill clock (``Credentials.check_usable``, docs/drills.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.errors import HotlineError
from core.units import UnitLevel
from sync.drill_hierarchy import china_text, is_drill
from sync.pki import (
    NodeCertificate,
    PkiError,
    cert_pem,
    load_certificates,
    private_pem,
    write_private,
)
from sync.signatures import Ed25519Signer, key_id_of

KEY_FILE = "node.key"
TLS_KEY_FILE = "tls.key"
IDENTITY_FILE = "node.json"
CERT_FILE = "node.crt"
CHAIN_FILE = "chain.pem"
ROOT_FILE = "root.pem"

log = logging.getLogger(__name__)


class IdentityError(HotlineError):
    """The identity on disk is unusable (wrong unit, readable by others, corrupt)."""


class NotEnrolled(IdentityError):
    """The node has no certificate yet: it cannot sign events that anyone would trust."""


class CertificateNotUsable(IdentityError):
    """The node's own certificate cannot sign on the node's clock: it (or its authority's) is
    not valid at the clock's time, or it is a drill hierarchy's and the node is not on a drill
    clock. The node refuses to start rather than record events that no other node would count.
    """


@dataclass(frozen=True)
class PublicIdentity:
    """What peers know of a node: enough to verify its events and place it in the tree."""

    node_id: str
    unit_code: str
    level: UnitLevel
    public_key: bytes

    @property
    def key_id(self) -> str:
        """The id of the public key (see ``key_id_of``)."""
        return key_id_of(self.public_key)


@dataclass(frozen=True)
class Credentials:
    """A node's certificate material: what it shows peers and what it trusts."""

    certificate: NodeCertificate
    chain: tuple[x509.Certificate, ...]
    root: x509.Certificate

    def chain_pem(self) -> bytes:
        """The node's certificate followed by the authorities above it (for TLS)."""
        return cert_pem(self.certificate.certificate) + b"".join(cert_pem(c) for c in self.chain)

    def root_pem(self) -> bytes:
        """The national root in PEM."""
        return cert_pem(self.root)

    def check_usable(self, at_ms: int, *, drill_clock: bool) -> None:
        """Refuse (``CertificateNotUsable``) to sign at ``at_ms``, the node's clock, with a
        certificate other nodes would not count then; ``drill_clock``: the node runs on one.

        What is checked is what every other node checks of the node's events (``sync.trust``):
        the certificate's validity and its authority's at the event's time, and that a drill
        hierarchy's certificate serves only a drill (a production node's is warned about on a
        drill clock: its events are real signed facts, dated in drill time).
        """
        cert = self.certificate
        if cert.drill and not drill_clock:
            raise CertificateNotUsable(
                f"the node's certificate is a drill hierarchy's (valid from "
                f"{china_text(cert.drill_from_ms or cert.not_before_ms)}): it serves only on a "
                "drill clock (--clock-start, --clock-speed or --clock-offset, docs/drills.md)"
            )
        if cert.drill != is_drill(self.root):
            raise CertificateNotUsable(
                "the node's certificate and its national root are not of one kind: one is a "
                "drill hierarchy's and the other not (docs/drills.md); enrol the node again"
            )
        issuer = self.chain[0] if self.chain else self.root
        for what, start, end in (
            ("the node's certificate", cert.not_before_ms, cert.not_after_ms),
            ("its authority's certificate", _ms(issuer.not_valid_before_utc),
             _ms(issuer.not_valid_after_utc)),
        ):  # fmt: skip
            if not start <= at_ms <= end:
                raise CertificateNotUsable(
                    f"{what} is valid from {china_text(start)} to {china_text(end)}, not at "
                    f"{china_text(at_ms)} on the node's clock: "
                    + (_BEFORE if at_ms < start else _AFTER)
                )
        if drill_clock and not cert.drill:
            log.warning(
                "this node runs on a drill clock with a certificate that is not a drill "
                "hierarchy's: what it records is signed and dated in drill time; drill on a "
                "drill hierarchy (hotline pki init-root --drill, docs/drills.md)"
            )


class NodeIdentity:
    """A node's private identity; signs the node's events and authenticates its links."""

    def __init__(
        self,
        node_id: str,
        unit_code: str,
        level: UnitLevel,
        private_key: Ed25519PrivateKey,
        tls_key: ec.EllipticCurvePrivateKey | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.node_id = node_id
        self.unit_code = unit_code
        self.level = level
        self._key = private_key
        self._signer = Ed25519Signer(private_key)
        self.tls_key = tls_key or ec.generate_private_key(ec.SECP256R1())
        self.credentials = credentials
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = PublicIdentity(node_id, unit_code, level, raw)

    @property
    def key_id(self) -> str:
        """The id of this node's current event key."""
        return self.public.key_id

    @property
    def event_key(self) -> Ed25519PrivateKey:
        """The Ed25519 key that signs this node's events."""
        return self._key

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        return self._signer.sign(message)

    def tls_key_pem(self) -> bytes:
        """The TLS private key in PEM (handed to gRPC's TLS credentials)."""
        return private_pem(self.tls_key)

    def check_credentials(self, credentials: Credentials) -> None:
        """Refuse a certificate that does not certify this node's id, unit and both keys."""
        cert = credentials.certificate
        tls_public = cert.certificate.public_key()
        if (cert.node_id, cert.unit_code, cert.level) != (self.node_id, self.unit_code, self.level):
            raise IdentityError(
                f"the certificate is for {cert.node_id} ({cert.unit_code}), "
                f"not {self.node_id} ({self.unit_code})"
            )
        if cert.event_public_key != self.public.public_key:
            raise IdentityError("the certificate certifies another event key")
        if (
            not isinstance(tls_public, ec.EllipticCurvePublicKey)
            or tls_public.public_numbers() != self.tls_key.public_key().public_numbers()
        ):
            raise IdentityError("the certificate certifies another TLS key")

    @classmethod
    def generate(cls, unit_code: str, level: UnitLevel) -> NodeIdentity:
        """A fresh identity held only in memory (tests, benchmarks)."""
        node_id = f"{unit_code}-{secrets.token_hex(3)}"
        return cls(node_id, unit_code, level, Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, data_dir: Path, unit_code: str, level: UnitLevel) -> NodeIdentity:
        """The identity stored in ``data_dir``, created there (keys mode 0600) on first start."""
        data_dir.mkdir(parents=True, exist_ok=True)
        id_path = data_dir / IDENTITY_FILE
        if not id_path.exists():
            identity = cls.generate(unit_code, level)
            write_private(data_dir / KEY_FILE, private_pem(identity._key))
            write_private(data_dir / TLS_KEY_FILE, private_pem(identity.tls_key))
            id_path.write_text(
                json.dumps(
                    {"node_id": identity.node_id, "unit_code": unit_code, "level": level.value}
                ),
                encoding="utf-8",
            )
            return identity
        try:
            stored = json.loads(id_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IdentityError(f"cannot read {id_path}: {exc}") from exc
        if stored.get("unit_code") != unit_code:
            raise IdentityError(
                f"{data_dir} belongs to unit {stored.get('unit_code')}, not {unit_code}"
            )
        key = _private_key(data_dir / KEY_FILE)
        tls_key = _private_key(data_dir / TLS_KEY_FILE)
        if not isinstance(key, Ed25519PrivateKey):
            raise IdentityError(f"{data_dir / KEY_FILE} does not hold an Ed25519 key")
        if not isinstance(tls_key, ec.EllipticCurvePrivateKey):
            raise IdentityError(f"{data_dir / TLS_KEY_FILE} does not hold an ECDSA key")
        identity = cls(stored["node_id"], unit_code, UnitLevel(stored["level"]), key, tls_key)
        identity.credentials = _read_credentials(data_dir)
        if identity.credentials is not None:
            identity.check_credentials(identity.credentials)
        return identity

    def install(self, data_dir: Path, certificate: bytes, chain: bytes, root: bytes) -> None:
        """Keep a certificate issued to this node (checked against its keys) in ``data_dir``."""
        try:
            node = NodeCertificate.read(load_certificates(certificate)[0])
            credentials = Credentials(
                node, tuple(load_certificates(chain)) if chain else (), load_certificates(root)[0]
            )
        except (ValueError, PkiError) as exc:
            raise IdentityError(f"cannot read the certificate: {exc}") from exc
        self.check_credentials(credentials)
        (data_dir / CERT_FILE).write_bytes(cert_pem(node.certificate))
        (data_dir / CHAIN_FILE).write_bytes(b"".join(cert_pem(c) for c in credentials.chain))
        (data_dir / ROOT_FILE).write_bytes(cert_pem(credentials.root))
        self.credentials = credentials

    @classmethod
    def rotate(cls, data_dir: Path) -> NodeIdentity:
        """New keys for the same node (same id, same chain); the old ones are set aside.

        The node must be enrolled again with the new keys before it can sign (its old
        certificate is set aside with them).
        """
        stored = json.loads((data_dir / IDENTITY_FILE).read_text(encoding="utf-8"))
        old = cls.load_or_create(data_dir, stored["unit_code"], UnitLevel(stored["level"]))
        suffix = f".old-{old.key_id[:12]}"
        for name in (KEY_FILE, TLS_KEY_FILE, CERT_FILE):
            if (data_dir / name).exists():
                os.replace(data_dir / name, data_dir / (name + suffix))
        fresh = cls(old.node_id, old.unit_code, old.level, Ed25519PrivateKey.generate())
        write_private(data_dir / KEY_FILE, private_pem(fresh._key))
        write_private(data_dir / TLS_KEY_FILE, private_pem(fresh.tls_key))
        return fresh


_BEFORE = (
    "a drill dated before the certificates needs a drill hierarchy valid from the drill's "
    "start (hotline pki init-root --drill --valid-from DATE, docs/drills.md)"
)
_AFTER = "enrol the node again (hotline pki request, issue and install)"


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _private_key(path: Path) -> object:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise IdentityError(f"cannot read {path}: {exc}") from exc
    if mode & 0o077:
        raise IdentityError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise IdentityError(f"{path} does not hold a private key: {exc}") from exc


def _read_credentials(data_dir: Path) -> Credentials | None:
    cert_path = data_dir / CERT_FILE
    if not cert_path.exists():
        return None
    try:
        node = NodeCertificate.read(load_certificates(cert_path.read_bytes())[0])
        chain_bytes = (
            (data_dir / CHAIN_FILE).read_bytes() if (data_dir / CHAIN_FILE).exists() else b""
        )
        chain = tuple(load_certificates(chain_bytes)) if chain_bytes.strip() else ()
        root = load_certificates((data_dir / ROOT_FILE).read_bytes())[0]
    except (OSError, ValueError, PkiError) as exc:
        raise IdentityError(f"cannot read the certificate in {data_dir}: {exc}") from exc
    return Credentials(node, chain, root)
