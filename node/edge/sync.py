"""SyncService on the peer port: this node's children replicate with it over mutual TLS.

The protocol itself (who may push and pull what, verification on receipt) is
``sync.service``; this module mounts it on the levels that have children.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grpc import aio

from node.app.profile import ServiceMount
from proto.hotline.v1 import sync_pb2, sync_pb2_grpc
from sync.service import SyncServicer

if TYPE_CHECKING:
    from node.app.runtime import Node


def _add(node: Node, server: aio.Server) -> None:
    node.sync_service = SyncServicer(
        node.identity,
        node.db.read,
        node.writer,
        node.trust,
        node.clock.wall_ms,
        node.verifier,
        rules=node.rules,
        executor=node.blocking.executor,
    )
    sync_pb2_grpc.add_SyncServiceServicer_to_server(node.sync_service, server)


SYNC = ServiceMount(sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name, _add, peer=True)
"""SyncService for the children of a national, province, city or county node."""
