"""``hotline serve-web``: the web front (the ODR portal and the consumer's page) next to a node.

The front is a client of the node's client port, like every tool (TLS checked against the
hierarchy's root, ``--root`` or HOTLINE_ROOT): it holds no rules, and every check and refusal
its pages show comes from the node (``web``). It serves on its own port, prints its address,
and runs until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from core.errors import InvalidInput
from node.cli.catalogue import Audience, Catalogue, required_flags
from node.cli.serve import check_port_free, is_loopback
from node.edge.channels import ROOT_VARIABLE, read_root
from sync.pki import PkiError


def _serve_web(args: argparse.Namespace) -> int:
    root_path = args.root or os.environ.get(ROOT_VARIABLE, "")
    if not root_path:
        raise PkiError(
            f"no national root to check {args.node} against: give --root FILE (the hierarchy's "
            f"root.pem; every node's data folder holds a copy) or {ROOT_VARIABLE}"
        )
    root = read_root(root_path)
    key = _front_key(args.front_key) if args.front_key else None
    if args.port:
        check_port_free(args.host, args.port, "--port")
    return asyncio.run(_run(args.node, root, args.host, args.port, args.unit, args.behind_tls, key))


def _front_key(path: str) -> bytes:
    """The node's web front key from ``path`` (its data folder's web-front.key)."""
    try:
        key = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput("--front-key", f"cannot read {path}: {exc.strerror}") from None
    if len(key) != 32:
        raise InvalidInput("--front-key", f"{path} is not a node's web-front.key")
    return key


async def _run(
    target: str,
    root: bytes,
    host: str,
    port: int,
    unit: str,
    behind_tls: bool,
    key: bytes | None,
) -> int:
    """Serve the front until SIGTERM or SIGINT; returns the exit status."""
    from web.app import make_app, start_web

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = make_app(target, root, unit=unit, secure=behind_tls, front_key=key)
    running = await start_web(app, host, port)
    print(f"hotline: web front for {target} serving on {running.url}", flush=True)
    if key is None:
        print(
            "hotline: WARNING: without --front-key (the node's web-front.key) the node counts "
            "every visitor as this front: its limits per caller (sign-in tries, complaints "
            "filed online) then hold all visitors together",
            flush=True,
        )
    if not is_loopback(host):
        print(
            f"hotline: WARNING: the web front on {host} is reachable from the network in plain "
            "HTTP: serve it behind a TLS proxy (with --behind-tls) or bind it to 127.0.0.1 "
            "(--host)",
            flush=True,
        )
    await stop.wait()
    await running.stop()
    print("hotline: web front stopped", flush=True)
    return 0


def add_serve_web_command(catalogue: Catalogue) -> None:
    """Register ``serve-web``."""
    command = catalogue.command(
        Audience.ADMINISTRATORS,
        "serve-web",
        summary="run the web front (ODR portal, consumer's page) next to a node until SIGTERM",
        description="Pages in Chinese for enterprise users (企业ODR工作台), consumers (消费者) and "
        "county officers (ODR企业监督); they call the node's client port as any tool does.",
        examples=[
            "hotline serve-web --node 127.0.0.1:7300 --root var/root.pem "
            "--front-key var/chengguan/web-front.key --port 8080",
        ],
        run=_serve_web,
    )
    need = required_flags(command)
    need.add_argument(
        "--node",
        required=True,
        metavar="HOST:PORT",
        help="the node's client port (the address after 'serving on' in its start line)",
    )
    command.add_argument(
        "--root",
        metavar="FILE",
        help=f"the hierarchy's national root certificate (root.pem; or {ROOT_VARIABLE})",
    )
    command.add_argument(
        "--unit", default="", metavar="CODE", help="the node's unit, checked in its certificate"
    )
    command.add_argument(
        "--host", default="127.0.0.1", help="address to serve the pages on (default loopback)"
    )
    command.add_argument(
        "--port", type=int, default=0, help="port to serve the pages on (0: any free one)"
    )
    command.add_argument(
        "--front-key",
        metavar="FILE",
        help="the node's web front key (web-front.key in its data folder, mode 0600): the "
        "node then limits and records each visitor, not the front",
    )
    command.add_argument(
        "--behind-tls",
        action="store_true",
        help="a TLS proxy on this machine serves the pages: mark the session cookie Secure, "
        "and take the visitor's address from the proxy's X-Forwarded-For (believed only from a "
        "loopback connection)",
    )
