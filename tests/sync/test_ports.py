"""What listens at an address: a node's port (TLS), a plain-text port, or nothing."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from node.devnet.hierarchy import Hierarchy
from sync.ports import ListenerKind, listener_kind, split_target
from tests.helpers.world import World, spec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_node_s_two_ports_speak_tls_and_an_empty_one_is_told_apart(
    tmp_path: Path, hierarchy: Hierarchy
) -> None:
    world = World(tmp_path, lambda: f"sqlite:///{tmp_path / 'province.db'}", hierarchy)
    try:
        province = world.start(spec("province"))
        assert listener_kind(province.target) is ListenerKind.TLS
        assert listener_kind(province.peer_target) is ListenerKind.TLS
    finally:
        world.stop()
    assert listener_kind(f"127.0.0.1:{free_port()}") is ListenerKind.NOTHING
    assert listener_kind("no-such-host.invalid:7100") is ListenerKind.UNKNOWN


def test_targets_are_host_and_port() -> None:
    assert split_target("127.0.0.1:7100") == ("127.0.0.1", 7100)
    assert split_target("[::1]:7101") == ("::1", 7101)
    assert listener_kind("7100") is ListenerKind.UNKNOWN


def test_a_listener_that_closes_or_speaks_another_protocol_proves_nothing() -> None:
    """A proxy whose link is cut accepts and closes; that must not read as a client port."""
    for answer in (b"", b"HTTP/1.1 400 Bad Request\r\n\r\n"):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            target = f"127.0.0.1:{server.getsockname()[1]}"

            def serve_once(answer: bytes = answer, server: socket.socket = server) -> None:
                connection, _ = server.accept()
                with connection:
                    connection.recv(1024)
                    connection.sendall(answer)

            thread = threading.Thread(target=serve_once)
            thread.start()
            assert listener_kind(target) is ListenerKind.UNKNOWN, answer
            thread.join(5)
