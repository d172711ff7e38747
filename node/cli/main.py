"""The ``hotline`` command: serve a node, act on tickets, administer, run the demo and benchmarks.

This is an entry point: it alone reads ``os.environ`` and turns flags into settings and calls.
Every failure ends with a one-line reason on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import DomainError
from core.officers import Role
from core.units import UnitLevel
from node.app.settings import build_settings
from node.cli.pki import add_pki_commands
from node.cli.rules import add_rules_commands
from node.cli.sync import add_sync_commands
from node.cli.tickets import add_ticket_commands
from node.edge.client import CallError, NodeClient
from sync.codec import enum_member, enum_number
from sync.errors import StorageError
from sync.identity import IdentityError
from sync.pki import PkiError

log = logging.getLogger("hotline")


def _serve(args: argparse.Namespace) -> int:
    from node.app.levels import profile_of
    from node.app.wiring import build_node

    flags = {
        "level": args.level,
        "unit": args.unit,
        "parent": args.parent,
        "db": args.db,
        "port": args.port,
        "peer_port": args.peer_port,
        "parent_unit": args.parent_unit,
        "host": args.host,
        "data_dir": args.data_dir,
        "unit_name": args.unit_name,
        "sync_interval": args.sync_interval,
        "sweep_interval": args.sweep_interval,
        "sync_batch": args.sync_batch,
        "clock_speed": args.clock_speed,
        "clock_offset": args.clock_offset,
        "clock_start": args.clock_start,
        "clock_anchor": args.clock_anchor,
    }
    settings = build_settings(flags, os.environ, Path(args.config) if args.config else None)
    node = build_node(settings, profile_of(settings.level))

    async def main() -> None:
        port = await node.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if args.port_file:
            tmp = Path(args.port_file + ".tmp")
            ports = {"port": port, "peer_port": node.peer_port}
            tmp.write_text(json.dumps(ports), encoding="utf-8")
            tmp.replace(args.port_file)
        print(
            f"hotline: {settings.level.value} node {node.identity.node_id} "
            f"({node.own_unit.name}) serving on {settings.host}:{port}"
            + (f", peers on {settings.host}:{node.peer_port} (mTLS)" if node.peer_port else "")
            + ", "
            f"database {node.db.backend}",
            flush=True,
        )
        await stop.wait()
        await node.stop()

    asyncio.run(main())
    return 0


def _officer(args: argparse.Namespace) -> int:
    roles = [enum_number(Role(r)) for r in args.role]
    with NodeClient(args.node) as client:
        record = client.add_officer(args.id, args.name, args.unit, roles)
    print(f"officer {record.officer_id} {record.name} on unit {record.unit_code}")
    return 0


def _unit(args: argparse.Namespace) -> int:
    with NodeClient(args.node) as client:
        record = client.add_unit(
            args.code, args.name, enum_number(UnitLevel(args.level)), args.parent
        )
    print(f"unit {record.code} {record.name}")
    return 0


def _info(args: argparse.Namespace) -> int:
    with NodeClient(args.node) as client:
        info = client.info()
    level = enum_member(UnitLevel, info.level, "level")
    print(
        f"{info.node_id}: {info.unit_name} ({level.value}), key {info.key_id[:16]}, "
        f"{info.events} events, {info.tickets} tickets, {info.database}"
    )
    if info.parent:
        s = info.parent_status
        print(
            f"  parent {s.peer}: own chain {s.own_seq}, parent holds {s.pushed_seq}, "
            f"pull cursor {s.pull_cursor}, last error: {s.last_error or 'none'}"
        )
    return 0


def _projection(args: argparse.Namespace) -> int:
    from node.app.blocking import BlockingPool
    from node.desks.roster import Roster
    from node.storage.database import Database
    from node.views.obligations import default_rules
    from node.views.tickets import TicketProjection

    db = Database.open(args.db)
    blocking = BlockingPool(1)
    try:
        own = Roster(db, args.unit, blocking).own_unit()
        projection = TicketProjection(own, default_rules())
        if args.action == "rebuild":
            with db.write() as conn:
                count = projection.rebuild(conn)
            print(f"rebuilt {count} ticket(s) from the log")
            return 0
        with db.read() as conn:
            differing = projection.differences(conn)
        for ticket_id in differing:
            print(f"differs: {ticket_id}")
        print(
            "projection agrees with the log"
            if not differing
            else f"{len(differing)} ticket(s) differ"
        )
        return 1 if differing else 0
    finally:
        blocking.close()
        db.close()


def _demo(args: argparse.Namespace) -> int:
    from node.devnet.demo.run import run_demo

    return run_demo(keep=args.keep)


def _bench(args: argparse.Namespace) -> int:
    from loadtest.intake_bench import run_intake_bench

    return run_intake_bench(seconds=args.seconds, clients=args.clients)


def _bench_sweep(args: argparse.Namespace) -> int:
    from loadtest.sweep_bench import run_sweep_bench

    return run_sweep_bench(obligations_total=args.obligations, due=args.due, pg=args.pg)


def _bench_sync(args: argparse.Namespace) -> int:
    from loadtest.sync_bench import run_sync_bench

    return run_sync_bench(events=args.events, batch=args.batch)


def parser() -> argparse.ArgumentParser:
    """The ``hotline`` argument parser."""
    top = argparse.ArgumentParser(prog="hotline", description="The 12315 network node and tools.")
    top.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run a node of any level")
    serve.add_argument("--level", choices=[lv.value for lv in UnitLevel])
    serve.add_argument("--unit", help="unit code (6 digits; 9 for a station)")
    serve.add_argument("--parent", help="parent's peer port, HOST:PORT")
    serve.add_argument("--parent-unit", dest="parent_unit", help="parent's unit code, if unusual")
    serve.add_argument(
        "--peer-port",
        dest="peer_port",
        type=int,
        help="mutual-TLS port for children (0 = any free port)",
    )
    serve.add_argument("--db", help="database URL (default: SQLite in the data folder)")
    serve.add_argument("--port", type=int, help="client port (0 = any free port)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--data-dir", dest="data_dir", help="folder for the key and database")
    serve.add_argument("--unit-name", dest="unit_name", help="name of a new station")
    serve.add_argument("--sync-interval", dest="sync_interval", type=float)
    serve.add_argument(
        "--sweep-interval",
        dest="sweep_interval",
        type=float,
        help="seconds between escalation sweeps",
    )
    serve.add_argument("--sync-batch", dest="sync_batch", type=int, help="events per batch")
    # Drill clocks (docs/drills.md): every node of a drill gets the same three values.
    serve.add_argument(
        "--clock-speed",
        dest="clock_speed",
        type=float,
        help="node seconds per real second (drills: e.g. 86400, a day a second)",
    )
    serve.add_argument(
        "--clock-start",
        dest="clock_start",
        help="drill time at the anchor, ISO-8601 with offset (2026-12-01T10:00+08:00)",
    )
    serve.add_argument(
        "--clock-anchor",
        dest="clock_anchor",
        type=float,
        help="real epoch seconds the drill clock runs from, the same on every node "
        "(default: the node's start; before it the clock stands at --clock-start)",
    )
    serve.add_argument(
        "--clock-offset",
        dest="clock_offset",
        type=float,
        help="seconds added to real time (not with --clock-start)",
    )
    serve.add_argument("--config", help="TOML file with settings")
    serve.add_argument("--port-file", dest="port_file", help="write the bound ports here (JSON)")
    serve.set_defaults(run=_serve)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--node", required=True, help="HOST:PORT of the node to talk to")
    common.add_argument("--officer", default="", help="acting officer's roster id")
    add_ticket_commands(sub, common)
    add_pki_commands(sub)
    add_sync_commands(sub, common)
    add_rules_commands(sub, common)

    officer = sub.add_parser("add-officer", parents=[common], help="put an officer on a roster")
    officer.add_argument("--id", required=True)
    officer.add_argument("--name", required=True)
    officer.add_argument("--unit", required=True)
    officer.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    officer.set_defaults(run=_officer)

    unit = sub.add_parser("add-unit", parents=[common], help="make a station known to a node")
    unit.add_argument("--code", required=True)
    unit.add_argument("--name", required=True)
    unit.add_argument("--level", required=True, choices=[lv.value for lv in UnitLevel])
    unit.add_argument("--parent", required=True)
    unit.set_defaults(run=_unit)

    sub.add_parser(
        "info", parents=[common], help="a node's identity and replication state"
    ).set_defaults(run=_info)

    proj = sub.add_parser("projection", help="rebuild or check the ticket table from the log")
    proj.add_argument("action", choices=["rebuild", "check"])
    proj.add_argument("--db", required=True, help="database URL or SQLite file")
    proj.add_argument("--unit", required=True, help="the node's unit code")
    proj.set_defaults(run=_projection)

    demo = sub.add_parser("demo", help="a five-level network on loopback, end to end")
    demo.add_argument("--keep", action="store_true", help="keep the temporary folder")
    demo.set_defaults(run=_demo)

    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    intake = bench_sub.add_parser("intake", help="RegisterTicket against a no-op call")
    intake.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    intake.add_argument("--clients", type=int, default=32, help="concurrent callers")
    intake.set_defaults(run=_bench)
    sync_bench = bench_sub.add_parser("sync", help="a parent taking in a week's county backlog")
    sync_bench.add_argument("--events", type=int, default=50_000, help="size of the backlog")
    sync_bench.add_argument("--batch", type=int, default=1000, help="events per batch")
    sync_bench.set_defaults(run=_bench_sync)
    sweep_bench = bench_sub.add_parser("sweep", help="one escalation sweep, 200,000 obligations")
    sweep_bench.add_argument("--obligations", type=int, default=200_000, help="open obligations")
    sweep_bench.add_argument("--due", type=int, default=2_000, help="how many of them are due")
    sweep_bench.add_argument("--pg", default="", help="PostgreSQL server URL (no database)")
    sweep_bench.set_defaults(run=_bench_sweep)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hotline`` command; returns the exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        return int(args.run(args))
    except CallError as exc:
        print(f"hotline: {exc.code}: {exc.message}", file=sys.stderr)
    except DomainError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
    except StorageError as exc:
        print(f"hotline: storage: {exc}", file=sys.stderr)
    except (PkiError, IdentityError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
    except (OSError, ValueError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
