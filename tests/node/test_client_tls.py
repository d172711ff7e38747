"""The client port speaks TLS with the node's certificate: nothing in clear, no stranger's root.

A plain-text client cannot talk to it; a client trusting another national root, or expecting
another unit's node, is refused at the handshake, before any of its bytes reach a servicer (no
row of the access record, nothing written). Health answers over TLS without a token.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from node.devnet.hierarchy import Hierarchy
from node.edge.channels import client_channel, read_root
from node.edge.client import CallError, NodeClient
from sync.pki import PkiError
from tests.helpers.signin import access_rows
from tests.helpers.world import InProcessNode, World, spec


def health_check(channel: grpc.Channel) -> health_pb2.HealthCheckResponse:
    stub = health_pb2_grpc.HealthStub(channel)
    response: health_pb2.HealthCheckResponse = stub.Check(
        health_pb2.HealthCheckRequest(), timeout=15
    )
    return response


@pytest.fixture
def county(world: World) -> InProcessNode:
    world.start(spec("province"))
    world.start(spec("city"))
    return world.start(spec("chengguan"))


def test_health_answers_over_tls_without_a_token_and_so_does_sign_in(
    county: InProcessNode,
) -> None:
    with client_channel(county.target, county.root, unit="620102") as channel:
        assert health_check(channel).status == health_pb2.HealthCheckResponse.SERVING
    with county.client("620102-07") as handler:  # a real sign-in, over TLS
        assert handler.who_am_i().officer_id == "620102-07"


def test_a_plain_text_client_cannot_talk_to_the_client_port(county: InProcessNode) -> None:
    rows = len(access_rows(county))
    with grpc.insecure_channel(county.target) as channel, pytest.raises(grpc.RpcError) as failed:
        health_check(channel)
    assert failed.value.code() is grpc.StatusCode.UNAVAILABLE
    with grpc.insecure_channel(county.target) as channel, pytest.raises(grpc.RpcError) as failed:
        register = channel.unary_unary("/hotline.v1.IntakeService/RegisterTicket")
        register(b"", timeout=15)
    assert failed.value.code() is grpc.StatusCode.UNAVAILABLE
    assert len(access_rows(county)) == rows  # nothing reached the node's services


def test_a_client_trusting_another_root_is_refused_at_the_handshake(
    county: InProcessNode, tmp_path: Path
) -> None:
    other_root = read_root(Hierarchy.throwaway(tmp_path / "another-pki").root_file)
    assert other_root != county.root
    rows = len(access_rows(county))
    with client_channel(county.target, other_root) as channel, pytest.raises(grpc.RpcError) as bad:
        health_check(channel)
    assert bad.value.code() is grpc.StatusCode.UNAVAILABLE
    with NodeClient(county.target, root=other_root) as client, pytest.raises(CallError) as refused:
        client.sign_in("620102-07", "Gansu-12315-devnet", "000000")
    assert refused.value.code == "UNAVAILABLE"
    assert "does not chain to the national root" in refused.value.message
    assert len(access_rows(county)) == rows  # the password never left the client


def test_a_client_expecting_another_unit_s_node_is_refused_at_the_handshake(
    county: InProcessNode,
) -> None:
    with (
        client_channel(county.target, county.root, unit="620103") as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        health_check(channel)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    with client_channel(county.target, county.root) as channel:  # any node of the hierarchy
        assert health_check(channel).status == health_pb2.HealthCheckResponse.SERVING


def test_a_root_file_that_holds_no_certificate_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(PkiError, match="holds no certificate"):
        read_root(tmp_path / "root.pem")
    with pytest.raises(PkiError, match="cannot read"):
        read_root(tmp_path / "missing.pem")
