"""Tests of :class:`tests.helpers.link_proxy.LinkProxy` against a loopback echo server."""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.helpers.link_proxy import LinkProxy
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.timeout(60)

IO_TIMEOUT = 5.0
FAST = 2.0
"""What "fails fast" means: a reset shows at once (milliseconds), not after a timeout. The
bound leaves a busy machine room, stays under the 3 s connection deadline of the nodes' links
and well under IO_TIMEOUT, which a connection that hung instead of being reset runs into."""


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(IO_TIMEOUT * 2)
        try:
            while data := sock.recv(65536):
                sock.sendall(data)
        except OSError:
            return


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


@pytest.fixture
def echo() -> Iterator[int]:
    """An echo server on 127.0.0.1 at a free port; yields the port."""
    server = _EchoServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(IO_TIMEOUT)


@pytest.fixture
def proxy(echo: int) -> Iterator[LinkProxy]:
    with LinkProxy("127.0.0.1", echo) as p:
        yield p
    assert not _proxy_threads()


def _proxy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("LinkProxy") and t.is_alive()]


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    sock.settimeout(IO_TIMEOUT)
    return sock


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(65536, n - len(buf)))
        if not chunk:
            raise EOFError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def _roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    """Send ``payload`` while reading the echo (so large payloads cannot deadlock)."""

    def send() -> None:
        with contextlib.suppress(OSError):  # a reset shows up on the receiving side too
            sock.sendall(payload)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        return _recv_exactly(sock, len(payload))
    finally:
        sender.join(IO_TIMEOUT)


def _assert_reset(sock: socket.socket) -> float:
    """Assert that ``sock`` was reset by the peer; returns how long that took to show."""
    started = time.monotonic()
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        sock.sendall(b"ping")
        if sock.recv(16) == b"":  # plain EOF is not what cut() promises
            pytest.fail("connection closed with FIN, expected a reset")
    return time.monotonic() - started


def _assert_new_connection_reset(port: int) -> float:
    """Connect to ``port`` and assert the connection is reset; returns the time it took."""
    started = time.monotonic()
    try:
        sock = _connect(port)
    except ConnectionResetError:
        pass  # the reset arrived before connect() returned: failing even sooner
    else:
        with sock:
            _assert_reset(sock)
    return time.monotonic() - started


def _wait_for(what: str, condition: Callable[[], bool]) -> None:
    """The proxy counts in its own thread: give it until IO_TIMEOUT to catch up."""
    wait_until(what, condition, timeout=IO_TIMEOUT, every=0.01)


def test_bytes_pass_through_and_are_counted(proxy: LinkProxy) -> None:
    payload = os.urandom(1_000_000)
    with _connect(proxy.port) as sock:
        assert _roundtrip(sock, payload) == payload
        assert _roundtrip(sock, b"hello") == b"hello"
    assert proxy.connections_total == 1
    _wait_for(
        "the proxy counted every byte both ways",
        lambda: proxy.bytes_up == proxy.bytes_down == len(payload) + 5,
    )
    assert proxy.address == f"127.0.0.1:{proxy.port}"
    assert not proxy.is_cut


def test_several_concurrent_connections(proxy: LinkProxy) -> None:
    socks = [_connect(proxy.port) for _ in range(8)]
    try:
        for i, sock in enumerate(socks):
            assert _roundtrip(sock, f"conn {i}".encode()) == f"conn {i}".encode()
        assert proxy.active_connections == 8
    finally:
        for sock in socks:
            sock.close()
    assert proxy.connections_total == 8
    _wait_for("the proxy holds no connection", lambda: proxy.active_connections == 0)


def test_half_close_is_forwarded(proxy: LinkProxy) -> None:
    with _connect(proxy.port) as sock:
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)
        assert _recv_exactly(sock, 10) == b"last words"
        assert sock.recv(16) == b""  # the echo server saw EOF and closed


def test_cut_resets_open_connections(proxy: LinkProxy) -> None:
    socks = [_connect(proxy.port) for _ in range(3)]
    try:
        for sock in socks:
            assert _roundtrip(sock, b"before") == b"before"
        proxy.cut()
        assert proxy.is_cut
        assert proxy.active_connections == 0  # cut() returns after aborting them
        for sock in socks:
            assert _assert_reset(sock) < FAST
    finally:
        for sock in socks:
            sock.close()


def test_new_connections_fail_fast_while_cut(proxy: LinkProxy) -> None:
    proxy.cut()
    for _ in range(3):
        assert _assert_new_connection_reset(proxy.port) < FAST
    _wait_for("the proxy counted 3 refusals", lambda: proxy.connections_refused == 3)
    assert proxy.bytes_up == 0


def test_heal_lets_connections_through_again(proxy: LinkProxy) -> None:
    with _connect(proxy.port) as sock:
        assert _roundtrip(sock, b"one") == b"one"
        proxy.cut()
        _assert_reset(sock)
    proxy.heal()
    assert not proxy.is_cut
    with _connect(proxy.port) as sock:
        assert _roundtrip(sock, b"two") == b"two"
    # Cut and heal again, the port stays the same throughout.
    proxy.cut()
    proxy.heal()
    with _connect(proxy.port) as sock:
        assert _roundtrip(sock, b"three") == b"three"


def test_cut_and_heal_from_many_threads(proxy: LinkProxy) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def flap() -> None:
        try:
            while not stop.is_set():
                proxy.cut()
                proxy.heal()
        except BaseException as exc:
            errors.append(exc)

    def traffic() -> None:
        while not stop.is_set():
            try:
                with _connect(proxy.port) as sock:
                    _roundtrip(sock, b"x" * 1000)
            except (OSError, EOFError):
                pass  # cut mid-way: expected

    threads = [threading.Thread(target=flap) for _ in range(3)]
    threads += [threading.Thread(target=traffic) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(IO_TIMEOUT * 2)
        assert not t.is_alive()
    assert not errors
    proxy.heal()
    _wait_for("the proxy holds no connection", lambda: proxy.active_connections == 0)
    with _connect(proxy.port) as sock:
        assert _roundtrip(sock, b"still fine") == b"still fine"


def test_unreachable_target_resets_the_client() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead_port = placeholder.getsockname()[1]  # bound, never listening
        with LinkProxy("127.0.0.1", dead_port) as proxy:
            assert _assert_new_connection_reset(proxy.port) < FAST
            _wait_for("the proxy counted the refusal", lambda: proxy.connections_refused == 1)


def test_delay_adds_latency_per_chunk(proxy: LinkProxy) -> None:
    # A delay is a lower bound whatever the load, so the slow round trip is checked exactly;
    # the fast one only has to be quicker than any round trip through the delay, with a
    # margin of a whole second for a busy machine.
    with _connect(proxy.port) as sock:
        proxy.delay(0.5)
        started = time.monotonic()
        assert _roundtrip(sock, b"slow") == b"slow"
        assert time.monotonic() - started >= 1.0  # once up, once down
        proxy.delay(0)
        started = time.monotonic()
        assert _roundtrip(sock, b"fast") == b"fast"
        assert time.monotonic() - started < 1.0
    with pytest.raises(ValueError):
        proxy.delay(-1)


def test_stop_closes_everything_and_joins(echo: int) -> None:
    proxy = LinkProxy("127.0.0.1", echo)
    port = proxy.start()
    assert port == proxy.port
    assert _proxy_threads()
    sock = _connect(port)
    try:
        assert _roundtrip(sock, b"hi") == b"hi"
        proxy.stop()
        assert not _proxy_threads()
        _assert_reset(sock)
    finally:
        sock.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT).close()
    proxy.stop()  # idempotent
    proxy.cut()  # harmless once stopped
    proxy.heal()


def test_start_twice_is_an_error(proxy: LinkProxy) -> None:
    with pytest.raises(RuntimeError):
        proxy.start()


def test_port_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = LinkProxy("127.0.0.1", 1).port


def test_grpc_call_fails_fast_with_unavailable_while_cut() -> None:
    """A gRPC channel through the proxy sees UNAVAILABLE at once when cut, and recovers."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with LinkProxy("127.0.0.1", grpc_port) as proxy:
            options = [
                ("grpc.initial_reconnect_backoff_ms", 200),
                ("grpc.max_reconnect_backoff_ms", 2000),
            ]
            with grpc.insecure_channel(proxy.address, options=options) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                request = health_pb2.HealthCheckRequest()
                assert stub.Check(request, timeout=IO_TIMEOUT).status == 1  # SERVING

                proxy.cut()
                # The broken connection, then fresh attempts after the reconnect back-off:
                # each fails at once rather than running into the deadline.
                for _ in range(4):
                    started = time.monotonic()
                    with pytest.raises(grpc.RpcError) as info:
                        stub.Check(request, timeout=IO_TIMEOUT)
                    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
                    assert time.monotonic() - started < FAST
                    time.sleep(0.3)
                assert proxy.connections_refused >= 1  # new connections were reset, too

                proxy.heal()
                reply = stub.Check(request, timeout=IO_TIMEOUT, wait_for_ready=True)
                assert reply.status == 1
    finally:
        server.stop(None)
