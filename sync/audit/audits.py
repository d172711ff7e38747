"""The two audits: a whole log, and one ticket's history with its chains.

Rows are read in ``pos`` order, ``chunk`` at a time, checked one by one (``sync.audit.checks``),
then every chain is walked (``sync.audit.chains``); the trust the checks rely on is rebuilt from
the database and the inspector's own copy of the national root.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography import x509
from sqlalchemy import Connection, select

from core import hlc as clock
from sync import schema as s
from sync.audit.chains import Suspects, check_chains, held_heads, last_position
from sync.audit.checks import ROW_COLUMNS, CheckedRow, RowChecker
from sync.audit.report import DEFAULT_MAX_PROBLEMS, AuditProblem, AuditReport, HistoryEntry
from sync.log_store import EventLog
from sync.trust import TrustStore

DEFAULT_CHUNK = 2000
"""Rows read per query."""


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


def _scan(
    conn: Connection,
    checker: RowChecker,
    max_pos: int,
    chunk: int,
    *,
    signatures: bool,
    on_row: Callable[[Any, CheckedRow], None],
    origin: str | None = None,
) -> Suspects:
    """Check every row up to ``max_pos`` (of one origin, if given) in ``pos`` order, in chunks."""
    suspects = Suspects()
    after = 0
    while True:
        query = select(*ROW_COLUMNS).where(s.events.c.pos > after, s.events.c.pos <= max_pos)
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
    heads = held_heads(conn)
    max_pos = last_position(conn)
    report.last_pos = max_pos
    checker = RowChecker(trust)

    def on_row(row: Any, checked: CheckedRow) -> None:
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
    check_chains(conn, origins, heads, suspects, max_pos, chunk, report.add)
    report.origins_checked = len(origins)
    report.complete_chains = len(heads)
    return report


def _entry(row: Any, checked: CheckedRow) -> HistoryEntry:
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
    checker = RowChecker(trust)
    rows = conn.execute(
        select(*ROW_COLUMNS).where(s.events.c.ticket_id == ticket_id).order_by(s.events.c.pos)
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

    heads = held_heads(conn)
    max_pos = last_position(conn)
    checker = RowChecker(trust)

    def on_row(row: Any, checked: CheckedRow) -> None:
        for p in checked.problems:
            add(p)

    for origin in sorted({e.origin_node for e in entries} & set(heads)):
        suspects = _scan(
            conn, checker, max_pos, chunk, signatures=False, on_row=on_row, origin=origin
        )
        check_chains(conn, [origin], heads, suspects, max_pos, chunk, add)
    return entries, list(found)
