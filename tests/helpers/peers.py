"""Speaking SyncService as a child would, by hand: what a test needs to push crafted events."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from proto.hotline.v1 import sync_pb2, sync_pb2_grpc
from sync.envelope import SealedEvent
from sync.pki import dns_name
from sync.protocol import PROTOCOL_VERSION
from tests.helpers.world import InProcessNode


def push_raw(
    child: InProcessNode,
    parent: InProcessNode,
    events: Sequence[SealedEvent],
    *,
    protocol_version: int = PROTOCOL_VERSION,
    seals: Sequence[sync_pb2.PersonalSeal] = (),
) -> sync_pb2.PushSummary:
    """Push ``events`` (and ``seals`` beside them) to ``parent`` exactly as given, over the
    child's own mutual TLS, introducing the child as speaking ``protocol_version``."""
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
        stub.Hello(sync_pb2.HelloRequest(protocol_version=protocol_version), timeout=10)
        certs = [c.der for c in child.node.trust.certificates_for(e.signer_key_id for e in events)]
        batch = sync_pb2.EventBatch(
            events=[e.to_proto() for e in events], certificates=certs, seals=list(seals)
        )
        summary: sync_pb2.PushSummary = stub.PushEvents(iter([batch]), timeout=30)
    return summary
