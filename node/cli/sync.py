"""``hotline sync``, ``hotline alerts``, ``hotline quarantine`` and ``hotline audit``.

What an administrator runs to see replication and deal with what it found:

    hotline sync now     --node N          one replication round with the parent, now
    hotline sync status  --node N [--watch SECONDS]
    hotline alerts       --node N
    hotline quarantine release --node N --origin NODE_ID --note "..."
    hotline audit --db URL --root root.pem [ticket ID]    offline: the whole log, or one ticket
    hotline queue        --node N [--unit U] [--within 3]  a unit's deadlines, group
                                                           incidents and emergencies
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

from node.edge.client import NodeClient
from proto.hotline.v1 import admin_pb2


def _when(ms: int) -> str:
    if not ms:
        return "never"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _age(ms: int, now_ms: int) -> str:
    if not ms:
        return "-"
    seconds = max(0, (now_ms - ms) // 1000)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}min"
    return f"{seconds // 3600}h"


def status_lines(status: admin_pb2.SyncStatus, now_ms: int) -> list[str]:
    """``sync status`` as text: one line per peer, then quarantine and alert counts."""
    lines = []
    for peer in status.peers:
        if peer.role == "parent":
            lines.append(
                f"parent {peer.peer} ({peer.node_id or 'not met yet'}): "
                f"{peer.unsent_events} events not yet up "
                f"(oldest {_age(peer.oldest_unsent_ms, now_ms)} old), "
                f"{peer.unpulled_events} not yet down; last success "
                f"{_when(peer.last_success_ms)}; last error: {peer.last_error or 'none'}"
                + (f" ({peer.failures} failures in a row)" if peer.failures else "")
            )
        else:
            lines.append(
                f"child {peer.node_id}: {peer.unpulled_events} feed events not yet pulled; "
                f"last contact {_when(peer.last_success_ms)}"
            )
    if not status.peers:
        lines.append("no peers yet")
    for q in status.quarantined:
        lines.append(f"QUARANTINED {q.origin_node} since {_when(q.since_ms)}: {q.reason}")
    lines.append(f"{status.open_alerts} open alerts, {status.refused_events} events refused")
    return lines


def _sync_now(args: argparse.Namespace) -> int:
    with NodeClient(args.node) as client:
        report = client.sync_now()
    if report.error:
        print(f"hotline: sync failed: {report.error}", file=sys.stderr)
        return 1
    print(f"pushed {report.pushed}, pulled {report.pulled}, rejected {report.rejected}")
    return 0


def _sync_status(args: argparse.Namespace) -> int:
    with NodeClient(args.node) as client:
        while True:
            status = client.sync_status()
            for line in status_lines(status, status.now_ms or int(time.time() * 1000)):
                print(line)
            if not args.watch:
                return 0
            print("--", flush=True)
            time.sleep(args.watch)


def _alerts(args: argparse.Namespace) -> int:
    with NodeClient(args.node) as client:
        alerts = client.alerts(args.limit)
    for alert in alerts:
        print(f"#{alert.id} {_when(alert.raised_ms)} {alert.kind} {alert.subject}: {alert.detail}")
    if not alerts:
        print("no open alerts")
    return 0


def _release(args: argparse.Namespace) -> int:
    with NodeClient(args.node) as client:
        client.release_quarantine(args.origin, args.note)
    print(f"{args.origin} released; its fork evidence stays on record")
    return 0


def _queue(args: argparse.Namespace) -> int:
    with NodeClient(args.node, args.officer) as client:
        queue = client.queue(args.unit, args.within)
    sections = (
        ("OVERDUE", queue.overdue),
        (f"due within {args.within} working days", queue.due_soon),
        ("escalated to us (督办)", queue.escalated_to_us),
        ("later", queue.later),
    )
    print(f"queue of {queue.unit_code}")
    for title, entries in sections:
        print(f"{title}: {len(entries)}")
        for e in entries:
            climbed = (
                f", escalated {e.escalation_level}x to {e.escalated_to}" if e.escalated_to else ""
            )
            print(
                f"  {e.ticket_id}  {e.duty:18} {e.unit_code}  due {_when(e.due_ms)}  "
                f"{e.working_days_left:+d} WD{climbed}"
            )
    print(f"group incidents (群体投诉): {len(queue.incidents)}")
    for i in queue.incidents:
        print(
            f"  {i.incident_id}  {i.respondent_name or i.respondent_key}  "
            f"{len(i.ticket_ids)} tickets ({i.open_tickets} open) received "
            f"{_when(i.first_received_ms)} .. {_when(i.last_received_ms)}  "
            f"at {', '.join(i.holder_units)}"
        )
        for ticket_id in i.ticket_ids:
            print(f"    {ticket_id}")
    print(f"emergencies (紧急): {len(queue.emergencies)}")
    for m in queue.emergencies:
        print(
            f"  {m.ticket_id}  {m.respondent_name}  {', '.join(m.reasons)}  "
            f"{m.status} at {m.holder_unit}  received {_when(m.received_ms)}"
        )
    return 0


def _audit(args: argparse.Namespace) -> int:
    from node.cli.audit import run_audit

    return run_audit(args)


def add_sync_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the replication administrator's commands to the top-level sub-parsers."""
    sync = sub.add_parser("sync", help="replication: run a round now, or show its status")
    sync_sub = sync.add_subparsers(dest="sync", required=True)
    sync_sub.add_parser("now", parents=[common], help="replicate with the parent now").set_defaults(
        run=_sync_now
    )
    status = sync_sub.add_parser("status", parents=[common], help="lag per peer, quarantine")
    status.add_argument("--watch", type=float, default=0.0, help="repeat every SECONDS")
    status.set_defaults(run=_sync_status)

    alerts = sub.add_parser("alerts", parents=[common], help="open alerts of a node")
    alerts.add_argument("--limit", type=int, default=100)
    alerts.set_defaults(run=_alerts)

    quarantine = sub.add_parser("quarantine", help="origins held back after a fork")
    q_sub = quarantine.add_subparsers(dest="quarantine", required=True)
    release = q_sub.add_parser("release", parents=[common], help="let an origin in again")
    release.add_argument("--origin", required=True, help="the quarantined origin node id")
    release.add_argument("--note", default="", help="what was done about the fork")
    release.set_defaults(run=_release)

    queue = sub.add_parser("queue", parents=[common], help="a unit's deadlines: due, overdue")
    queue.add_argument("--unit", default="", help="the unit (default: the node's own)")
    queue.add_argument("--within", type=int, default=3, help="'due soon' horizon, working days")
    queue.set_defaults(run=_queue)

    audit = sub.add_parser("audit", help="verify a node's whole log offline, or one ticket")
    audit.add_argument("target", nargs="*", help="nothing (the whole log) or: ticket ID")
    audit.add_argument("--db", required=True, help="the node's database URL or SQLite file")
    audit.add_argument("--root", required=True, help="the national root certificate (PEM)")
    audit.add_argument("--json", action="store_true", help="print JSON instead of text")
    audit.set_defaults(run=_audit)
