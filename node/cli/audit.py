"""``hotline audit``: an inspector's offline check of a node's database.

Two records are checked: the signed event log (``sync.audit``) and the access record
(``node.access.record_audit``: every row's chain link and signature, its head, and the anchors
the auditor kept from an earlier audit or ``hotline access-log``, ``--anchor SEQ:DIGEST``).
Run against a copy of (or the live) database with the inspector's own copy of the national
root (``ca.pem`` of the root's folder), never the node's own ``root.pem``: a node whose files
were altered cannot vouch for itself. The database is a SQLite file or a ``postgresql://`` URL.
Exit status 0 means every signature, hash, chain link and certificate checked out; 1 means
problems were found (listed); 2 means the audit could not run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from cryptography import x509
from sqlalchemy import Connection, create_engine
from sqlalchemy.exc import SQLAlchemyError

from core.access.reading import Anchor, parse_anchor
from core.errors import InvalidInput
from node.access.record_audit import RecordAudit, anchor_from_parent, audit_record, signer_of
from node.cli.catalogue import Audience, Catalogue, required_flags
from node.cli.display import china_time_of_hlc
from node.storage.database import normalize_url
from sync.access_anchors import held as held_anchors
from sync.audit import (
    HistoryEntry,
    audit_log,
    audit_ticket,
    format_history,
    format_report,
    history_to_dict,
    load_trust_store,
    personal_data_to_dict,
)
from sync.errors import StorageError
from sync.trust import TrustStore


def database_url(db: str) -> str:
    """The SQLAlchemy URL of ``--db``: a SQLite file that must exist, or a database URL."""
    url = normalize_url(db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise InvalidInput("db", f"no database file at {db}")
    return url


def in_china_time(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """The entries with their times shown in China time, as every command shows times."""
    return [dataclasses.replace(e, time=china_time_of_hlc(e.hlc)) for e in entries]


def _root(path: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidInput("root", f"cannot read the national root {path}: {exc}") from None


def run_audit(args: argparse.Namespace) -> int:
    """Audit the whole log, or one ticket (``target`` = ["ticket", ID]); print the findings."""
    if args.target and (len(args.target) != 2 or args.target[0] != "ticket"):
        raise InvalidInput("target", "expected nothing (the whole log) or: ticket ID")
    anchors: list[Anchor] = [parse_anchor(text) for text in args.anchor or []]
    if anchors and args.target:
        raise InvalidInput("anchor", "anchors check the whole access record: audit no ticket")
    root = _root(args.root)
    engine = create_engine(database_url(args.db))
    notes: list[str] = []
    try:
        with engine.connect() as conn, conn.begin():  # one snapshot for the whole audit
            trust = load_trust_store(conn, root, notes)
            if args.target:
                return _ticket(args, conn, trust, notes)
            report = audit_log(conn, trust)
            if args.parent_db:
                anchors = [*anchors, *_parent_anchors(args.parent_db, conn, trust, notes)]
            access: RecordAudit = audit_record(conn, trust, anchors)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0]
        raise StorageError(f"cannot read the database {args.db}: {first}") from exc
    finally:
        engine.dispose()
    if args.json:
        document = {**report.to_dict(), "access_record": access.to_dict(), "notes": notes}
        print(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        for line in [*notes, *format_report(report), *access.lines()]:
            print(line)
    return 0 if report.ok and access.ok else 1


def _parent_anchors(
    parent_db: str, conn: Connection, trust: TrustStore, notes: list[str]
) -> list[Anchor]:
    """The anchors of this node's access record that its parent's database keeps (none, with a
    note, when the parent holds none; one the node did not sign is noted and left out)."""
    node_id = signer_of(conn, trust)
    if not node_id:
        notes.append("no row of the access record is signed by a certified key: no anchor used")
        return []
    engine = create_engine(database_url(parent_db))
    try:
        with engine.connect() as parent:
            heads = held_anchors(parent, node_id)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0]
        raise StorageError(f"cannot read the parent's database {parent_db}: {first}") from exc
    finally:
        engine.dispose()
    if not heads:
        notes.append(f"the parent's database holds no anchor of {node_id} (not synced since)")
    anchors = []
    for head in heads:
        anchor = anchor_from_parent(head, node_id, trust)
        if isinstance(anchor, str):
            notes.append(anchor)
            continue
        notes.append(f"the parent's anchor of {node_id}'s access record: {anchor.text()}")
        anchors.append(anchor)
    return anchors


def _ticket(args: argparse.Namespace, conn: Connection, trust: TrustStore, notes: list[str]) -> int:
    entries, problems = audit_ticket(conn, trust, args.target[1])
    if not entries:
        raise InvalidInput("ticket", f"no events of ticket {args.target[1]} here")
    if args.json:
        document = {
            "ticket": args.target[1],
            "events": history_to_dict(entries),
            "personal_data": personal_data_to_dict(in_china_time(entries)),
            "problems": [p.to_dict() for p in problems],
            "notes": notes,
        }
        print(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        for line in [*notes, *format_history(in_china_time(entries))]:
            print(line)
        print("OK: complete and untouched" if not problems else f"FAILED: {len(problems)} problems")
    return 0 if not problems else 1


def add_audit_command(catalogue: Catalogue) -> None:
    """Register ``audit``."""
    audit = catalogue.command(
        Audience.AUDITORS,
        "audit",
        summary="verify a node's signed log and access record offline, or one ticket's history",
        description="Bring your own copy of the national root (the root's ca.pem), not the "
        "node's root.pem. The whole audit checks the event log and the access record (every "
        "row's chain link and signature, under any key the node was ever certified for), and "
        "prints the record's head as SEQ:DIGEST: keep it, and give it with --anchor next "
        "time, so that a record cut short or rewritten since is caught. Exit 0: everything "
        "checks out; 1: problems (listed, the first broken row named); 2: the audit could not "
        "run.",
        examples=[
            "hotline audit --db var/chengguan/node.db --root secure/root/ca.pem",
            "hotline audit ticket 620000-5d2c1a-000001 --db var/chengguan/node.db "
            "--root secure/root/ca.pem",
            "hotline audit --db postgresql://postgres@127.0.0.1:5432/chengguan "
            "--root secure/root/ca.pem --json",
            "hotline audit --db var/chengguan/node.db --root secure/root/ca.pem "
            "--anchor 1042:9f86d081884c7d659a2feaa0c55ad015",
            "hotline audit --db var/chengguan/node.db --root secure/root/ca.pem "
            "--parent-db var/city/node.db",
        ],
        run=run_audit,
    )
    audit.add_argument(
        "target",
        nargs="*",
        metavar="ticket ID",
        help="nothing: the whole log; or `ticket ID`: one ticket's history and its chains",
    )
    need = required_flags(audit)
    need.add_argument(
        "--db",
        required=True,
        metavar="URL",
        help="the node's database: a SQLite file or a postgresql:// URL",
    )
    need.add_argument(
        "--root",
        required=True,
        metavar="FILE",
        help="your own copy of the national root certificate (PEM)",
    )
    audit.add_argument(
        "--anchor",
        action="append",
        metavar="SEQ:DIGEST",
        help="a row of the access record you kept (from an earlier audit's last line or "
        "`hotline access-log`): the record must still hold it, with that digest (hex, at least "
        "16 characters); repeat for several",
    )
    audit.add_argument(
        "--parent-db",
        dest="parent_db",
        metavar="URL",
        help="the parent node's database (a copy will do): the head of this node's access "
        "record that the parent keeps from replication must still be in the record",
    )
    audit.add_argument("--json", action="store_true", help="print JSON instead of text")
