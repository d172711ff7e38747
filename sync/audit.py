"""An offline audit of a node's signed log, for an inspector holding only the national root.

Every node keeps its log as signed envelopes, but a node's database is in the hands of the
people it records: an administrator can edit a row, delete an awkward event or slip in a
certificate. Nothing in the running node re-checks what it already stored, so this module
does, from the database alone plus the national root certificate brought by the inspector:

* every row's signature verifies over its envelope, with the event key certified for the
  signer's node and unit (the certificates and revocation lists are read from the database
  too, and count only if they lead back to the root);
* a counted event (empty ``verdict``) was signed while its signer's certificate was valid and
  not revoked; an event kept only as evidence is expected to fail that, and is only counted;
* the ``hash`` column is the SHA-256 of the envelope, and every indexed column says what the
  envelope says (an edited column is "tampered");
* every complete chain (an origin with an ``origin_heads`` row) holds sequences ``1..head``
  exactly once, each linking to the hash of the one before, ending on the head's hash; partial
  chains (origins seen through a parent's feed) are checked only where neighbours are held.

The log is streamed in chunks in ``pos`` order, so a log of millions of events is never loaded
at once; the chain pass then walks each origin in sequence order using the columns that the
first pass proved equal to the envelopes. Run it in one read transaction (a snapshot) when the
node is live; events appended after the audit started are left out.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, select

from core import hlc as clock
from core.errors import InvalidInput
from sync import schema as s
from sync.envelope import (
    GENESIS_HASH,
    SIGNING_CONTEXT,
    EnvelopeError,
    SealedEvent,
    envelope_hash,
    open_sealed,
)
from sync.log_store import EventLog
from sync.pki import NodeCertificate
from sync.trust import TrustStore, Verdict

SIGNATURE = "signature"
"""The signature does not verify over the envelope with the certified event key."""
HASH = "hash"
"""The ``hash`` column is not the SHA-256 of the stored envelope."""
TAMPERED = "tampered"
"""An indexed column says something other than the signed envelope."""
CERTIFICATE = "certificate"
"""A counted event whose signer had no valid certificate at the event's time."""
CHAIN = "chain"
"""A broken link: a previous hash or a head hash that does not match, a duplicate, an extra."""
GAP = "gap"
"""Sequences missing from a complete chain before an event that is held."""
MISSING = "missing"
"""Sequences the head row says are held, missing after the last event held."""
UNPARSEABLE = "unparseable"
"""The stored envelope does not parse (or names an unknown event type)."""

KINDS = (SIGNATURE, HASH, TAMPERED, CERTIFICATE, CHAIN, GAP, MISSING, UNPARSEABLE)
"""Every kind of problem an audit reports."""

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

DEFAULT_CHUNK = 2000
"""Rows read per query."""

DEFAULT_MAX_PROBLEMS = 10_000
"""Problems kept in a report; further ones are only counted (a wrecked log stays bounded)."""

_ROW_COLUMNS = (
    s.events.c.pos,
    *(s.events.c[name] for name in INDEXED_COLUMNS),
    s.events.c.hash,
    s.events.c.envelope,
    s.events.c.signature,
    s.events.c.verdict,
)


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditProblem:
    """One thing found wrong, tied to a row (``pos``) where there is one."""

    pos: int | None
    event_id: str
    origin_node: str
    origin_seq: int | None
    kind: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {
            "pos": self.pos,
            "event_id": self.event_id,
            "origin_node": self.origin_node,
            "origin_seq": self.origin_seq,
            "kind": self.kind,
            "detail": self.detail,
        }

    def line(self) -> str:
        """One line of text for a terminal."""
        where = f"pos {self.pos}" if self.pos is not None else "no row"
        seq = f"#{self.origin_seq}" if self.origin_seq is not None else ""
        event = f" event {self.event_id}" if self.event_id else ""
        return f"[{self.kind}] {where}{event} {self.origin_node}{seq}: {self.detail}"


@dataclass
class AuditReport:
    """What an audit of a whole log found."""

    events_checked: int = 0
    origins_checked: int = 0
    complete_chains: int = 0
    evidence_events: int = 0
    last_pos: int = 0
    problems: list[AuditProblem] = field(default_factory=list)
    problems_omitted: int = 0
    kind_counts: Counter[str] = field(default_factory=Counter)
    max_problems: int = DEFAULT_MAX_PROBLEMS

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems and not self.problems_omitted

    def add(self, problem: AuditProblem) -> None:
        """Record a problem (only counted once ``max_problems`` are kept)."""
        self.kind_counts[problem.kind] += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(problem)
        else:
            self.problems_omitted += 1

    def of_kind(self, kind: str) -> list[AuditProblem]:
        """The kept problems of one kind."""
        return [p for p in self.problems if p.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "origins_checked": self.origins_checked,
            "complete_chains": self.complete_chains,
            "evidence_events": self.evidence_events,
            "last_pos": self.last_pos,
            "problem_counts": dict(sorted(self.kind_counts.items())),
            "problems_omitted": self.problems_omitted,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a ticket as an inspector reads it: what, when, who, and whether it holds."""

    pos: int
    event_id: str
    event_type: str
    time: str
    hlc: int
    origin_node: str
    origin_unit: str
    origin_seq: int
    ticket_version: int
    officer_id: str
    officer_name: str
    officer_unit: str
    officer_level: str
    signer_key_id: str
    certificate_serial: str
    certificate_issuer: str
    certificate_node: str
    certificate_unit: str
    certificate_ok: bool
    certificate_reason: str
    signature_ok: bool | None
    verdict: str
    problems: tuple[AuditProblem, ...] = ()

    @property
    def counted(self) -> bool:
        """True when the node counts this event (it is not kept only as evidence)."""
        return not self.verdict

    @property
    def ok(self) -> bool:
        """True when the event passed every per-event check."""
        return not self.problems

    @property
    def short_type(self) -> str:
        """The event type without its package, e.g. ``TicketRegistered``."""
        return self.event_type.rsplit(".", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {
            "pos": self.pos,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "time": self.time,
            "hlc": self.hlc,
            "origin_node": self.origin_node,
            "origin_unit": self.origin_unit,
            "origin_seq": self.origin_seq,
            "ticket_version": self.ticket_version,
            "officer": {
                "id": self.officer_id,
                "name": self.officer_name,
                "unit": self.officer_unit,
                "level": self.officer_level,
            },
            "signer_key_id": self.signer_key_id,
            "certificate": {
                "serial": self.certificate_serial,
                "issuer": self.certificate_issuer,
                "node": self.certificate_node,
                "unit": self.certificate_unit,
                "ok": self.certificate_ok,
                "reason": self.certificate_reason,
            },
            "signature_ok": self.signature_ok,
            "verdict": self.verdict,
            "counted": self.counted,
            "ok": self.ok,
            "problems": [p.to_dict() for p in self.problems],
        }


def history_to_dict(entries: Iterable[HistoryEntry]) -> list[dict[str, Any]]:
    """A JSON-able form of a ticket history."""
    return [e.to_dict() for e in entries]


# -- the trust store ---------------------------------------------------------------------------


def load_trust_store(
    conn: Connection, root: x509.Certificate, notes: list[str] | None = None
) -> TrustStore:
    """The trust a node's database supports, anchored on the inspector's own copy of the root.

    Every certificate and revocation list the node keeps is offered to a fresh
    ``TrustStore(root)``; what does not lead back to the root is refused, and the reason is
    appended to ``notes`` when given (a forged certificate in a node's database is itself a
    finding).
    """
    trust = TrustStore(root)
    problems = EventLog(conn).load_trust(trust)
    if notes is not None:
        notes.extend(problems)
    return trust


# -- per-event checks --------------------------------------------------------------------------


class _Facts(NamedTuple):
    """What the chain pass needs of one event, as signed."""

    seq: int
    prev_hash: bytes
    hash: bytes
    pos: int
    event_id: str
    origin_unit: str


@dataclass
class _Checked:
    """The outcome of checking one row on its own."""

    sealed: SealedEvent | None
    problems: list[AuditProblem]
    consistent: bool
    """The hash and indexed columns equal the envelope (the columns can be trusted)."""
    verdict: Verdict | None = None
    signature_ok: bool | None = None


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()[:16] + ("…" if len(value) > 8 else "")
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


class _Checker:
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

    def check(self, row: Any, *, signatures: bool) -> _Checked:
        """Every check of one ``events`` row that needs no other row."""
        pos = int(row.pos)
        try:
            sealed = open_sealed(bytes(row.envelope), bytes(row.signature))
        except (EnvelopeError, InvalidInput, ValueError) as exc:
            found = AuditProblem(
                pos, row.event_id, row.origin_node, row.origin_seq, UNPARSEABLE, str(exc)
            )
            return _Checked(None, [found], False)

        def problem(kind: str, detail: str, seq: int | None) -> AuditProblem:
            return AuditProblem(pos, sealed.event_id, sealed.origin_node, seq, kind, detail)

        problems: list[AuditProblem] = []
        actual = envelope_hash(sealed.envelope)
        stored = bytes(row.hash)
        if stored != actual:
            problems.append(
                problem(
                    HASH,
                    f"hash column {_show(stored)} is not the envelope's {_show(actual)}",
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
                changed.append(f"{name} {_show(value)} (signed {_show(signed)})")
        if changed:
            detail = "columns differ from the signed envelope: " + "; ".join(changed)
            problems.append(problem(TAMPERED, detail, sealed.origin_seq))
        checked = _Checked(sealed, problems, not problems)
        if signatures:
            self._check_signer(checked, sealed, counted=not row.verdict, problem=problem)
        return checked

    def _check_signer(
        self,
        checked: _Checked,
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


# -- chains ------------------------------------------------------------------------------------


@dataclass
class _Suspects:
    """Rows whose columns cannot be trusted: their positions, and their signed chain facts."""

    positions: set[int] = field(default_factory=set)
    by_origin: dict[str, list[_Facts]] = field(default_factory=lambda: defaultdict(list))

    def add(self, pos: int, sealed: SealedEvent | None) -> None:
        self.positions.add(pos)
        if sealed is not None:
            self.by_origin[sealed.origin_node].append(
                _Facts(
                    sealed.origin_seq,
                    sealed.prev_hash,
                    sealed.hash,
                    pos,
                    sealed.event_id,
                    sealed.origin_unit,
                )
            )


@dataclass(frozen=True)
class _Head:
    origin_unit: str
    seq: int
    hash: bytes


def _heads(conn: Connection) -> dict[str, _Head]:
    rows = conn.execute(select(s.origin_heads))
    return {r.origin_node: _Head(r.origin_unit, int(r.seq), bytes(r.hash)) for r in rows}


def _max_pos(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(s.events.c.pos), 0))).scalar_one())


def _column_facts(
    conn: Connection, origin: str, max_pos: int, skip: set[int], chunk: int
) -> Iterator[_Facts]:
    """The chain facts of ``origin`` read from the columns, in sequence order, in chunks."""
    e = s.events.c
    after: int | None = None
    while True:
        query = select(e.pos, e.origin_seq, e.prev_hash, e.hash, e.event_id, e.origin_unit).where(
            e.origin_node == origin, e.pos <= max_pos
        )
        if after is not None:
            query = query.where(e.origin_seq > after)
        rows = conn.execute(query.order_by(e.origin_seq).limit(chunk)).all()
        for r in rows:
            if r.pos not in skip:
                yield _Facts(
                    int(r.origin_seq),
                    bytes(r.prev_hash),
                    bytes(r.hash),
                    int(r.pos),
                    r.event_id,
                    r.origin_unit,
                )
        if len(rows) < chunk:
            return
        after = int(rows[-1].origin_seq)


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}..#{last}"


def _check_chain(
    origin: str,
    head: _Head | None,
    facts: Iterable[_Facts],
    add: Callable[[AuditProblem], None],
) -> None:
    """Check one origin's events (in sequence order) against each other and its head."""

    def problem(f: _Facts | None, kind: str, detail: str, seq: int | None = None) -> None:
        if f is None:
            add(AuditProblem(None, "", origin, seq, kind, detail))
        else:
            add(AuditProblem(f.pos, f.event_id, origin, f.seq, kind, detail))

    last_seq, last_hash = 0, GENESIS_HASH
    head_hash: bytes | None = None
    for f in facts:
        if f.seq == last_seq and last_seq:
            problem(f, CHAIN, f"a second event #{f.seq} is held (fork)")
            continue
        if head is not None:
            if f.origin_unit != head.origin_unit:
                problem(f, CHAIN, f"origin unit {f.origin_unit}, head row says {head.origin_unit}")
            if f.seq > head.seq:
                problem(f, CHAIN, f"held beyond the chain's head #{head.seq}")
            elif f.seq < 1:
                problem(f, CHAIN, "sequence below 1")
            elif f.seq > last_seq + 1:
                problem(f, GAP, f"{_span(last_seq + 1, f.seq - 1)} missing before this event")
        if f.seq == last_seq + 1 and f.prev_hash != last_hash:
            before = "genesis" if last_seq == 0 else f"#{last_seq}"
            problem(
                f,
                CHAIN,
                f"previous hash {_show(f.prev_hash)} does not link to {before} "
                f"({_show(last_hash)})",
            )
        if head is not None and f.seq == head.seq:
            head_hash = f.hash
        last_seq, last_hash = f.seq, f.hash
    if head is None:
        return
    if last_seq < head.seq:
        detail = f"{_span(last_seq + 1, head.seq)} missing: the head row says #{head.seq} is held"
        problem(None, MISSING, detail, last_seq + 1)
    elif head_hash is not None and head_hash != head.hash:
        problem(
            None,
            CHAIN,
            f"head row hash {_show(head.hash)} is not that of #{head.seq} ({_show(head_hash)})",
            head.seq,
        )


def _check_chains(
    conn: Connection,
    origins: Iterable[str],
    heads: dict[str, _Head],
    suspects: _Suspects,
    max_pos: int,
    chunk: int,
    add: Callable[[AuditProblem], None],
) -> None:
    for origin in origins:
        columns = _column_facts(conn, origin, max_pos, suspects.positions, chunk)
        signed = sorted(suspects.by_origin.get(origin, ()))
        facts = heapq.merge(columns, signed, key=lambda f: f.seq) if signed else columns
        _check_chain(origin, heads.get(origin), facts, add)


def _scan(
    conn: Connection,
    checker: _Checker,
    max_pos: int,
    chunk: int,
    *,
    signatures: bool,
    on_row: Callable[[Any, _Checked], None],
    origin: str | None = None,
) -> _Suspects:
    """Check every row up to ``max_pos`` (of one origin, if given) in ``pos`` order, in chunks."""
    suspects = _Suspects()
    after = 0
    while True:
        query = select(*_ROW_COLUMNS).where(s.events.c.pos > after, s.events.c.pos <= max_pos)
        if origin is not None:
            query = query.where(s.events.c.origin_node == origin)
        rows = conn.execute(query.order_by(s.events.c.pos).limit(chunk)).all()
        for row in rows:
            checked = checker.check(row, signatures=signatures)
            if not checked.consistent:
                suspects.add(int(row.pos), checked.sealed)
            on_row(row, checked)
        if len(rows) < chunk:
            return suspects
        after = int(rows[-1].pos)


# -- the audits --------------------------------------------------------------------------------


def audit_log(
    conn: Connection,
    trust: TrustStore,
    *,
    chunk: int = DEFAULT_CHUNK,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> AuditReport:
    """Check every event of the log on its own, then every chain; see the module docstring.

    Memory stays bounded by the number of origins and of problems, not by the log's size:
    rows are read ``chunk`` at a time. Events appended after the audit started are left out.
    """
    report = AuditReport(max_problems=max_problems)
    heads = _heads(conn)
    max_pos = _max_pos(conn)
    report.last_pos = max_pos
    checker = _Checker(trust)

    def on_row(row: Any, checked: _Checked) -> None:
        report.events_checked += 1
        if row.verdict:
            report.evidence_events += 1
        for p in checked.problems:
            report.add(p)

    suspects = _scan(conn, checker, max_pos, chunk, signatures=True, on_row=on_row)
    held = conn.execute(
        select(s.events.c.origin_node).where(s.events.c.pos <= max_pos).distinct()
    ).scalars()
    origins = sorted(set(held) | set(heads) | set(suspects.by_origin))
    _check_chains(conn, origins, heads, suspects, max_pos, chunk, report.add)
    report.origins_checked = len(origins)
    report.complete_chains = len(heads)
    return report


def _entry(row: Any, checked: _Checked) -> HistoryEntry:
    sealed = checked.sealed
    verdict = checked.verdict
    cert = verdict.certificate if verdict is not None else None
    hlc = int(sealed.hlc if sealed is not None else row.hlc)
    officer = sealed.officer if sealed is not None else None
    return HistoryEntry(
        pos=int(row.pos),
        event_id=sealed.event_id if sealed else row.event_id,
        event_type=sealed.event_type if sealed else row.event_type,
        time=_iso(hlc),
        hlc=hlc,
        origin_node=sealed.origin_node if sealed else row.origin_node,
        origin_unit=sealed.origin_unit if sealed else row.origin_unit,
        origin_seq=int(sealed.origin_seq if sealed else row.origin_seq),
        ticket_version=sealed.ticket_version if sealed else 0,
        officer_id=officer.officer_id if officer else "",
        officer_name=officer.name if officer else "",
        officer_unit=officer.unit_code if officer else "",
        officer_level=officer.unit_level.value if officer else "",
        signer_key_id=sealed.signer_key_id if sealed else row.signer_key_id,
        certificate_serial=format(cert.serial, "x") if cert else "",
        certificate_issuer=cert.certificate.issuer.rfc4514_string() if cert else "",
        certificate_node=cert.node_id if cert else "",
        certificate_unit=cert.unit_code if cert else "",
        certificate_ok=bool(verdict and verdict.ok),
        certificate_reason=verdict.reason if verdict else "envelope unreadable",
        signature_ok=checked.signature_ok,
        verdict=row.verdict,
        problems=tuple(checked.problems),
    )


def _iso(hlc: int) -> str:
    return clock.to_datetime(hlc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ticket_history(conn: Connection, trust: TrustStore, ticket_id: str) -> list[HistoryEntry]:
    """Every event held for one ticket, in the fold's order, each checked on its own.

    Events kept only as evidence are included (their ``verdict`` says why they did not count).
    The order is the fold's: clock, then origin node, then sequence.
    """
    checker = _Checker(trust)
    rows = conn.execute(
        select(*_ROW_COLUMNS).where(s.events.c.ticket_id == ticket_id).order_by(s.events.c.pos)
    ).all()
    entries = [_entry(row, checker.check(row, signatures=True)) for row in rows]
    entries.sort(key=lambda e: (e.hlc, e.origin_node, e.origin_seq, e.pos))
    return entries


def audit_ticket(
    conn: Connection, trust: TrustStore, ticket_id: str, *, chunk: int = DEFAULT_CHUNK
) -> tuple[list[HistoryEntry], list[AuditProblem]]:
    """A ticket's history and every problem that bears on it.

    The problems are those of the ticket's own events, plus a whole-chain check (hashes,
    columns and links, not signatures) of each of their origins that has a complete chain
    here: a deleted or rewritten event anywhere in such a chain is found.
    """
    entries = ticket_history(conn, trust, ticket_id)
    found: dict[AuditProblem, None] = {p: None for e in entries for p in e.problems}

    def add(problem: AuditProblem) -> None:
        found.setdefault(problem, None)

    heads = _heads(conn)
    max_pos = _max_pos(conn)
    checker = _Checker(trust)

    def on_row(row: Any, checked: _Checked) -> None:
        for p in checked.problems:
            add(p)

    for origin in sorted({e.origin_node for e in entries} & set(heads)):
        suspects = _scan(
            conn, checker, max_pos, chunk, signatures=False, on_row=on_row, origin=origin
        )
        _check_chains(conn, [origin], heads, suspects, max_pos, chunk, add)
    return entries, list(found)


# -- text --------------------------------------------------------------------------------------


def format_report(report: AuditReport) -> list[str]:
    """An audit report as lines of plain text, for a terminal."""
    lines = [
        f"Audited {report.events_checked} events up to position {report.last_pos}, "
        f"from {report.origins_checked} origins ({report.complete_chains} complete chains).",
    ]
    if report.evidence_events:
        lines.append(
            f"{report.evidence_events} events are kept as evidence only (not counted); "
            "that alone is not a problem."
        )
    if report.ok:
        lines.append("OK: every signature, hash, column and chain checks out.")
        return lines
    total = sum(report.kind_counts.values())
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(report.kind_counts.items()))
    lines.append(f"FAILED: {total} problems ({counts}).")
    lines.extend("  " + p.line() for p in report.problems)
    if report.problems_omitted:
        lines.append(f"  … and {report.problems_omitted} more not listed.")
    return lines


def format_history(entries: Iterable[HistoryEntry]) -> list[str]:
    """A ticket history as lines of plain text: one line per event, then its problems."""
    lines = []
    for e in entries:
        officer = f"{e.officer_name} ({e.officer_id}, {e.officer_unit} {e.officer_level})"
        if e.certificate_serial:
            cert = (
                f"certificate {e.certificate_serial} of {e.certificate_node} "
                f"({e.certificate_unit}) from {e.certificate_issuer}"
            )
        else:
            cert = "no certificate"
        signature = {True: "signature ok", False: "SIGNATURE BAD", None: "signature unchecked"}[
            e.signature_ok
        ]
        standing = "counted" if e.counted else f"evidence only: {e.verdict}"
        lines.append(
            f"{e.time} {e.short_type} by {officer} at {e.origin_node} #{e.origin_seq} "
            f"(pos {e.pos}); key {e.signer_key_id[:16]}, {cert}; {signature}; {standing}"
        )
        if not e.certificate_ok and e.certificate_reason:
            lines.append(f"    signer: {e.certificate_reason}")
        lines.extend("    " + p.line() for p in e.problems)
    return lines
