"""The ODR roster's replication: one exchange with the parent in every round.

Up, the records signed in the child's subtree that the parent has not taken (a county's
enrolments, a city's listings); down, every record the parent stored after the child's cursor,
page by page, each page kept with its cursor in one transaction. So a record signed anywhere
reaches the national node and comes down to every node; a node offline when the roster changed
gets the change on its next round. A record refused on receipt raises a ``roster-refused``
alert on the receiving node. The exchange runs on the peer port (mutual TLS) as
``OdrRosterSync.ExchangeRoster``, beside SyncService, and after the officer accounts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol, TypeVar

import grpc
from grpc import aio

from proto.hotline.v1 import enrolment_pb2 as pb
from proto.hotline.v1 import enrolment_pb2_grpc as pb_grpc
from sync.pki import NodeCertificate
from sync.reasons import AlertKind
from sync.writer import LogBatch, LogWriter

log = logging.getLogger(__name__)

T = TypeVar("T")
Blocking = Callable[..., Awaitable[Any]]
"""Runs a blocking function on the node's pool (``BlockingPool.run``)."""


class ReceiptLike(Protocol):
    """What became of a page of records received."""

    accepted: int
    rejections: list[str]


class RosterHolder(Protocol):
    """What the exchange needs of a node's roster records (``node.enrolment.roster``)."""

    def for_child(self, after: int) -> pb.RosterExchange:
        """The next page for a child that holds up to ``after``."""
        ...

    def take_from_child(
        self, child_node: str, child_prefix: str, signed: list[pb.SignedRosterRecord]
    ) -> ReceiptLike:
        """Records a child pushed up."""
        ...

    def for_parent(self, parent_node: str) -> tuple[list[pb.SignedRosterRecord], int, bool]:
        """The next page to push up, the position to note once taken, more waiting."""
        ...

    def parent_took(self, parent_node: str, upto: int) -> None:
        """Note how far the parent holds this node's records."""
        ...

    def down_cursor(self, parent_node: str) -> int:
        """The parent's position held here."""
        ...

    def take_from_parent(self, parent_node: str, page: pb.RosterExchange) -> ReceiptLike:
        """A page from the parent, stored with its cursor."""
        ...


def alert_refused(batch: LogBatch, *, sender: str, rejections: list[str]) -> None:
    """Raise an alert for each refused record (a writer job); the same again is counted."""
    for rejection in rejections:
        batch.raise_alert(
            AlertKind.ODR_ROSTER_REFUSED,
            rejection.split(":", 1)[0] or sender,
            f"ODR roster record from {sender} refused: {rejection}",
        )


class RosterToParent:
    """The child's side: one exchange per replication round (``sync.client.ParentLink``)."""

    def __init__(self, holder: RosterHolder, blocking: Blocking, writer: LogWriter) -> None:
        self._holder = holder
        self._blocking = blocking
        self._writer = writer

    async def exchange(self, channel: aio.Channel, parent_node: str, timeout: float) -> None:
        """Push this subtree's new records up, then take the parent's pages down."""
        stub = pb_grpc.OdrRosterSyncStub(channel)
        holder = self._holder
        more = True
        while more:
            signed, upto, more = await self._blocking(holder.for_parent, parent_node)
            after = await self._blocking(holder.down_cursor, parent_node)
            try:
                page = await stub.ExchangeRoster(
                    pb.RosterExchange(records=signed, after=after), timeout=timeout
                )
            except aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.UNIMPLEMENTED:
                    raise
                log.warning("parent %s keeps no ODR roster yet; skipped", parent_node)
                return
            for rejection in page.rejections:
                log.warning("parent refused roster record %s", rejection)
            if upto:
                await self._blocking(holder.parent_took, parent_node, upto)
            taken = await self._blocking(holder.take_from_parent, parent_node, page)
            if taken.rejections:
                await self._writer.run(
                    partial(alert_refused, sender=parent_node, rejections=taken.rejections)
                )
            more = more or (page.more and page.cursor > after)


CallerOf = Callable[[bytes | None], Awaitable[tuple[NodeCertificate, str]]]
"""The calling child and its jurisdiction prefix, from its TLS certificate
(``sync.children.ChildReplication.caller``)."""


class RosterToChildren:
    """The parent's side: take a child's page, answer with the next page of the roster."""

    def __init__(self, holder: RosterHolder, blocking: Blocking, writer: LogWriter) -> None:
        self._holder = holder
        self._blocking = blocking
        self._writer = writer

    async def exchange(
        self, caller: CallerOf, pem: bytes | None, request: pb.RosterExchange
    ) -> pb.RosterExchange:
        """One page each way with the child that showed ``pem``."""
        child, prefix = await caller(pem)
        receipt = await self._blocking(
            self._holder.take_from_child, child.node_id, prefix, list(request.records)
        )
        if receipt.rejections:
            await self._writer.run(
                partial(alert_refused, sender=child.node_id, rejections=receipt.rejections)
            )
        page: pb.RosterExchange = await self._blocking(self._holder.for_child, request.after)
        page.accepted = receipt.accepted
        page.rejections.extend(receipt.rejections)
        return page
