"""The trust hierarchy: the national root, province CAs, node certificates and revocations.

Trust flows down the tree (DESIGN.md rule 5). The national administration keeps the root key
offline and certifies each province; a province certifies its own hub and enrols its cities,
counties and stations. A node proves it holds both its keys when it asks to be enrolled:

* its **TLS key** (ECDSA P-256, because gRPC's TLS does not negotiate Ed25519) is the subject
  key of the certificate and authenticates every node-to-node link (mutual TLS);
* its **event key** (Ed25519) signs every event it records; the certificate carries it, with the
  node id, unit and level, in a ``CertifiedNode`` extension.

A certificate authority here is only a key and a certificate on disk; what a CA may sign is
checked when a certificate is *used* (``sync.trust``), so a province CA that certified a
county of another province gains nothing. Revocation is an X.509 CRL per CA; the revocation
date is the moment from which the node's events no longer count, kept to the millisecond
(``sync.revocation``, whose ``revocation_list`` and ``crl_number`` are re-exported here).
A drill hierarchy (``sync.drill_hierarchy``) is made by the same functions, given the date it
is valid from: a drill authority passes its mark on to everything it certifies.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from google.protobuf.message import DecodeError

from core.errors import HotlineError, InvalidInput
from core.units import NATIONAL_CODE, UnitLevel, level_of
from proto.hotline.v1 import pki_pb2
from sync.codec import enum_member, enum_number
from sync.drill_hierarchy import DRILL_DAYS, dated, drill_from_ms, drill_start_refusal
from sync.revocation import crl_number as crl_number
from sync.revocation import revocation_list as revocation_list
from sync.signatures import key_id_of, verify

NODE_EXTENSION = ObjectIdentifier("1.3.6.1.4.1.61012.12315.1")
"""The certificate extension that carries a ``CertifiedNode`` (the project's OID arc is
``1.3.6.1.4.1.61012.12315``; ``.2`` is ``sync.revocation.REVOCATION_MS_EXTENSION``, ``.3``
``sync.drill_hierarchy.DRILL_EXTENSION``)."""

ENROL_CONTEXT = b"hotline.v1.enrol\x00"
"""Prefix of the event key's proof of possession in an enrolment request."""

DNS_SUFFIX = ".hotline"


class PkiError(HotlineError):
    """A certificate operation was refused; the message says why."""


def _is_code(unit_code: str) -> bool:
    return unit_code.isdigit() and len(unit_code) in (6, 9)


def _read_node(raw: bytes) -> pki_pb2.CertifiedNode:
    """The ``CertifiedNode`` in an extension's bytes; ``PkiError`` when malformed."""
    try:
        node = pki_pb2.CertifiedNode.FromString(raw)  # type: ignore[attr-defined]
        enum_member(UnitLevel, node.level, "level")
    except (DecodeError, InvalidInput) as exc:
        raise PkiError(f"malformed CertifiedNode extension: {exc}") from None
    if not _is_code(node.unit_code):
        raise PkiError(f"malformed CertifiedNode extension: unit {node.unit_code!r}")
    return node  # type: ignore[no-any-return]


def dns_name(unit_code: str) -> str:
    """The name a unit's nodes present in TLS (``u620102.hotline``)."""
    return f"u{unit_code}{DNS_SUFFIX}"


ANY_NODE_NAME = f"node{DNS_SUFFIX}"
"""The name every node certificate carries besides its unit's (``node.hotline``): what a tool
checks the client port against when it does not know yet which unit's node answers there (the
first ``hotline login`` to an address); the chain to the national root is checked all the same.
"""


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def tls_public_der(key: ec.EllipticCurvePublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo of a TLS key (what the event key's proof signs)."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM of a private key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    """PEM of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by the owner only (mode 0600), replacing any old file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (or one DER certificate)."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


@dataclass(frozen=True)
class NodeCertificate:
    """What a node certificate says, read once."""

    certificate: x509.Certificate
    node_id: str
    unit_code: str
    level: UnitLevel
    event_public_key: bytes
    not_before_ms: int
    not_after_ms: int
    drill_from_ms: int | None = None
    """For a drill hierarchy's certificate, the instant the hierarchy is valid from; None for a
    production certificate (``sync.drill_hierarchy``)."""

    @property
    def drill(self) -> bool:
        """True when this certificate belongs to a drill hierarchy."""
        return self.drill_from_ms is not None

    @property
    def key_id(self) -> str:
        """Id of the certified event key (what events name as their signer)."""
        return key_id_of(self.event_public_key)

    @property
    def serial(self) -> int:
        """The certificate's serial number."""
        return self.certificate.serial_number

    @property
    def der(self) -> bytes:
        """The certificate's DER bytes."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @classmethod
    def read(cls, cert: x509.Certificate) -> NodeCertificate:
        """Read a node certificate; ``PkiError`` when it is not one."""
        try:
            raw = cert.extensions.get_extension_for_oid(NODE_EXTENSION).value
        except x509.ExtensionNotFound:
            raise PkiError("not a hotline node certificate (no CertifiedNode extension)") from None
        node = _read_node(raw.value)  # type: ignore[attr-defined]
        if len(node.event_public_key) != 32:
            raise PkiError("the certified event key is not an Ed25519 key")
        return cls(
            certificate=cert,
            node_id=node.node_id,
            unit_code=node.unit_code,
            level=enum_member(UnitLevel, node.level, "level"),
            event_public_key=node.event_public_key,
            not_before_ms=_ms(cert.not_valid_before_utc),
            not_after_ms=_ms(cert.not_valid_after_utc),
            drill_from_ms=drill_from_ms(cert),
        )


@dataclass(frozen=True)
class Authority:
    """A certificate authority: the national root or a province CA."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    """The certificates above this one, up to the root (empty for the root itself)."""

    @property
    def unit_code(self) -> str:
        """The unit this authority belongs to (100000 for the national root)."""
        return ca_unit(self.certificate)

    @property
    def drill_from_ms(self) -> int | None:
        """For a drill authority, the instant its hierarchy is valid from; None otherwise."""
        return drill_from_ms(self.certificate)

    def save(self, folder: Path) -> None:
        """Write ``ca.key`` (0600), ``ca.pem`` and ``chain.pem`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        write_private(folder / "ca.key", private_pem(self.key))
        (folder / "ca.pem").write_bytes(cert_pem(self.certificate))
        (folder / "chain.pem").write_bytes(b"".join(cert_pem(c) for c in self.chain))

    @classmethod
    def load(cls, folder: Path) -> Authority:
        """Read an authority written by ``save``."""
        try:
            key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
            cert = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
            chain_file = folder / "chain.pem"
            chain = (
                load_certificates(chain_file.read_bytes())
                if chain_file.exists() and chain_file.stat().st_size
                else []
            )
        except (OSError, ValueError) as exc:
            raise PkiError(f"cannot read the authority in {folder}: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError(f"{folder / 'ca.key'} is not an ECDSA key")
        return cls(key, cert, tuple(chain))

    @property
    def root(self) -> x509.Certificate:
        """The national root above (or equal to) this authority."""
        return self.chain[-1] if self.chain else self.certificate


def ca_unit(cert: x509.Certificate) -> str:
    """The unit code an authority's certificate names (its O attribute)."""
    names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(names[0].value) if names else ""


def _drill_start(issuer: Authority, asked_ms: int | None) -> int | None:
    """The valid-from of what ``issuer`` certifies (None: production); ``PkiError`` when
    ``asked_ms`` does not fit the issuer (``sync.drill_hierarchy.drill_start_refusal``)."""
    reason = drill_start_refusal(issuer.certificate, asked_ms)
    if reason:
        raise PkiError(reason)
    return asked_ms if asked_ms is not None else issuer.drill_from_ms


def _ca_certificate(
    subject_key: ec.EllipticCurvePrivateKey,
    name: str,
    unit_code: str,
    issuer: Authority | None,
    now_ms: int,
    days: int,
    path_length: int,
    drill_from: int | None,
) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_code),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "12315 certificate authority"),
            # Each authority has a name of its own: a replacement CA of the same province must
            # not be mistaken for the one it replaces (issuers and revocations go by name).
            x509.NameAttribute(NameOID.SERIAL_NUMBER, os.urandom(8).hex()),
        ]
    )
    signer = issuer.key if issuer else subject_key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
    )
    builder = (
        dated(builder, issuer.certificate if issuer else None, now_ms, days, drill_from)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False
        )
    )
    return builder.sign(signer, hashes.SHA256())


def create_root(
    now_ms: int, *, days: int | None = None, drill_from_ms: int | None = None
) -> Authority:
    """A new national root (keep its key offline), valid ``days`` (default 3650).

    With ``drill_from_ms``, the root of a drill hierarchy valid from then (default
    ``DRILL_DAYS``; ``sync.drill_hierarchy``).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    default = 3650 if drill_from_ms is None else DRILL_DAYS
    cert = _ca_certificate(
        key, "12315 National Root", NATIONAL_CODE, None, now_ms, days or default, 1, drill_from_ms
    )
    return Authority(key, cert)


def certify_province(
    root: Authority,
    unit_code: str,
    now_ms: int,
    *,
    days: int | None = None,
    drill_from_ms: int | None = None,
) -> Authority:
    """A CA for one province, certified by the national root, valid ``days`` (default 1825).

    A drill root certifies a drill CA, from its own drill's start or the later
    ``drill_from_ms`` (default ``DRILL_DAYS``); a production root refuses ``drill_from_ms``.
    """
    if root.chain or root.unit_code != NATIONAL_CODE:
        raise PkiError("only the national root certifies provinces")
    if not _is_code(unit_code) or level_of(unit_code) is not UnitLevel.PROVINCE:
        raise PkiError(f"{unit_code} is not a province code")
    drill_from = _drill_start(root, drill_from_ms)
    default = 1825 if drill_from is None else DRILL_DAYS
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _ca_certificate(
        key, f"12315 CA {unit_code}", unit_code, root, now_ms, days or default, 0, drill_from
    )
    return Authority(key, cert, (root.certificate,))


def enrolment_request(
    tls_key: ec.EllipticCurvePrivateKey,
    event_key: Ed25519PrivateKey,
    node_id: str,
    unit_code: str,
    level: UnitLevel,
) -> x509.CertificateSigningRequest:
    """A request to be enrolled: signed by the TLS key, with the event key's proof."""
    event_public = event_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    proof = event_key.sign(ENROL_CONTEXT + tls_public_der(tls_key.public_key()))
    node = pki_pb2.CertifiedNode(
        node_id=node_id,
        unit_code=unit_code,
        level=enum_number(level),
        event_public_key=event_public,
        event_key_proof=proof,
    )
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, node_id),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit_code),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, level.value),
                ]
            )
        )
        .add_extension(
            x509.UnrecognizedExtension(NODE_EXTENSION, node.SerializeToString()), critical=False
        )
        .sign(tls_key, hashes.SHA256())
    )


def may_certify(authority_unit: str, unit_code: str, level: UnitLevel) -> str | None:
    """Why an authority of ``authority_unit`` may not certify this node, or None."""
    if not _is_code(unit_code) or not _is_code(authority_unit):
        return f"{unit_code!r} is not a unit code"
    if level_of(unit_code) is not level:
        return f"{unit_code} is a {level_of(unit_code).value} code, not {level.value}"
    if authority_unit == NATIONAL_CODE:
        ok = level is UnitLevel.NATIONAL
        return None if ok else "the national root certifies provinces' CAs and national nodes"
    if not unit_code.startswith(authority_unit[:2]) or level is UnitLevel.NATIONAL:
        return f"the CA of {authority_unit} cannot certify {unit_code}"
    return None


def issue(
    authority: Authority,
    request: x509.CertificateSigningRequest,
    now_ms: int,
    *,
    days: int = 365,
    drill_from_ms: int | None = None,
) -> NodeCertificate:
    """Certify the node that made ``request``, after checking both proofs and the unit.

    A drill authority issues a drill certificate (valid from its drill's start, or the later
    ``drill_from_ms``, within the authority's own validity); a production one refuses
    ``drill_from_ms``.
    """
    if not request.is_signature_valid:
        raise PkiError("the request's signature does not verify (TLS key not held)")
    try:
        raw = request.extensions.get_extension_for_oid(NODE_EXTENSION).value
    except x509.ExtensionNotFound:
        raise PkiError("the request names no node (CertifiedNode extension missing)") from None
    node = _read_node(raw.value)  # type: ignore[attr-defined]
    tls_key = request.public_key()
    if not isinstance(tls_key, ec.EllipticCurvePublicKey):
        raise PkiError("the TLS key must be ECDSA P-256")
    if not verify(
        node.event_public_key, node.event_key_proof, ENROL_CONTEXT + tls_public_der(tls_key)
    ):
        raise PkiError("the event key's proof does not verify (event key not held)")
    level = enum_member(UnitLevel, node.level, "level")
    reason = may_certify(authority.unit_code, node.unit_code, level)
    if reason:
        raise PkiError(reason)
    drill_from = _drill_start(authority, drill_from_ms)
    certified = pki_pb2.CertifiedNode(
        node_id=node.node_id,
        unit_code=node.unit_code,
        level=node.level,
        event_public_key=node.event_public_key,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(authority.certificate.subject)
        .public_key(tls_key)
        .serial_number(x509.random_serial_number())
    )
    cert = (
        dated(builder, authority.certificate, now_ms, days, drill_from)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(dns_name(node.unit_code)), x509.DNSName(ANY_NODE_NAME)]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.UnrecognizedExtension(NODE_EXTENSION, certified.SerializeToString()),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
        .sign(authority.key, hashes.SHA256())
    )
    return NodeCertificate.read(cert)
