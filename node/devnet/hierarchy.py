"""A whole certificate hierarchy in one folder, for the demo, tests, drills and benchmarks.

``Hierarchy`` runs the steps of ``hotline pki`` (``sync.enrolment``) in one folder, so every
node they start is enrolled exactly as a real one would be. Never for production: a real root
is kept offline by the national administration and each province keeps its own CA.

Two kinds are made here. ``throwaway`` is a **test hierarchy**: not marked as a drill's, so its
nodes run on real clocks (the demo, most tests, benchmarks) as well as on drill clocks (the
end-to-end drills), and it is dated so that both work on any day. ``drill`` is a **drill
hierarchy** exactly as ``hotline pki init-root --drill --valid-from`` makes one: marked, its
nodes serve only on a drill clock and trust only drill certificates (``sync.drill_hierarchy``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from core.units import NATIONAL_CODE, UnitLevel, level_of, province_of
from sync.enrolment import bundle_pem, install_bundle, request_for, revoke
from sync.identity import NodeIdentity
from sync.pki import (
    Authority,
    NodeCertificate,
    cert_pem,
    certify_province,
    create_root,
    issue,
)

THROWAWAY_EPOCH_MS = 1_767_196_800_000
"""2026-01-01 00:00 China time: what throwaway hierarchies date their certificates from."""

THROWAWAY_DAYS = 3650
"""How long a throwaway hierarchy's certificates stay valid."""


@dataclass
class Hierarchy:
    """A national root and the province CAs under it, kept under one folder."""

    folder: Path
    root: Authority
    provinces: dict[str, Authority] = field(default_factory=dict)
    issue_at_ms: int | None = None
    """A throwaway hierarchy dates every certificate from this fixed instant (None: the
    ``now_ms`` each call is given)."""
    validity_days: int | None = None
    """A throwaway hierarchy's certificates last this long (None: the PKI's defaults)."""

    @classmethod
    def open(cls, folder: Path, now_ms: int) -> Hierarchy:
        """The hierarchy in ``folder``, creating the root on first use."""
        return cls._open(folder, now_ms)

    @classmethod
    def throwaway(cls, folder: Path) -> Hierarchy:
        """A test hierarchy for tests, drills, benchmarks and the demo, whatever today's date.

        Its certificates are valid from 2026-01-01 for ten years, so a drill "on" 2026-09-28 or
        2026-12-01 (dates its expected deadlines are written for) runs inside their validity
        next year as well as today. It is not marked as a drill hierarchy: its nodes also run
        on real clocks (the demo), which a drill certificate refuses. Never for production:
        real certificates are dated when they are issued and expire after a year.
        """
        return cls._open(folder, THROWAWAY_EPOCH_MS, THROWAWAY_EPOCH_MS, THROWAWAY_DAYS)

    @classmethod
    def drill(cls, folder: Path, valid_from_ms: int, now_ms: int) -> Hierarchy:
        """A drill hierarchy valid from ``valid_from_ms``, as ``hotline pki init-root --drill``
        makes one at ``now_ms``: its CAs and nodes, enrolled on demand, are drill ones too."""
        root_dir = folder / "root"
        if not (root_dir / "ca.key").exists():
            create_root(now_ms, drill_from_ms=valid_from_ms).save(root_dir)
        return cls._open(folder, now_ms)

    @classmethod
    def _open(
        cls, folder: Path, now_ms: int, issue_at_ms: int | None = None, days: int | None = None
    ) -> Hierarchy:
        root_dir = folder / "root"
        if (root_dir / "ca.key").exists():
            root = Authority.load(root_dir)
        else:
            root = create_root(now_ms, days=days) if days else create_root(now_ms)
            root.save(root_dir)
        hierarchy = cls(folder, root, issue_at_ms=issue_at_ms, validity_days=days)
        for ca_dir in sorted(folder.glob("ca-*")):
            authority = Authority.load(ca_dir)
            hierarchy.provinces[authority.unit_code] = authority
        return hierarchy

    def authority_for(self, unit_code: str, now_ms: int) -> Authority:
        """The authority that certifies ``unit_code``'s nodes (its province's, made on demand)."""
        if unit_code == NATIONAL_CODE:
            return self.root
        province = province_of(unit_code)
        if province not in self.provinces:
            now_ms = self.issue_at_ms or now_ms
            authority = (
                certify_province(self.root, province, now_ms, days=self.validity_days)
                if self.validity_days
                else certify_province(self.root, province, now_ms)
            )
            authority.save(self.folder / f"ca-{province}")
            self.provinces[province] = authority
        return self.provinces[province]

    @property
    def root_file(self) -> Path:
        """The national root certificate (``root/ca.pem``): what tools trust (``--root``)."""
        return self.folder / "root" / "ca.pem"

    def authority_dir(self, authority: Authority) -> Path:
        """Where ``authority`` is kept."""
        if authority is self.root:
            return self.folder / "root"
        return self.folder / f"ca-{authority.unit_code}"

    def enrol(self, data_dir: Path, unit_code: str, now_ms: int) -> NodeIdentity:
        """The node in ``data_dir``, with keys and a certificate (issued if it has none)."""
        identity = NodeIdentity.load_or_create(data_dir, unit_code, level_of(unit_code))
        if identity.credentials is None:
            now_ms = self.issue_at_ms or now_ms
            authority = self.authority_for(unit_code, now_ms)
            request = request_for(identity)
            node = (
                issue(authority, request, now_ms, days=self.validity_days)
                if self.validity_days
                else issue(authority, request, now_ms)
            )
            install_bundle(identity, data_dir, bundle_pem(authority, node))
        return identity

    def revoke(
        self, node: NodeCertificate, at_ms: int, now_ms: int
    ) -> x509.CertificateRevocationList:
        """Revoke a node certificate from ``at_ms`` on; returns the authority's new CRL."""
        unit = node.unit_code if node.level is not UnitLevel.NATIONAL else NATIONAL_CODE
        authority = self.authority_for(unit, now_ms)
        return revoke(self.authority_dir(authority), authority, {node.serial: at_ms}, now_ms)

    def root_pem(self) -> bytes:
        """The national root certificate (PEM)."""
        return cert_pem(self.root.certificate)
