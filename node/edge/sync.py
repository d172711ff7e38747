"""SyncService on the peer port: this node's children replicate with it over mutual TLS.

Translates and delegates to ``sync.children.ChildReplication``, handing it the caller's TLS
certificate (the only thing that says who a child is); mounted by the levels with children.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from grpc import aio

from node.app.profile import ServiceMount
from proto.hotline.v1 import accounts_pb2, sync_pb2, sync_pb2_grpc
from sync.children import ChildReplication
from sync.push_admission import PushAdmission

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]


def client_certificate(context: Context) -> bytes | None:
    """The PEM of the caller's TLS client certificate, if it showed one."""
    pems = list((context.auth_context() or {}).get("x509_pem_cert") or [])
    return pems[0] if pems else None


class SyncServicer(sync_pb2_grpc.SyncServiceServicer):
    """SyncService: translate and delegate."""

    def __init__(self, children: ChildReplication) -> None:
        self._children = children

    async def Hello(
        self, request: sync_pb2.HelloRequest, context: Context
    ) -> sync_pb2.HelloResponse:
        """Introduce the calling node; exchange trust; hand down a newer rule book."""
        return await self._children.hello(client_certificate(context), request)

    async def GetHeads(
        self, request: sync_pb2.GetHeadsRequest, context: Context
    ) -> sync_pb2.GetHeadsResponse:
        """How far this node holds each chain under the caller's prefix."""
        return await self._children.heads(client_certificate(context), request)

    async def PushEvents(
        self, request_iterator: AsyncIterator[sync_pb2.EventBatch], context: Context
    ) -> sync_pb2.PushSummary:
        """Upward: the caller's subtree's chains, batch by batch."""
        return await self._children.push(client_certificate(context), request_iterator)

    async def PushAccounts(
        self, request: accounts_pb2.AccountBatch, context: Context
    ) -> accounts_pb2.AccountReceipt:
        """Upward: officer account records signed in the caller's subtree."""
        return await self._children.push_accounts(client_certificate(context), request)

    async def PullAccounts(
        self, request: accounts_pb2.PullAccountsRequest, context: Context
    ) -> accounts_pb2.AccountBatch:
        """Downward: officer account records touching the caller's jurisdiction."""
        return await self._children.pull_accounts(client_certificate(context), request)

    async def PullEvents(
        self, request: sync_pb2.PullRequest, context: Context
    ) -> AsyncIterator[sync_pb2.EventBatch]:
        """Downward: the caller's jurisdiction feed after its cursor."""
        async for batch in self._children.pull(client_certificate(context), request):
            yield batch


def _add(node: Node, server: aio.Server) -> None:
    node.children = ChildReplication(
        node.identity,
        node.db.read,
        node.writer,
        node.trust,
        node.clock.wall_ms,
        node.verifier,
        rules=node.rules,
        accounts=node.officer_accounts,
        executor=node.blocking.executor,
        wait_limit=node.settings.wait_limit,
        shelf=node.shelf,
        lookup_keys=node.lookup_keys,
        admission=PushAdmission(node.settings.max_pushes),
    )
    sync_pb2_grpc.add_SyncServiceServicer_to_server(SyncServicer(node.children), server)


SYNC = ServiceMount(sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name, _add, peer=True)
"""SyncService for the children of a national, province, city or county node."""
