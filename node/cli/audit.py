"""``hotline audit``: an inspector's offline check of a node's database.

Run against a copy of (or the live) database with the inspector's own copy of the national
root, never the node's: a node whose files were altered cannot vouch for itself. Exit status 0
means every signature, hash, chain link and certificate checked out; 1 means problems were
found (listed); 2 means the audit could not run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cryptography import x509
from sqlalchemy import create_engine

from core.errors import InvalidInput
from sync.audit import (
    audit_log,
    audit_ticket,
    format_history,
    format_report,
    history_to_dict,
    load_trust_store,
)


def _url(db: str) -> str:
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def run_audit(args: argparse.Namespace) -> int:
    """Audit the whole log, or one ticket (``target`` = ["ticket", ID]); print the findings."""
    if args.target and (len(args.target) != 2 or args.target[0] != "ticket"):
        raise InvalidInput("target", "expected nothing (the whole log) or: ticket ID")
    try:
        root = x509.load_pem_x509_certificate(Path(args.root).read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidInput("root", f"cannot read the national root {args.root}: {exc}") from None
    engine = create_engine(_url(args.db))
    notes: list[str] = []
    try:
        with engine.connect() as conn, conn.begin():  # one snapshot for the whole audit
            trust = load_trust_store(conn, root, notes)
            if args.target:
                entries, problems = audit_ticket(conn, trust, args.target[1])
                if not entries:
                    raise InvalidInput("ticket", f"no events of ticket {args.target[1]} here")
                if args.json:
                    print(
                        json.dumps(
                            {
                                "ticket": args.target[1],
                                "events": history_to_dict(entries),
                                "problems": [p.to_dict() for p in problems],
                                "notes": notes,
                            },
                            ensure_ascii=False,
                            indent=1,
                        )
                    )
                else:
                    for line in [*notes, *format_history(entries)]:
                        print(line)
                    print(
                        "OK: complete and untouched"
                        if not problems
                        else f"FAILED: {len(problems)} problems"
                    )
                return 0 if not problems else 1
            report = audit_log(conn, trust)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({**report.to_dict(), "notes": notes}, ensure_ascii=False, indent=1))
    else:
        for line in [*notes, *format_report(report)]:
            print(line)
    return 0 if report.ok else 1
