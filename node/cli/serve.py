"""``hotline serve``: run a node of any level until SIGTERM or Ctrl-C, then stop it cleanly.

Settings come from flags, ``HOTLINE_*`` variables and a TOML file (``node.app.settings``).
Before anything in the data folder is opened the process locks it (``node.app.data_folder``),
so a second process on the same folder stops at once with one line naming the first, unless
the node's database is PostgreSQL: then several processes of one hub may serve one folder and
one database side by side (docs/scaling.md), each starting in turn. Ports
already taken are refused the same way before the node starts. On SIGTERM or SIGINT the node
stops taking calls, drains (``Node.stop``) and the process exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import ipaddress
import json
import os
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from core.units import UnitLevel
from node.app.data_folder import hold_data_folder, hold_start
from node.app.settings import NodeSettings, build_settings
from node.cli.catalogue import Audience, Catalogue, required_flags
from node.cli.terms import choices_with_terms

if TYPE_CHECKING:
    from node.app.runtime import Node

FLAGS = (
    "level",
    "unit",
    "parent",
    "db",
    "port",
    "peer_port",
    "metrics_port",
    "parent_unit",
    "host",
    "data_dir",
    "unit_name",
    "sync_interval",
    "sweep_interval",
    "sync_batch",
    "max_calls",
    "max_pushes",
    "wait_limit",
    "clock_speed",
    "clock_offset",
    "clock_start",
    "clock_anchor",
)
"""The flags that are settings (``NodeSettings`` fields of the same name)."""


def check_port_free(host: str, port: int, flag: str) -> None:
    """Refuse a port another program listens on, in words (before gRPC tries and logs)."""
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host}: {exc.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
                raise OSError(
                    f"port {port} on {host} is already in use (another node or program listens "
                    f"there): choose another {flag}, or stop that program"
                ) from None


def is_loopback(host: str) -> bool:
    """True when every address ``host`` stands for is this machine's own (127.0.0.0/8, ::1);
    a wildcard (0.0.0.0, ::) or any other address reaches the network."""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses
    )


def exposure_warning(host: str, port: int) -> str | None:
    """One line saying what a client port bound beyond loopback exposes (None on loopback).

    The client port speaks TLS and serves nothing but sign-in, health and reflection without a
    session token; what the network still reaches is sign-in itself (guessing, held back by
    the lockout) and the names of the services.
    """
    if is_loopback(host):
        return None
    return (
        f"the client port {host}:{port} is reachable from the network (TLS; every call but "
        "sign-in, health and reflection needs an officer's session token): anyone who can "
        "reach it can try to sign in (wrong tries lock the account) and list the services; "
        "bind it to 127.0.0.1 (--host) or keep it behind a firewall if officers do not call "
        "it from other machines"
    )


def metrics_exposure_warning(host: str, port: int) -> str | None:
    """One line saying what a metrics port bound beyond loopback exposes (None on loopback)."""
    if is_loopback(host):
        return None
    return (
        f"the metrics port {host}:{port} answers anyone who reaches it, in plain HTTP: how busy "
        "the node is, its peers and its alerts by kind (no ticket, no person); keep it behind a "
        "firewall that lets only the Prometheus server in"
    )


def _write_port_file(path: str, port: int, peer_port: int, metrics_port: int) -> None:
    tmp = Path(path + ".tmp")
    ports = {"port": port, "peer_port": peer_port, "metrics_port": metrics_port}
    tmp.write_text(json.dumps(ports), encoding="utf-8")
    tmp.replace(path)


def _serve(args: argparse.Namespace) -> int:
    from node.app.levels import profile_of
    from node.app.wiring import build_node

    flags = {name: getattr(args, name) for name in FLAGS}
    settings = build_settings(flags, os.environ, Path(args.config) if args.config else None)
    shared = is_postgres(settings.database_url)
    with hold_data_folder(settings.data_dir, shared=shared):
        check_port_free(settings.host, settings.port, "--port")
        check_port_free(settings.host, settings.peer_port, "--peer-port")
        if settings.metrics_port > 0:
            check_port_free(settings.host, settings.metrics_port, "--metrics-port")
        with hold_start(settings.data_dir):
            node = build_node(settings, profile_of(settings.level))
        return asyncio.run(_run(node, settings, args.port_file))


def is_postgres(url: str) -> bool:
    """True for a PostgreSQL URL: the one backend several processes of a node may share."""
    return url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


async def _run(node: Node, settings: NodeSettings, port_file: str | None) -> int:
    """Start ``node``, serve until SIGTERM or SIGINT, stop it; returns the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        port = await node.start()
    except BaseException as exc:
        # Undo what started (a server left running would be shut down by the garbage
        # collector on a closed loop: "Event loop is closed"); the first error is the one told.
        with contextlib.suppress(Exception):
            await node.stop(grace=0)
        if isinstance(exc, RuntimeError) and "bind" in str(exc):  # a port taken since the check
            raise OSError(f"cannot listen on {settings.host}: {exc}") from None
        raise
    if port_file:
        _write_port_file(port_file, port, node.peer_port, node.metrics_port)
    peers = f", peers on {settings.host}:{node.peer_port} (mTLS)" if node.peer_port else ""
    metrics = (
        f", metrics on http://{settings.host}:{node.metrics_port}/metrics"
        if node.metrics_port
        else ""
    )
    print(
        f"hotline: {settings.level.value} node {node.identity.node_id} ({node.own_unit.name}) "
        f"serving on {settings.host}:{port}{peers}{metrics}, database {node.db.backend}",
        flush=True,
    )
    warnings = [exposure_warning(settings.host, port)]
    if node.metrics_port:
        warnings.append(metrics_exposure_warning(settings.host, node.metrics_port))
    for warning in warnings:
        if warning:
            print(f"hotline: WARNING: {warning}", flush=True)
    await stop.wait()
    await node.stop()
    print(f"hotline: node {node.identity.node_id} stopped", flush=True)
    return 0


def add_serve_command(catalogue: Catalogue) -> None:
    """Register ``serve``."""
    serve = catalogue.command(
        Audience.ADMINISTRATORS,
        "serve",
        summary="run a node of any level until SIGTERM or Ctrl-C (it then drains and exits 0)",
        description="Settings come from flags, HOTLINE_* environment variables (HOTLINE_LEVEL, "
        "HOTLINE_PORT, ...) and a TOML file (--config), flags first. The node must be enrolled "
        "first (hotline pki request / issue / install). Only a national node runs without "
        "--parent.",
        examples=[
            "hotline serve --level county --unit 620102 --data-dir var/chengguan "
            "--port 7300 --peer-port 7301 --parent 127.0.0.1:7201",
            "hotline serve --config /etc/hotline/node.toml",
        ],
        run=_serve,
    )
    need = required_flags(
        serve, "required (as a flag, a HOTLINE_* variable or in the --config file)"
    )
    need.add_argument(
        "--level",
        choices=[lv.value for lv in UnitLevel],
        metavar="LEVEL",
        help=f"the node's level: {choices_with_terms(UnitLevel)}",
    )
    need.add_argument(
        "--unit", metavar="CODE", help="the unit's code: 6 digits (GB/T 2260), 9 for a station"
    )
    need.add_argument(
        "--data-dir",
        dest="data_dir",
        metavar="DIR",
        help="the node's folder: its keys, certificates and (by default) SQLite database; "
        "one process at a time",
    )
    need.add_argument(
        "--parent",
        metavar="HOST:PORT",
        help="the parent node's peer port (the address after 'peers on' in its start line); "
        "required at every level but national",
    )
    serve.add_argument(
        "--port", type=int, metavar="PORT", help="client port for officers and tools (0: any free)"
    )
    serve.add_argument(
        "--peer-port",
        dest="peer_port",
        type=int,
        metavar="PORT",
        help="mutual-TLS port for child nodes (0: any free; stations have none)",
    )
    serve.add_argument(
        "--metrics-port",
        dest="metrics_port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics over plain HTTP on this port of --host (0: any free; "
        "default -1: none); see docs/operations.md, Metrics",
    )
    serve.add_argument("--host", metavar="ADDRESS", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--db",
        metavar="URL",
        help="database URL, e.g. postgresql://hotline@db.example/chengguan "
        "(default: SQLite node.db in the data folder)",
    )
    serve.add_argument(
        "--parent-unit",
        dest="parent_unit",
        metavar="CODE",
        help="the parent's unit code when it is not the usual one (checked against its "
        "certificate)",
    )
    serve.add_argument(
        "--unit-name",
        dest="unit_name",
        metavar="NAME",
        help="the name of a station new to the node",
    )
    serve.add_argument(
        "--sync-interval",
        dest="sync_interval",
        type=float,
        metavar="SECONDS",
        help="seconds between replication rounds with the parent (default 2)",
    )
    serve.add_argument(
        "--sweep-interval",
        dest="sweep_interval",
        type=float,
        metavar="SECONDS",
        help="seconds between deadline sweeps (default 30)",
    )
    serve.add_argument(
        "--sync-batch",
        dest="sync_batch",
        type=int,
        metavar="N",
        help="events per replication batch (default 500)",
    )
    serve.add_argument(
        "--max-calls",
        dest="max_calls",
        type=int,
        metavar="N",
        help="most calls each port serves at once; more are refused RESOURCE_EXHAUSTED "
        "with a retry hint (default 256)",
    )
    serve.add_argument(
        "--max-pushes",
        dest="max_pushes",
        type=int,
        metavar="N",
        help="most children's pushes taken in at once; more are refused RESOURCE_EXHAUSTED "
        "with a retry hint (default 0: one per core, at least two)",
    )
    serve.add_argument(
        "--wait-limit",
        dest="wait_limit",
        type=float,
        metavar="SECONDS",
        help="longest a call waits for the node's writer or pool (default 30)",
    )
    # Drill clocks (docs/drills.md): every node of a drill gets the same three values.
    serve.add_argument(
        "--clock-speed",
        dest="clock_speed",
        type=float,
        metavar="X",
        help="node seconds per real second (drills: 86400 runs a day a second)",
    )
    serve.add_argument(
        "--clock-start",
        dest="clock_start",
        metavar="TIME",
        help="drill time at the anchor, ISO-8601 with offset (2026-12-01T10:00+08:00)",
    )
    serve.add_argument(
        "--clock-anchor",
        dest="clock_anchor",
        type=float,
        metavar="EPOCH",
        help="real epoch seconds the drill clock runs from, the same on every node "
        "(default: the node's start)",
    )
    serve.add_argument(
        "--clock-offset",
        dest="clock_offset",
        type=float,
        metavar="SECONDS",
        help="seconds added to real time (not with --clock-start)",
    )
    serve.add_argument("--config", metavar="FILE", help="a TOML file of settings")
    serve.add_argument(
        "--port-file",
        dest="port_file",
        metavar="FILE",
        help="write the bound ports here as JSON (for scripts using port 0)",
    )
