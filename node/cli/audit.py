"""``hotline audit``: an inspector's offline check of a node's database.

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

from core.errors import InvalidInput
from node.cli.catalogue import Audience, Catalogue, required_flags
from node.cli.display import china_time_of_hlc
from node.storage.database import normalize_url
from sync.audit import (
    HistoryEntry,
    audit_log,
    audit_ticket,
    format_history,
    format_report,
    history_to_dict,
    load_trust_store,
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
    root = _root(args.root)
    engine = create_engine(database_url(args.db))
    notes: list[str] = []
    try:
        with engine.connect() as conn, conn.begin():  # one snapshot for the whole audit
            trust = load_trust_store(conn, root, notes)
            if args.target:
                return _ticket(args, conn, trust, notes)
            report = audit_log(conn, trust)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0]
        raise StorageError(f"cannot read the database {args.db}: {first}") from exc
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({**report.to_dict(), "notes": notes}, ensure_ascii=False, indent=1))
    else:
        for line in [*notes, *format_report(report)]:
            print(line)
    return 0 if report.ok else 1


def _ticket(args: argparse.Namespace, conn: Connection, trust: TrustStore, notes: list[str]) -> int:
    entries, problems = audit_ticket(conn, trust, args.target[1])
    if not entries:
        raise InvalidInput("ticket", f"no events of ticket {args.target[1]} here")
    if args.json:
        document = {
            "ticket": args.target[1],
            "events": history_to_dict(entries),
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
        summary="verify a node's whole signed log offline, or one ticket and every signer",
        description="Bring your own copy of the national root (the root's ca.pem), not the "
        "node's root.pem. Exit 0: everything checks out; 1: problems (listed); 2: the audit "
        "could not run.",
        examples=[
            "hotline audit --db var/chengguan/node.db --root secure/root/ca.pem",
            "hotline audit ticket 620000-5d2c1a-000001 --db var/chengguan/node.db "
            "--root secure/root/ca.pem",
            "hotline audit --db postgresql://postgres@127.0.0.1:5432/chengguan "
            "--root secure/root/ca.pem --json",
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
    audit.add_argument("--json", action="store_true", help="print JSON instead of text")
