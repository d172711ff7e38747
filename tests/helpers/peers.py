"""Speaking SyncService as a child would, by hand: what a test needs to push crafted events."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from proto.hotline.v1 import sync_pb2, sync_pb2_grpc
from sync.envelope import SealedEvent
from sync.pki import dns_name
from tests.helpers.world import InProcessNode


def push_raw(
    child: InProcessNode, parent: InProcessNode, events: Sequence[SealedEvent]
) -> sync_pb2.PushSummary:
    """Push ``events`` to ``parent`` exactly as given, over the child's own mutual TLS."""
    identity = child.node.identity
    credentials = identity.credentials
    assert credentials is not None
    channel = grpc.secure_channel(
        parent.peer_target,
        grpc.ssl_channel_credentials(
            credentials.root_pem(), identity.tls_key_pem(), credentials.chain_pem()
        ),
        options=[("grpc.ssl_target_name_override", dns_name(parent.node.identity.unit_code))],
    )
    with channel:
        stub = sync_pb2_grpc.SyncServiceStub(channel)
        stub.Hello(sync_pb2.HelloRequest(), timeout=10)
        certs = [c.der for c in child.node.trust.certificates_for(e.signer_key_id for e in events)]
        batch = sync_pb2.EventBatch(events=[e.to_proto() for e in events], certificates=certs)
        summary: sync_pb2.PushSummary = stub.PushEvents(iter([batch]), timeout=30)
    return summary
