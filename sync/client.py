"""The child's side of replication: ``ParentLink`` pushes its subtree up and pulls its share down.

A round is: introduce ourselves, ask the parent's heads for our subtree, stream every chain
suffix the parent lacks, then pull the parent's feed from our cursor, storing each batch with
the new cursor in one writer transaction. The link runs rounds on a timer and whenever the
node records something; when the parent is unreachable it backs off (exponential, with jitter)
and the node goes on working on its own log; the next good round catches up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

from grpc import aio
from sqlalchemy import Connection

from core.units import jurisdiction_prefix
from proto.hotline.v1 import sync_pb2, sync_pb2_grpc
from sync.envelope import SealedEvent
from sync.errors import ReplicationError
from sync.identity import NodeIdentity, PublicIdentity
from sync.ingest import IngestReport, ingest_feed
from sync.log_store import EventLog
from sync.service import NODE_METADATA, node_key_from, node_key_message, open_batch
from sync.writer import LogBatch, LogWriter

log = logging.getLogger(__name__)

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]


@dataclass
class RoundReport:
    """What one replication round did."""

    pushed: int = 0
    pulled: int = 0
    rejected: int = 0


@dataclass
class LinkStatus:
    """How replication with the parent stands, for ``GetNodeInfo`` and ``sync status``."""

    parent_node: str = ""
    pull_cursor: int = 0
    pushed_seq: int = 0
    last_error: str = ""
    last_success_ms: int = 0
    failures: int = 0


def _store_pulled(
    batch: LogBatch,
    *,
    events: list[SealedEvent],
    keys: list[PublicIdentity],
    parent_node: str,
    peer: str,
    cursor: int,
) -> IngestReport:
    """Store a pulled batch and the new cursor in one transaction (never the cursor alone)."""
    report = ingest_feed(batch, events, keys, peer=parent_node)
    batch.set_cursor(peer, cursor)
    return report


async def _first_of(*waits: Coroutine[Any, Any, Any], timeout: float) -> None:
    """Wait until one of ``waits`` finishes or ``timeout`` passes; cancel the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ParentLink:
    """Replication of one node with its parent."""

    def __init__(
        self,
        target: str,
        identity: NodeIdentity,
        read: ReadSnapshot,
        writer: LogWriter,
        wall_ms: Callable[[], int],
        *,
        batch_size: int = 500,
        interval: float = 2.0,
        call_timeout: float = 30.0,
        connect_timeout: float = 3.0,
    ) -> None:
        self.target = target
        self._identity = identity
        self._read = read
        self._writer = writer
        self._wall_ms = wall_ms
        self._batch = batch_size
        self._interval = interval
        self._timeout = call_timeout
        self._connect_timeout = connect_timeout
        self._prefix = jurisdiction_prefix(identity.unit_code, identity.level)
        self._metadata = ((NODE_METADATA, identity.node_id),)
        self._channel: aio.Channel | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._round_lock: asyncio.Lock | None = None
        self.status = LinkStatus()

    def _stub(self) -> sync_pb2_grpc.SyncServiceAsyncStub:
        if self._channel is None:
            self._channel = aio.insecure_channel(
                self.target,
                options=[
                    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
                    ("grpc.initial_reconnect_backoff_ms", 200),
                    ("grpc.max_reconnect_backoff_ms", 2000),
                ],
            )
        return sync_pb2_grpc.SyncServiceStub(self._channel)

    async def close(self) -> None:
        """Close the channel to the parent."""
        if self._channel is not None:
            await self._channel.close(grace=None)
            self._channel = None

    def wake(self) -> None:
        """Ask for a round soon (thread-safe: the log writer calls it after each commit)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _hello(self, stub: sync_pb2_grpc.SyncServiceAsyncStub) -> str:
        # The first call of a round waits briefly for the link: a parent that just came back
        # is used at once rather than after the channel's reconnect back-off.
        response = await stub.Hello(
            sync_pb2.HelloRequest(node=node_key_message(self._identity.public)),
            timeout=self._connect_timeout,
            wait_for_ready=True,
        )
        parent = node_key_from(response.node, "node")
        await self._writer.run(lambda batch: batch.register_key(parent))
        return parent.node_id

    async def _push(self, stub: sync_pb2_grpc.SyncServiceAsyncStub) -> IngestReport:
        response = await stub.GetHeads(
            sync_pb2.GetHeadsRequest(unit_prefix=self._prefix),
            timeout=self._timeout,
            metadata=self._metadata,
        )
        theirs = {h.origin_node: h.seq for h in response.heads}
        with self._read() as conn:
            mine = EventLog(conn).heads_under(self._prefix)
        behind = [
            (h.origin_node, theirs.get(h.origin_node, 0))
            for h in mine
            if h.seq > theirs.get(h.origin_node, 0)
        ]
        report = IngestReport()
        if not behind:
            return report

        async def batches() -> AsyncIterator[sync_pb2.EventBatch]:
            keys = {}
            for origin, after in behind:
                while True:
                    with self._read() as conn:
                        log_ = EventLog(conn)
                        chunk = log_.chain_after(origin, after, self._batch)
                        keys.update(log_.keys(e.signer_key_id for e in chunk))
                    if not chunk:
                        break
                    after = chunk[-1].origin_seq
                    signers = sorted({e.signer_key_id for e in chunk} & keys.keys())
                    yield sync_pb2.EventBatch(
                        events=[e.to_proto() for e in chunk],
                        keys=[node_key_message(keys[k]) for k in signers],
                    )
                    if len(chunk) < self._batch:
                        break

        summary = await stub.PushEvents(batches(), metadata=self._metadata)
        report.accepted, report.duplicates, report.rejected = (
            summary.accepted,
            summary.duplicates,
            summary.rejected,
        )
        report.rejections = [(r.event_id, r.reason) for r in summary.rejections]
        own = {h.origin_node: h.seq for h in summary.heads}
        self.status.pushed_seq = own.get(self._identity.node_id, 0)
        for event_id, reason in report.rejections:
            log.warning("parent refused event %s: %s", event_id, reason)
        return report

    async def _pull(
        self, stub: sync_pb2_grpc.SyncServiceAsyncStub, parent_node: str
    ) -> IngestReport:
        peer = f"parent:{parent_node}"
        with self._read() as conn:
            after = EventLog(conn).cursor(peer)
        total = IngestReport()
        stream = stub.PullEvents(
            sync_pb2.PullRequest(
                node=node_key_message(self._identity.public), after=after, batch_size=self._batch
            ),
            timeout=self._timeout * 10,
        )
        async for batch in stream:
            events, keys, broken = open_batch(batch)
            report = await self._writer.run(
                partial(
                    _store_pulled,
                    events=events,
                    keys=keys,
                    parent_node=parent_node,
                    peer=peer,
                    cursor=batch.cursor,
                )
            )
            report.rejected += len(broken)
            total.add(report)
            self.status.pull_cursor = batch.cursor
        return total

    async def sync_once(self) -> RoundReport:
        """One full round (hello, push, pull); raises ``ReplicationError`` on failure."""
        if self._round_lock is None:
            self._round_lock = asyncio.Lock()
        async with self._round_lock:
            stub: sync_pb2_grpc.SyncServiceAsyncStub = self._stub()
            try:
                parent = await self._hello(stub)
                pushed = await self._push(stub)
                pulled = await self._pull(stub, parent)
            except aio.AioRpcError as exc:
                code, details = exc.code().name, exc.details() or ""
                await self.close()  # dial afresh next round
                self.status.last_error = f"{code}: {details}"
                self.status.failures += 1
                raise ReplicationError(
                    f"replication with {self.target} failed: {code}: {details}", code
                ) from exc
            self.status.parent_node = parent
            self.status.last_error = ""
            self.status.failures = 0
            self.status.last_success_ms = self._wall_ms()
            return RoundReport(pushed.accepted, pulled.accepted, pushed.rejected + pulled.rejected)

    def _backoff(self) -> float:
        base = min(30.0, 0.5 * float(2 ** min(self.status.failures, 6)))
        return base * random.uniform(0.5, 1.5)

    async def run(self, stop: asyncio.Event) -> None:
        """Run rounds until ``stop`` is set: on a timer, on wake-ups, backing off on failure."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not stop.is_set():
            delay = self._interval
            try:
                await self.sync_once()
            except ReplicationError as exc:
                delay = self._backoff()
                log.info("%s; retrying in %.1fs", exc, delay)
            except Exception:
                delay = self._backoff()
                self.status.failures += 1
                log.exception("replication round failed; retrying in %.1fs", delay)
            self._wake.clear()
            await _first_of(stop.wait(), self._wake.wait(), timeout=delay)
