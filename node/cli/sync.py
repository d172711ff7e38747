"""``hotline sync``, ``hotline alerts`` and ``hotline quarantine``: replication for administrators.

What an administrator runs to see replication and deal with what it found: a round now, the
lag per peer, the open alerts (refused or tampered events, forks, revocations) and releasing an
origin quarantined after a fork. All of it on a node's client port, no officer needed.
"""

from __future__ import annotations

import argparse
import sys
import time

from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import age, china_time
from node.cli.session_file import node_client
from proto.hotline.v1 import admin_pb2

COUNTY = "--node 127.0.0.1:7300"


def status_lines(status: admin_pb2.SyncStatus, now_ms: int) -> list[str]:
    """``sync status`` as text: one line per peer, then quarantine and alert counts."""
    lines = []
    for peer in status.peers:
        if peer.role == "parent":
            lines.append(
                f"parent {peer.peer} ({peer.node_id or 'not met yet'}): "
                f"{peer.unsent_events} events not yet up "
                f"(oldest {age(peer.oldest_unsent_ms, now_ms)} old), "
                f"{peer.unpulled_events} not yet down; last success "
                f"{china_time(peer.last_success_ms)}; last error: {peer.last_error or 'none'}"
                + (f" ({peer.failures} failures in a row)" if peer.failures else "")
            )
        else:
            lines.append(
                f"child {peer.node_id}: {peer.unpulled_events} feed events not yet pulled; "
                f"last contact {china_time(peer.last_success_ms)}"
            )
    if not status.peers:
        lines.append("no peers yet")
    for q in status.quarantined:
        lines.append(f"QUARANTINED {q.origin_node} since {china_time(q.since_ms)}: {q.reason}")
    lines.append(f"{status.open_alerts} open alerts, {status.refused_events} events refused")
    return lines


def _sync_now(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        report = client.sync_now()
    if report.error:
        print(f"hotline: sync failed: {report.error}", file=sys.stderr)
        return 1
    print(f"pushed {report.pushed}, pulled {report.pulled}, rejected {report.rejected}")
    return 0


def _sync_status(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        while True:
            status = client.sync_status()
            for line in status_lines(status, status.now_ms or int(time.time() * 1000)):
                print(line)
            if not args.watch:
                return 0
            print("--", flush=True)
            time.sleep(args.watch)


def _alerts(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        alerts = client.alerts(args.limit)
    for alert in alerts:
        again = (
            f" (seen {alert.repeats} times, last {china_time(alert.last_ms)})"
            if alert.repeats > 1
            else ""
        )
        print(
            f"#{alert.id} {china_time(alert.raised_ms)} {alert.kind} {alert.subject}: "
            f"{alert.detail}{again}"
        )
    if not alerts:
        print("no open alerts")
    return 0


def _release(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        client.release_quarantine(args.origin, args.note)
    print(f"{args.origin} released; its fork evidence stays on record")
    return 0


def add_sync_commands(catalogue: Catalogue) -> None:
    """Register ``sync now``, ``sync status``, ``alerts`` and ``quarantine release``."""
    sync = catalogue.family(
        "sync", summary="replication with the parent: run a round now, or show how it stands"
    )
    now = sync.command(
        Audience.ADMINISTRATORS,
        "now",
        summary="run one replication round with the parent now (push up, pull down)",
        examples=[f"hotline sync now {COUNTY}"],
        run=_sync_now,
    )
    node_flags(now, officer=None)
    status = sync.command(
        Audience.ADMINISTRATORS,
        "status",
        summary="lag per peer (events not yet up or down), last error, quarantined origins",
        examples=[f"hotline sync status {COUNTY}", f"hotline sync status {COUNTY} --watch 2"],
        run=_sync_status,
    )
    node_flags(status, officer=None)
    status.add_argument(
        "--watch",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="print again every SECONDS until interrupted (Ctrl-C)",
    )

    alerts = catalogue.command(
        Audience.ADMINISTRATORS,
        "alerts",
        summary="open alerts: refused or tampered events, forks, revocations",
        examples=[f"hotline alerts {COUNTY}"],
        run=_alerts,
    )
    node_flags(alerts, officer=None)
    alerts.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N, newest first"
    )

    quarantine = catalogue.family(
        "quarantine", summary="origins held back after a fork (two chains signed by one node)"
    )
    release = quarantine.command(
        Audience.ADMINISTRATORS,
        "release",
        summary="let a quarantined origin in again, once the fork is dealt with",
        examples=[
            f'hotline quarantine release {COUNTY} --origin 620102001-e8dc9f --note "backup wiped"'
        ],
        run=_release,
    )
    node_flags(release, officer=None)
    required_flags(release).add_argument(
        "--origin", required=True, metavar="NODE_ID", help="the quarantined origin node id"
    )
    release.add_argument("--note", default="", help="what was done about the fork")
