"""The one way a tool opens a channel to a node's client port: TLS, checked against the root.

A node serves its client port over TLS with its own certificate from the hierarchy (the one its
peer port uses; no client certificate is asked: officers prove who they are with a session
token). Every caller of the client port (the CLI, ``NodeClient``, the demo, the benchmarks, the
tests) opens its channel here, so that none of them can forget to check the node:

* the certificate must chain to the national root the caller trusts (``root_pem``: the
  hierarchy's ``root.pem``, the file ``hotline pki init-root`` made and every node's data folder
  holds a copy of);
* it must carry the name of the unit the caller expects (``u620102.hotline``) when the caller
  knows it (a saved session, a test's world), else the name every node carries
  (``node.hotline``, ``sync.pki.ANY_NODE_NAME``): a genuine node of the hierarchy, whichever.

A target may name several processes of one hub (``ipv4:10.0.0.5:7200,10.0.0.6:7200``,
docs/scaling.md): the channel then spreads its calls over them round-robin instead of gRPC's
default of sticking to the first that answers, and goes on through the others when one stops.

A plain-text client cannot talk to the client port at all, and a client trusting another root
fails the handshake (UNAVAILABLE), before any of its bytes reach a servicer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc import aio

from sync.pki import ANY_NODE_NAME, PkiError, cert_pem, dns_name, load_certificates

ROOT_VARIABLE = "HOTLINE_ROOT"
"""Names the national root certificate file a tool trusts (``--root`` on the command line)."""

ChannelOptions = Sequence[tuple[str, int | str]]


def read_root(path: str | Path) -> bytes:
    """The national root certificate in ``path``, as PEM; ``PkiError`` when it holds none."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise PkiError(f"cannot read the root certificate {file}: {exc.strerror}") from None
    try:
        certificates = load_certificates(data)
    except (PkiError, ValueError):
        certificates = []
    if not certificates:
        raise PkiError(f"{file} holds no certificate (expected the national root, root.pem)")
    return cert_pem(certificates[0])


def server_name(unit: str = "") -> str:
    """The name the node's certificate must carry: its unit's, or any node's."""
    return dns_name(unit) if unit else ANY_NODE_NAME


def _options(target: str, unit: str, options: ChannelOptions) -> list[tuple[str, int | str]]:
    chosen: list[tuple[str, int | str]] = [("grpc.ssl_target_name_override", server_name(unit))]
    if "," in target:  # several addresses: one hub's processes (module docstring)
        chosen.append(("grpc.lb_policy_name", "round_robin"))
    return [*chosen, *options]


def client_channel(
    target: str, root_pem: bytes, *, unit: str = "", options: ChannelOptions = ()
) -> grpc.Channel:
    """A channel to the client port at ``target``, checked against ``root_pem`` (and ``unit``)."""
    credentials = grpc.ssl_channel_credentials(root_certificates=root_pem)
    return grpc.secure_channel(target, credentials, options=_options(target, unit, options))


def client_aio_channel(
    target: str, root_pem: bytes, *, unit: str = "", options: ChannelOptions = ()
) -> aio.Channel:
    """``client_channel`` for asyncio callers (the benchmarks)."""
    credentials = grpc.ssl_channel_credentials(root_certificates=root_pem)
    return aio.secure_channel(target, credentials, options=_options(target, unit, options))
