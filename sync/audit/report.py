"""What an audit finds, and how it reads: problem kinds, the report, a ticket's history, text.

Everything here is plain data with a JSON-able form (``--json``) and lines for a terminal; the
checks that fill it live in ``sync.audit.checks`` and ``sync.audit.chains``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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

DEFAULT_MAX_PROBLEMS = 10_000
"""Problems kept in a report; further ones are only counted (a wrecked log stays bounded)."""


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


ERASED_TYPE = "hotline.v1.PersonalDataErased"
"""The event type of the erasure of a ticket's personal data (个人信息删除)."""
REGISTERED_TYPE = "hotline.v1.TicketRegistered"


def erasure_of(entries: Iterable[HistoryEntry]) -> HistoryEntry | None:
    """The erasure of the ticket's personal data that counts: the first counted one in the
    fold's order (a second recording, from the province's fallback, changes nothing)."""
    return next((e for e in entries if e.event_type == ERASED_TYPE and e.counted), None)


def personal_data_to_dict(entries: Iterable[HistoryEntry]) -> dict[str, Any]:
    """What the log says of the filer's personal data, JSON-able: ``erased`` (when, by whom),
    ``sealed`` (held beside the log, the registration signs only its commitment), or
    ``unknown`` (no registration held). Never a value of it: the log holds none."""
    held = list(entries)
    erased = erasure_of(held)
    if erased is not None:
        return {
            "status": "erased",
            "erased_at": erased.time,
            "erased_hlc": erased.hlc,
            "by_node": erased.origin_node,
            "by_unit": erased.officer_unit or erased.origin_unit,
            "event_id": erased.event_id,
        }
    registered = any(e.event_type == REGISTERED_TYPE for e in held)
    return {"status": "sealed" if registered else "unknown"}


def personal_data_line(entries: Iterable[HistoryEntry]) -> str:
    """One line on the filer's personal data: erased (when, by which node) or sealed."""
    found = personal_data_to_dict(entries)
    match found["status"]:
        case "erased":
            return (
                f"个人信息已删除 personal data erased: {found['erased_at']} by node "
                f"{found['by_node']} ({found['by_unit']}); the registration keeps only the "
                "commitment to it"
            )
        case "sealed":
            return (
                "个人信息 personal data: sealed beside the log; the registration signs only "
                "the commitment to it"
            )
    return "个人信息 personal data: the registration is not held here"


def format_history(entries: Iterable[HistoryEntry]) -> list[str]:
    """A ticket history as lines of plain text: one line per event, then its problems; last,
    what became of the filer's personal data."""
    entries = list(entries)
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
    if entries:
        lines.append(personal_data_line(entries))
    return lines
