"""What a node trusts: the national root, the authorities under it, node certificates, CRLs.

Every node holds the national root, installed with its own certificate. Everything else is
learnt and checked on arrival: a province CA must be signed by the root; a node certificate by
a known authority; a revocation list by the authority it speaks for. The store then answers the
one question replication asks of every event: was its signer's certificate valid, for that
unit, at the event's time, and not revoked by then?

Revocation has a date: a revoked station's events from before the revocation still count, its
later ones do not. A revoked province CA takes every certificate it issued down with it from
the same moment.

A drill and production never meet (``sync.drill_hierarchy``): a store anchored on a drill root
is a drill node's and holds only drill authorities and node certificates; a store anchored on a
production root refuses them, whoever signed them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from core.units import NATIONAL_CODE, UnitLevel, level_of
from sync.drill_hierarchy import is_drill
from sync.pki import NodeCertificate, PkiError, ca_unit, crl_number, may_certify
from sync.revocation import revoked_ms


def fingerprint(cert: x509.Certificate) -> str:
    """Hex SHA-256 of a certificate's DER."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _name_key(name: x509.Name) -> bytes:
    return name.public_bytes()


def name_key_hex(name: x509.Name) -> str:
    """A stable key for an X.509 name (hex SHA-256 of its DER), e.g. a CRL's issuer."""
    return hashlib.sha256(_name_key(name)).hexdigest()


def certificate_row(cert: x509.Certificate, node: NodeCertificate | None) -> dict[str, object]:
    """The ``trusted_certificates`` row of an authority (``node`` None) or node certificate."""
    return {
        "fingerprint": fingerprint(cert),
        "kind": "node" if node else "ca",
        "key_id": node.key_id if node else "",
        "node_id": node.node_id if node else "",
        "unit_code": node.unit_code if node else ca_unit(cert),
        "der": cert.public_bytes(serialization.Encoding.DER),
    }


def _ms(moment: object) -> int:
    return int(moment.timestamp() * 1000)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Verdict:
    """Whether a signer counted at a moment, and if not why."""

    certificate: NodeCertificate | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when the signer's certificate was good."""
        return self.certificate is not None and not self.reason


class TrustStore:
    """The certificates and revocation lists one node knows, anchored on the national root."""

    def __init__(self, root: x509.Certificate) -> None:
        if ca_unit(root) != NATIONAL_CODE or root.issuer != root.subject:
            raise PkiError("the trust anchor must be the self-signed national root")
        root.verify_directly_issued_by(root)
        self.root = root
        # A drill node's store: its root, and all it may hold, is a drill hierarchy's.
        self.drill = is_drill(root)
        self._lock = threading.Lock()
        self._authorities: dict[bytes, x509.Certificate] = {_name_key(root.subject): root}
        self._revoked: dict[bytes, dict[int, int]] = {}
        self._crls: dict[bytes, x509.CertificateRevocationList] = {}
        self._by_key: dict[str, list[NodeCertificate]] = {}
        self._fingerprints: set[str] = {fingerprint(root)}
        self._windows: dict[tuple[str, str, str], list[tuple[int, int, NodeCertificate]]] = {}

    def copy(self) -> TrustStore:
        """A store that knows what this one knows, to learn into without changing this one.

        A writer job learns into a copy and the node's own store learns the same only once
        the job's transaction commits (``sync.writer.LogBatch.stage_trust``). Certificates
        and revocation lists are immutable, so only the containers are copied.
        """
        other = object.__new__(TrustStore)
        other.root = self.root
        other.drill = self.drill
        other._lock = threading.Lock()
        with self._lock:
            other._authorities = dict(self._authorities)
            other._revoked = dict(self._revoked)
            other._crls = dict(self._crls)
            other._by_key = {key: list(certs) for key, certs in self._by_key.items()}
            other._fingerprints = set(self._fingerprints)
        other._windows = {}
        return other

    # -- learning ------------------------------------------------------------------------------

    def knows(self, cert: x509.Certificate) -> bool:
        """True when this exact certificate is already held."""
        return fingerprint(cert) in self._fingerprints

    def holds(self, crl: x509.CertificateRevocationList) -> bool:
        """True when this very revocation list is the one held for its authority."""
        return self._crls.get(_name_key(crl.issuer)) == crl

    def add_authority(self, cert: x509.Certificate) -> bool:
        """Hold a province CA certified by the root; False if already held."""
        if self.knows(cert):
            return False
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca:
            raise PkiError("not a CA certificate")
        unit = ca_unit(cert)
        mixed = self._mixed(is_drill(cert))
        if mixed:
            raise PkiError(f"the CA of {unit} is {mixed}")
        if not (unit.isdigit() and len(unit) == 6) or level_of(unit) is not UnitLevel.PROVINCE:
            raise PkiError(f"an authority must be a province's, not {unit!r}")
        try:
            cert.verify_directly_issued_by(self.root)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise PkiError(f"the CA of {unit} is not certified by the national root") from exc
        with self._lock:
            self._authorities[_name_key(cert.subject)] = cert
            self._fingerprints.add(fingerprint(cert))
            self._windows = {}
        return True

    def add_revocations(self, crl: x509.CertificateRevocationList) -> bool:
        """Hold an authority's revocation list if it is newer than the one held."""
        issuer = self._authorities.get(_name_key(crl.issuer))
        if issuer is None:
            raise PkiError("a revocation list from an unknown authority")
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            raise PkiError("the revocation list's signature does not verify")
        key = _name_key(crl.issuer)
        held = self._crls.get(key)
        if held is not None and (crl_number(held), held.last_update_utc) >= (
            crl_number(crl),
            crl.last_update_utc,
        ):
            return False
        with self._lock:
            self._crls[key] = crl
            self._revoked[key] = {r.serial_number: revoked_ms(r) for r in crl}
            self._windows = {}
        return True

    def add_node(self, cert: x509.Certificate) -> NodeCertificate:
        """Hold a node certificate issued by a known authority (returned, read)."""
        node = NodeCertificate.read(cert)
        mixed = self._mixed(node.drill)
        if mixed:
            raise PkiError(f"the certificate of {node.node_id} is {mixed}")
        issuer = self._authorities.get(_name_key(cert.issuer))
        if issuer is None:
            raise PkiError(f"certificate of {node.node_id} from an unknown authority")
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise PkiError(f"certificate of {node.node_id} does not verify") from exc
        if not self.knows(cert):
            with self._lock:
                self._by_key.setdefault(node.key_id, []).append(node)
                self._fingerprints.add(fingerprint(cert))
                self._windows = {}
        return node

    def add_any(self, certs: Iterable[x509.Certificate]) -> list[str]:
        """Learn authorities first, then node certificates; returns the reasons of refusals."""
        problems = []
        ordered = sorted(certs, key=lambda c: not _is_ca(c))
        for cert in ordered:
            try:
                if _is_ca(cert):
                    if cert.subject != self.root.subject:
                        self.add_authority(cert)
                else:
                    self.add_node(cert)
            except PkiError as exc:
                problems.append(str(exc))
        return problems

    def _mixed(self, drill: bool) -> str:
        """Why a certificate (a drill one when ``drill``) is not for this store, or ""."""
        if drill and not self.drill:
            return "a drill hierarchy's, and this node is not a drill node (docs/drills.md)"
        if self.drill and not drill:
            return "not a drill hierarchy's, and this node is a drill node (docs/drills.md)"
        return ""

    # -- judging -------------------------------------------------------------------------------

    def revoked_at(self, cert: x509.Certificate) -> int | None:
        """When the certificate (or the authority that issued it) was revoked, if it was."""
        own = self._revoked.get(_name_key(cert.issuer), {}).get(cert.serial_number)
        issuer = self._authorities.get(_name_key(cert.issuer))
        above = None
        if issuer is not None and issuer is not self.root:
            above = self._revoked.get(_name_key(self.root.subject), {}).get(issuer.serial_number)
        times = [t for t in (own, above) if t is not None]
        return min(times) if times else None

    def judge(self, node: NodeCertificate, at_ms: int) -> str:
        """Why ``node`` did not count at ``at_ms`` ("" when it did)."""
        issuer = self._authorities.get(_name_key(node.certificate.issuer))
        if issuer is None:
            return "issued by an unknown authority"
        mixed = self._mixed(node.drill)
        if mixed:
            return mixed
        reason = may_certify(ca_unit(issuer), node.unit_code, node.level)
        if reason:
            return reason
        if not node.not_before_ms <= at_ms <= node.not_after_ms:
            return "certificate not valid at that time"
        if not _ms(issuer.not_valid_before_utc) <= at_ms <= _ms(issuer.not_valid_after_utc):
            return "its authority's certificate not valid at that time"
        revoked = self.revoked_at(node.certificate)
        if revoked is not None and revoked <= at_ms:
            return f"certificate revoked since {revoked} (ms)"
        return ""

    def signer(self, key_id: str, node_id: str, unit_code: str, at_ms: int) -> Verdict:
        """The certificate that made ``key_id`` count for ``node_id`` at ``at_ms``, or why not.

        Asked once per received event, so the windows in which a signer counts are kept
        (dropped whenever a certificate or revocation list is learnt).
        """
        windows = self._windows.get((key_id, node_id, unit_code))
        if windows is None:
            windows = self._windows[(key_id, node_id, unit_code)] = self._counting_windows(
                key_id, node_id, unit_code
            )
        for start, end, cert in windows:
            if start <= at_ms < end:
                return Verdict(cert)
        return self._signer(key_id, node_id, unit_code, at_ms)

    def _counting_windows(
        self, key_id: str, node_id: str, unit_code: str
    ) -> list[tuple[int, int, NodeCertificate]]:
        """When each certificate of a signer counts: [start, end) in ms, per certificate."""
        windows = []
        for cert in self._by_key.get(key_id, ()):
            if cert.node_id != node_id or cert.unit_code != unit_code:
                continue
            issuer = self._authorities.get(_name_key(cert.certificate.issuer))
            if issuer is None or may_certify(ca_unit(issuer), cert.unit_code, cert.level):
                continue
            start = max(cert.not_before_ms, _ms(issuer.not_valid_before_utc))
            end = min(cert.not_after_ms, _ms(issuer.not_valid_after_utc)) + 1
            revoked = self.revoked_at(cert.certificate)
            if revoked is not None:
                end = min(end, revoked)
            if start < end and not self.judge(cert, start):
                windows.append((start, end, cert))
        return windows

    def _signer(self, key_id: str, node_id: str, unit_code: str, at_ms: int) -> Verdict:
        candidates = [c for c in self._by_key.get(key_id, ()) if c.node_id == node_id]
        if not candidates:
            return Verdict(None, f"no certificate known for key {key_id[:16]} of {node_id}")
        reasons = []
        for cert in candidates:
            if cert.unit_code != unit_code:
                reasons.append(f"certified for unit {cert.unit_code}, not {unit_code}")
                continue
            reason = self.judge(cert, at_ms)
            if not reason:
                return Verdict(cert)
            reasons.append(reason)
        return Verdict(candidates[0], "; ".join(sorted(set(reasons))))

    def certificates_for(self, key_ids: Iterable[str]) -> list[NodeCertificate]:
        """Every node certificate held for these event keys."""
        return [c for k in set(key_ids) for c in self._by_key.get(k, ())]

    def authorities(self) -> list[x509.Certificate]:
        """The province CAs held (not the root, which every node has)."""
        return [c for c in self._authorities.values() if c is not self.root]

    def revocation_lists(self) -> list[x509.CertificateRevocationList]:
        """The newest revocation list of every authority."""
        return list(self._crls.values())

    def node_certificates(self) -> list[NodeCertificate]:
        """Every node certificate held."""
        return [c for certs in self._by_key.values() for c in certs]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def common_name(cert: x509.Certificate) -> str:
    """A certificate's CN."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""
