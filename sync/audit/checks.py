"""The checks of one ``events`` row on its own: envelope, hash, columns, signer, signature.

A row's columns are trusted by the chain pass (``sync.audit.chains``) only once this module
found them equal to the signed envelope; rows that fail are handed over as suspects with the
facts read from the envelope instead.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core import hlc as clock
from core.errors import InvalidInput
from sync import schema as s
from sync.audit.report import (
    CERTIFICATE,
    HASH,
    SIGNATURE,
    TAMPERED,
    UNPARSEABLE,
    AuditProblem,
)
from sync.envelope import SIGNING_CONTEXT, EnvelopeError, SealedEvent, envelope_hash, open_sealed
from sync.pki import NodeCertificate
from sync.trust import TrustStore, Verdict

INDEXED_COLUMNS = (
    "event_id",
    "origin_node",
    "origin_unit",
    "origin_seq",
    "prev_hash",
    "ticket_id",
    "event_type",
    "hlc",
    "signer_key_id",
)
"""The ``events`` columns copied out of the envelope, which must agree with it."""

ROW_COLUMNS = (
    s.events.c.pos,
    *(s.events.c[name] for name in INDEXED_COLUMNS),
    s.events.c.hash,
    s.events.c.envelope,
    s.events.c.signature,
    s.events.c.verdict,
)


class ChainFacts(NamedTuple):
    """What the chain pass needs of one event, as signed."""

    seq: int
    prev_hash: bytes
    hash: bytes
    pos: int
    event_id: str
    origin_unit: str


@dataclass
class CheckedRow:
    """The outcome of checking one row on its own."""

    sealed: SealedEvent | None
    problems: list[AuditProblem]
    consistent: bool
    """The hash and indexed columns equal the envelope (the columns can be trusted)."""
    verdict: Verdict | None = None
    signature_ok: bool | None = None


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def show_value(value: object) -> str:
    """A column or envelope value short enough for a problem's detail."""
    if isinstance(value, bytes):
        return value.hex()[:16] + ("…" if len(value) > 8 else "")
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


class RowChecker:
    """Checks rows one by one, keeping what is costly to rebuild for every event.

    Parsed public keys are kept per key. Signer verdicts are kept per signer and *time
    segment*: ``TrustStore.judge`` compares the event time only with the validity bounds of
    the certificate and of its authority and with the revocation time, so between two
    consecutive such moments the verdict cannot change and the store is asked once.
    """

    def __init__(self, trust: TrustStore) -> None:
        self.trust = trust
        self._keys: dict[bytes, Ed25519PublicKey] = {}
        self._moments: dict[tuple[str, str], tuple[int, ...]] = {}
        self._verdicts: dict[tuple[str, str, str, int], Verdict] = {}

    def _turning_points(self, key_id: str, node_id: str) -> tuple[int, ...]:
        """Every moment at which a verdict on this signer may change."""
        authorities = {a.subject.public_bytes(): a for a in self.trust.authorities()}
        authorities[self.trust.root.subject.public_bytes()] = self.trust.root
        points: set[int] = set()
        for cert in self.trust.certificates_for([key_id]):
            if cert.node_id != node_id:
                continue
            points.update((cert.not_before_ms, cert.not_after_ms + 1))
            issuer = authorities.get(cert.certificate.issuer.public_bytes())
            if issuer is not None:
                points.add(_millis(issuer.not_valid_before_utc))
                points.add(_millis(issuer.not_valid_after_utc) + 1)
            revoked = self.trust.revoked_at(cert.certificate)
            if revoked is not None:
                points.add(revoked)
        return tuple(sorted(points))

    def verdict(self, key_id: str, node_id: str, unit_code: str, at_ms: int) -> Verdict:
        """``TrustStore.signer``, asked once per signer and time segment."""
        points = self._moments.get((key_id, node_id))
        if points is None:
            points = self._moments[(key_id, node_id)] = self._turning_points(key_id, node_id)
        slot = (key_id, node_id, unit_code, bisect.bisect_right(points, at_ms))
        verdict = self._verdicts.get(slot)
        if verdict is None:
            verdict = self._verdicts[slot] = self.trust.signer(key_id, node_id, unit_code, at_ms)
        return verdict

    def _key(self, cert: NodeCertificate) -> Ed25519PublicKey:
        raw = cert.event_public_key
        key = self._keys.get(raw)
        if key is None:
            key = self._keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
        return key

    def check(self, row: Any, *, signatures: bool) -> CheckedRow:
        """Every check of one ``events`` row that needs no other row."""
        pos = int(row.pos)
        try:
            sealed = open_sealed(bytes(row.envelope), bytes(row.signature))
        except (EnvelopeError, InvalidInput, ValueError) as exc:
            found = AuditProblem(
                pos, row.event_id, row.origin_node, row.origin_seq, UNPARSEABLE, str(exc)
            )
            return CheckedRow(None, [found], False)

        def problem(kind: str, detail: str, seq: int | None) -> AuditProblem:
            return AuditProblem(pos, sealed.event_id, sealed.origin_node, seq, kind, detail)

        problems: list[AuditProblem] = []
        actual = envelope_hash(sealed.envelope)
        stored = bytes(row.hash)
        if stored != actual:
            problems.append(
                problem(
                    HASH,
                    f"hash column {show_value(stored)} is not the envelope's {show_value(actual)}",
                    sealed.origin_seq,
                )
            )
        changed = []
        for name in INDEXED_COLUMNS:
            value = getattr(row, name)
            if isinstance(value, memoryview):
                value = bytes(value)
            signed = getattr(sealed, name)
            if value != signed:
                changed.append(f"{name} {show_value(value)} (signed {show_value(signed)})")
        if changed:
            detail = "columns differ from the signed envelope: " + "; ".join(changed)
            problems.append(problem(TAMPERED, detail, sealed.origin_seq))
        checked = CheckedRow(sealed, problems, not problems)
        if signatures:
            self._check_signer(checked, sealed, counted=not row.verdict, problem=problem)
        return checked

    def _check_signer(
        self,
        checked: CheckedRow,
        sealed: SealedEvent,
        *,
        counted: bool,
        problem: Callable[[str, str, int | None], AuditProblem],
    ) -> None:
        verdict = self.verdict(
            sealed.signer_key_id,
            sealed.origin_node,
            sealed.origin_unit,
            clock.to_millis(sealed.hlc),
        )
        checked.verdict = verdict
        seq = sealed.origin_seq
        if verdict.certificate is None:
            if counted:
                detail = f"{verdict.reason}; the signature cannot be checked"
                checked.problems.append(problem(CERTIFICATE, detail, seq))
            return
        try:
            self._key(verdict.certificate).verify(
                sealed.signature, SIGNING_CONTEXT + sealed.envelope
            )
        except InvalidSignature:
            checked.signature_ok = False
            detail = (
                f"does not verify with the event key {sealed.signer_key_id[:16]} "
                f"certified to {verdict.certificate.node_id}"
            )
            checked.problems.append(problem(SIGNATURE, detail, seq))
        else:
            checked.signature_ok = True
        if counted and not verdict.ok:
            detail = f"counted, but its signer did not count then: {verdict.reason}"
            checked.problems.append(problem(CERTIFICATE, detail, seq))
