"""What listens at a ``HOST:PORT``: a node's port (TLS), a plain-text port, or nothing.

A node has two ports, both TLS with its certificate: the client port (officers and tools, who
prove themselves with a session token) and the peer port (mutual TLS: its child nodes).
Pointing a caller at the wrong address fails inside gRPC with an error that names nothing
useful ("Socket closed", "Deadline Exceeded"). After such a failure the caller asks
``listener_kind``, which opens a TCP connection, sends a TLS ClientHello and looks at the first
bytes of the answer: a TLS record (handshake or alert) means a node's port (which of the two, or
a certificate the caller does not trust, the caller says in words); an HTTP/2 SETTINGS frame
(what a gRPC server without TLS sends first) means a plain-text port, which no node serves. A
connection closed without an answer (a proxy whose link is cut, another program) proves
nothing either way. Nothing is verified and no gRPC call is made; the probe only tells the
operator what they named.
"""

from __future__ import annotations

import contextlib
import enum
import socket
import ssl

PROBE_TIMEOUT = 2.0
"""Seconds the probe waits to connect and for the first bytes of an answer."""

_TLS_RECORD_TYPES = {0x15, 0x16}
"""First byte of a TLS record a server answers a ClientHello with: alert or handshake."""

_HTTP2_SETTINGS = 0x04
"""Type of the frame an HTTP/2 server opens with (its 4th byte: 3 of length, then the type)."""


class ListenerKind(enum.Enum):
    """What answered at an address."""

    TLS = "tls"  # answers a ClientHello in TLS: a node's client or peer port
    PLAIN = "plain"  # answers in HTTP/2 without TLS: not a node's port
    NOTHING = "nothing"  # connection refused: nothing listens there
    UNKNOWN = "unknown"  # no answer, another protocol, or the address does not resolve


def split_target(target: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``[V6]:PORT``) as host and port; ``ValueError`` when it is not one."""
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {target!r}")
    return host.strip("[]"), int(port)


def _client_hello() -> bytes:
    """The bytes of a TLS ClientHello (no certificate is checked: this is only a probe)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    # No server name: the node would log an unknown one; it serves its one certificate anyway.
    tls = context.wrap_bio(incoming, outgoing, server_hostname=None)
    with contextlib.suppress(ssl.SSLWantReadError):  # the ClientHello is written by then
        tls.do_handshake()
    return outgoing.read()


def listener_kind(target: str, timeout: float = PROBE_TIMEOUT) -> ListenerKind:
    """Which kind of port answers at ``target`` (blocking, at most about ``2 * timeout``)."""
    try:
        host, port = split_target(target)
        connection = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return ListenerKind.NOTHING
    except (OSError, ValueError):
        return ListenerKind.UNKNOWN
    with connection:
        try:
            connection.sendall(_client_hello())
            first = _first_bytes(connection, 4)
        except OSError:  # reset, or no answer in time
            return ListenerKind.UNKNOWN
    if len(first) >= 2 and first[0] in _TLS_RECORD_TYPES and first[1] == 0x03:
        return ListenerKind.TLS
    if len(first) == 4 and first[3] == _HTTP2_SETTINGS:
        return ListenerKind.PLAIN
    return ListenerKind.UNKNOWN


def _first_bytes(connection: socket.socket, count: int) -> bytes:
    """Up to ``count`` bytes of the answer (fewer when the peer closes first)."""
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data
