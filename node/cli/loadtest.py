"""``hotline loadtest surge``: the load test ops run before 3·15 (docs/loadtest.md).

Why this exists: the benchmarks (``hotline bench``) time single operations; ops need one
command that plays a surge against a whole network with Locust and says pass or fail on the
thresholds they set. This module only parses the flags; the run is ``loadtest.surge``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from node.cli.catalogue import Audience, Catalogue


def _threshold(text: str) -> tuple[str, float]:
    """``TYPE=MS`` as a pair (a request name or its prefix, milliseconds)."""
    name, sep, ms = text.partition("=")
    try:
        value = float(ms)
    except ValueError:
        value = -1.0
    if not sep or not name or value < 0:
        raise argparse.ArgumentTypeError(f"expected TYPE=MS, e.g. RegisterTicket=500, not {text!r}")
    return name, value


def _surge(args: argparse.Namespace) -> int:
    from loadtest.surge import DEFAULT_P99_MS, SurgeSettings, run_surge

    settings = SurgeSettings(
        shape=args.shape,
        users=args.users,
        minutes=args.minutes,
        csv_dir=args.csv,
        html=args.html,
        p99_ms=dict(args.p99) if args.p99 else dict(DEFAULT_P99_MS),
        max_failure_ratio=args.max_failure_ratio,
        allow_shed=tuple(args.allow_shed),
        catch_up_seconds=args.catch_up_seconds,
        network_file=args.network,
        pool=args.pool,
        locust_args=tuple(args.locust_arg),
        workers=args.workers,
    )
    return run_surge(settings)


def _storm(args: argparse.Namespace) -> int:
    from loadtest.storm import run_storm

    return run_storm(
        counties=args.counties,
        events=args.events,
        workers=args.workers,
        max_pushes=args.max_pushes,
        intake_rate=args.intake_rate,
        p99_ms=args.p99_ms,
        seconds=args.seconds,
    )


def add_loadtest_commands(catalogue: Catalogue) -> None:
    """Register ``loadtest surge`` and ``loadtest storm``."""
    family = catalogue.family(
        "loadtest", summary="load tests of a whole network (docs/loadtest.md)"
    )
    surge = family.command(
        Audience.TOOLS,
        "surge",
        summary="play a surge shape (normal, 315, epidemic) with Locust users; pass or fail",
        examples=[
            "hotline loadtest surge --shape 315 --users 10 --minutes 1 --csv reports",
            "hotline loadtest surge --p99 RegisterTicket=500 --allow-shed GetQueue",
            "hotline loadtest surge --shape 315 --users 20 --workers 2",
        ],
        run=_surge,
    )
    surge.add_argument("--shape", default="315", help="normal, 315 or epidemic (default 315)")
    surge.add_argument("--users", type=int, default=10, help="users at the peak (default 10)")
    surge.add_argument("--minutes", type=float, default=1.0, help="length of the run (default 1)")
    surge.add_argument(
        "--csv", type=Path, default=None, help="folder for Locust's CSV (default surge-reports)"
    )
    surge.add_argument("--html", type=Path, default=None, help="Locust's HTML report file")
    surge.add_argument(
        "--p99",
        type=_threshold,
        action="append",
        default=[],
        metavar="TYPE=MS",
        help="p99 limit for requests whose name starts with TYPE (default RegisterTicket=1000)",
    )
    surge.add_argument(
        "--max-failure-ratio", type=float, default=0.01, help="failed/answered (default 0.01)"
    )
    surge.add_argument(
        "--allow-shed",
        action="append",
        default=[],
        metavar="TYPE",
        help="request names (prefix) the node may shed with RESOURCE_EXHAUSTED",
    )
    surge.add_argument(
        "--catch-up-seconds",
        type=float,
        default=30.0,
        help="time every holder has to hold its tickets after the load (default 30)",
    )
    surge.add_argument(
        "--network", type=Path, default=None, help="a running network's description (JSON)"
    )
    surge.add_argument(
        "--pool", type=int, default=2, help="people per role, one per Locust worker (default 2)"
    )
    surge.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="run Locust as a master with N worker processes on this machine (0: one process)",
    )
    surge.add_argument(
        "--locust-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="passed to Locust, e.g. --locust-arg=--master --locust-arg=--expect-workers=2",
    )
    storm = family.command(
        Audience.TOOLS,
        "storm",
        summary="many counties reconnect to one city at once while intake goes on there",
        examples=["hotline loadtest storm --counties 20 --events 200", "hotline loadtest storm"],
        run=_storm,
    )
    storm.add_argument("--counties", type=int, default=50, metavar="N", help="counties (1-69)")
    storm.add_argument(
        "--events", type=int, default=200, metavar="N", help="backlog of each county"
    )
    storm.add_argument(
        "--workers", type=int, default=2, metavar="N", help="processes the counties run in"
    )
    storm.add_argument(
        "--max-pushes",
        type=int,
        default=0,
        metavar="N",
        help="the city's pushes at once (default 0: one per core, at least two)",
    )
    storm.add_argument(
        "--intake-rate",
        type=float,
        default=20.0,
        metavar="PER_S",
        help="registrations a second at the city during the storm",
    )
    storm.add_argument(
        "--p99-ms",
        type=float,
        default=500.0,
        metavar="MS",
        help="most intake p99 during the storm for a pass",
    )
    storm.add_argument(
        "--seconds", type=float, default=120.0, metavar="S", help="longest the storm may last"
    )
