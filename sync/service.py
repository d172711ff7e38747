"""The parent's side of replication: the ``SyncService`` servicer (docs/protocol.md).

A child introduces itself (``Hello``), asks how far the parent holds the chains of its subtree
(``GetHeads``), streams what is missing (``PushEvents``, each batch verified and applied in one
transaction by ``sync.ingest``), then pulls its jurisdiction feed from a cursor it keeps
(``PullEvents``). A caller may only push the chains of its own subtree and pull its own
jurisdiction, and must sit below this node. (Issue 3 binds the caller's identity to an mTLS
certificate; here the node named in the metadata is trusted as introduced.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

from grpc import aio
from sqlalchemy import Connection, select

from core.errors import InvalidInput, NotPermitted
from core.units import UnitLevel, jurisdiction_prefix
from proto.hotline.v1 import sync_pb2, sync_pb2_grpc
from sync import schema
from sync.codec import enum_member, enum_number
from sync.envelope import EnvelopeError, SealedEvent, open_sealed
from sync.identity import NodeIdentity, PublicIdentity, key_id_of
from sync.ingest import IngestReport, ingest_chains
from sync.log_store import EventLog
from sync.writer import LogWriter

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
Context = aio.ServicerContext[Any, Any]
NODE_METADATA = "x-hotline-node"
DEFAULT_BATCH = 500
MAX_BATCH = 5000


def node_key_message(identity: PublicIdentity) -> sync_pb2.NodeKey:
    """The wire form of a node's public identity."""
    return sync_pb2.NodeKey(
        node_id=identity.node_id,
        unit_code=identity.unit_code,
        level=enum_number(identity.level),
        public_key=identity.public_key,
        key_id=identity.key_id,
    )


def node_key_from(msg: sync_pb2.NodeKey, path: str = "node") -> PublicIdentity:
    """A public identity read from the wire, with its key id checked."""
    if len(msg.public_key) != 32:
        raise InvalidInput(f"{path}.public_key", "an Ed25519 public key has 32 bytes")
    if msg.key_id and msg.key_id != key_id_of(msg.public_key):
        raise InvalidInput(f"{path}.key_id", "does not match the public key")
    if not msg.node_id or not msg.unit_code:
        raise InvalidInput(f"{path}.node_id", "node id and unit code are required")
    level = enum_member(UnitLevel, msg.level, f"{path}.level")
    return PublicIdentity(msg.node_id, msg.unit_code, level, msg.public_key)


def open_batch(
    batch: sync_pb2.EventBatch,
) -> tuple[list[SealedEvent], list[PublicIdentity], list[tuple[str, str]]]:
    """The events and keys of a received batch; unparseable events are set aside with reasons."""
    events: list[SealedEvent] = []
    broken: list[tuple[str, str]] = []
    for i, signed in enumerate(batch.events):
        try:
            events.append(open_sealed(signed.envelope, signed.signature))
        except EnvelopeError as exc:
            broken.append((f"#{i}", str(exc)))
    keys = [node_key_from(k, "keys") for k in batch.keys]
    return events, keys, broken


class SyncServicer(sync_pb2_grpc.SyncServiceServicer):
    """Serves this node's children."""

    def __init__(self, identity: NodeIdentity, read: ReadSnapshot, writer: LogWriter) -> None:
        self._identity = identity
        self._read = read
        self._writer = writer
        self._own_prefix = jurisdiction_prefix(identity.unit_code, identity.level)

    def _check_below(self, unit_code: str, level: UnitLevel) -> str:
        """The caller's jurisdiction prefix, if the caller sits below this node."""
        if not unit_code.startswith(self._own_prefix) or unit_code == self._identity.unit_code:
            raise NotPermitted(f"{unit_code} is not below {self._identity.unit_code}")
        if not self._identity.level.is_above(level):
            raise NotPermitted(
                f"a {level.value} node cannot replicate with a "
                f"{self._identity.level.value} node as its parent"
            )
        return jurisdiction_prefix(unit_code, level)

    def _caller(self, context: Context) -> PublicIdentity:
        node_id = ""
        for key, value in context.invocation_metadata() or ():
            if key == NODE_METADATA:
                node_id = value.decode() if isinstance(value, bytes) else value
        if not node_id:
            raise NotPermitted(f"name the calling node in the {NODE_METADATA!r} metadata")
        with self._read() as conn:
            row = conn.execute(
                select(schema.node_keys).where(schema.node_keys.c.node_id == node_id)
            ).first()
        if row is None:
            raise NotPermitted(f"node {node_id} has not introduced itself (Hello)")
        return PublicIdentity(row.node_id, row.unit_code, UnitLevel(row.level), row.public_key)

    async def Hello(
        self, request: sync_pb2.HelloRequest, context: Context
    ) -> sync_pb2.HelloResponse:
        """Introduce the calling node and learn the parent's identity."""
        child = node_key_from(request.node)
        self._check_below(child.unit_code, child.level)
        await self._writer.run(lambda batch: batch.register_key(child))
        return sync_pb2.HelloResponse(node=node_key_message(self._identity.public))

    async def GetHeads(
        self, request: sync_pb2.GetHeadsRequest, context: Context
    ) -> sync_pb2.GetHeadsResponse:
        """The parent's last sequence and hash for each origin under a unit-code prefix."""

        def read() -> list[sync_pb2.OriginHead]:
            with self._read() as conn:
                return [
                    sync_pb2.OriginHead(origin_node=h.origin_node, seq=h.seq, hash=h.hash)
                    for h in EventLog(conn).heads_under(request.unit_prefix)
                ]

        return sync_pb2.GetHeadsResponse(heads=await asyncio.to_thread(read))

    async def PushEvents(
        self, request_iterator: AsyncIterator[sync_pb2.EventBatch], context: Context
    ) -> sync_pb2.PushSummary:
        """Upward: stream batches of signed events; each batch is applied in one transaction."""
        child = self._caller(context)
        prefix = self._check_below(child.unit_code, child.level)
        total = IngestReport()
        async for batch in request_iterator:
            events, keys, broken = open_batch(batch)
            report = await self._writer.run(
                partial(
                    ingest_chains,
                    events=events,
                    keys=keys,
                    peer=child.node_id,
                    subtree_prefix=prefix,
                )
            )
            report.rejected += len(broken)
            report.rejections.extend(broken)
            total.add(report)
        with self._read() as conn:
            heads = EventLog(conn).heads_under(prefix)
        return sync_pb2.PushSummary(
            accepted=total.accepted,
            duplicates=total.duplicates,
            rejected=total.rejected,
            rejections=[sync_pb2.Rejection(event_id=i, reason=r) for i, r in total.rejections],
            heads=[
                sync_pb2.OriginHead(origin_node=h.origin_node, seq=h.seq, hash=h.hash)
                for h in heads
            ],
        )

    async def PullEvents(
        self, request: sync_pb2.PullRequest, context: Context
    ) -> AsyncIterator[sync_pb2.EventBatch]:
        """Downward: the jurisdiction feed after a cursor, in batches."""
        child = node_key_from(request.node)
        prefix = self._check_below(child.unit_code, child.level)
        size = min(request.batch_size or DEFAULT_BATCH, MAX_BATCH)
        after, sent = request.after, 0
        while True:

            def read(
                after: int = after,
            ) -> tuple[list[tuple[int, SealedEvent]], dict[str, PublicIdentity]]:
                with self._read() as conn:
                    log = EventLog(conn)
                    rows = log.feed_after(prefix, after, size)
                    return rows, log.keys(e.signer_key_id for _, e in rows)

            rows, keys = await asyncio.to_thread(read)
            if not rows:
                return
            after = rows[-1][0]
            sent += 1
            yield sync_pb2.EventBatch(
                events=[e.to_proto() for _, e in rows],
                keys=[node_key_message(k) for k in keys.values()],
                cursor=after,
            )
            if len(rows) < size or (request.max_batches and sent >= request.max_batches):
                return
