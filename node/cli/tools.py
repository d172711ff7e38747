"""Ops tools: the demo network and the benchmarks (docs/benchmarks.md).

``hotline demo`` runs a five-level network of real processes on loopback, end to end;
``hotline bench intake|sync|sweep`` measure registration, a parent taking in a backlog, an
escalation sweep, and many counties reconnecting at once; ``hotline bench hubs`` what a ticket
costs a hub of one or more processes on PostgreSQL (docs/scaling.md). None of them touches a
real node.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from node.cli.catalogue import Audience, Catalogue


def _demo(args: argparse.Namespace) -> int:
    from node.devnet.demo.run import run_demo

    keep_data = Path(args.keep_data) if args.keep_data else None
    return run_demo(keep=args.keep, keep_data=keep_data)


def _bench_intake(args: argparse.Namespace) -> int:
    from loadtest.intake_bench import Options, run_intake_bench

    return run_intake_bench(
        Options(
            seconds=args.seconds,
            clients=args.clients,
            half_seconds=args.half_seconds,
            preload=args.preload,
            pg=args.pg,
            window=args.window,
        )
    )


def _bench_sweep(args: argparse.Namespace) -> int:
    from loadtest.sweep_bench import run_sweep_bench

    return run_sweep_bench(obligations_total=args.obligations, due=args.due, pg=args.pg)


def _bench_sync(args: argparse.Namespace) -> int:
    from loadtest.sync_bench import run_sync_bench

    return run_sync_bench(events=args.events, batch=args.batch)


def _bench_hubs(args: argparse.Namespace) -> int:
    from loadtest.hub_scale import run_hub_scale_bench

    return run_hub_scale_bench(
        pg=args.pg, hubs=args.hubs, seconds=args.seconds, clients=args.clients
    )


def add_tool_commands(catalogue: Catalogue) -> None:
    """Register ``demo`` and ``bench intake|sync|sweep``."""
    demo = catalogue.command(
        Audience.TOOLS,
        "demo",
        summary="a five-level network on loopback, end to end (about 25 s; `make demo`)",
        examples=["hotline demo", "hotline demo --keep", "hotline demo --keep-data var/demo"],
        run=_demo,
    )
    demo.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (data and node logs)"
    )
    demo.add_argument(
        "--keep-data",
        metavar="DIR",
        help="run in DIR (new or empty) and keep every node's data folder there for inspection",
    )

    bench = catalogue.family("bench", summary="benchmarks (docs/benchmarks.md)")
    intake = bench.command(
        Audience.TOOLS,
        "intake",
        summary="RegisterTicket throughput against a no-op call",
        examples=[
            "hotline bench intake --seconds 5 --clients 16",
            "hotline bench intake --preload 200000 --half-seconds 300 "
            "--pg postgresql://postgres@127.0.0.1",
        ],
        run=_bench_intake,
    )
    intake.add_argument(
        "--seconds", type=float, default=15.0, metavar="S", help="length of each phase"
    )
    intake.add_argument("--clients", type=int, default=32, metavar="N", help="concurrent callers")
    intake.add_argument(
        "--half-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="length of the half-rate phase (default: --seconds)",
    )
    intake.add_argument(
        "--preload",
        type=int,
        default=0,
        metavar="N",
        help="register N tickets offline, through the node's writer, before the hub starts",
    )
    intake.add_argument(
        "--pg",
        default="",
        metavar="URL",
        help="keep the hub's store on this PostgreSQL server (a scratch database; no name)",
    )
    intake.add_argument(
        "--window",
        type=float,
        default=5.0,
        metavar="S",
        help="report the half-rate latency per window of S seconds",
    )
    sync = bench.command(
        Audience.TOOLS,
        "sync",
        summary="a parent taking in a county's backlog",
        examples=["hotline bench sync --events 10000"],
        run=_bench_sync,
    )
    sync.add_argument("--events", type=int, default=50_000, metavar="N", help="size of the backlog")
    sync.add_argument("--batch", type=int, default=1000, metavar="N", help="events per batch")
    sweep = bench.command(
        Audience.TOOLS,
        "sweep",
        summary="one escalation sweep over open obligations (SQLite, and PostgreSQL with --pg)",
        examples=["hotline bench sweep --obligations 20000 --pg postgresql://postgres@127.0.0.1"],
        run=_bench_sweep,
    )
    sweep.add_argument(
        "--obligations", type=int, default=200_000, metavar="N", help="open obligations"
    )
    sweep.add_argument("--due", type=int, default=2_000, metavar="N", help="how many are due")
    sweep.add_argument(
        "--pg", default="", metavar="URL", help="PostgreSQL server URL (no database name)"
    )
    hubs = bench.command(
        Audience.TOOLS,
        "hubs",
        summary="a province hub of 1..N processes on one PostgreSQL database: tickets/s, "
        "CPU, WAL and rows per ticket, the head lock's ceiling (docs/scaling.md)",
        examples=["hotline bench hubs --pg postgresql://postgres@127.0.0.1 --hubs 2"],
        run=_bench_hubs,
    )
    hubs.add_argument(
        "--pg", default="", metavar="URL", help="PostgreSQL server URL (no database name)"
    )
    hubs.add_argument("--hubs", type=int, default=2, metavar="N", help="most hub processes")
    hubs.add_argument(
        "--seconds", type=float, default=10.0, metavar="S", help="length of each phase"
    )
    hubs.add_argument("--clients", type=int, default=32, metavar="N", help="concurrent callers")
