"""The web front's one connection to its node: an asyncio gRPC channel and the services' stubs.

Every page handler calls the node through ``NodeLink.call`` with the node session token it
keeps for the visitor, so a refusal always arrives the same way: a ``CallError`` carrying the
status code's name and the node's one-line message (``web.refusals`` turns it into a page).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from node.edge.channels import client_aio_channel
from node.edge.client import CallError, token_metadata
from node.edge.front import FRONT_KEY_METADATA, VISITOR_METADATA
from proto.hotline.v1 import (
    access_pb2_grpc,
    consumer_pb2_grpc,
    enrolment_pb2_grpc,
    odr_pb2_grpc,
)

CALL_TIMEOUT = 15.0
"""Seconds a page waits for the node before it shows the node as unreachable."""

Answer = TypeVar("Answer", bound=Message)


class NodeLink:
    """The stubs of the services the pages use, on one TLS channel to the node's client port.

    ``root_pem`` is the hierarchy's national root the node's certificate must chain to;
    ``unit``, when given, the unit whose node must answer; ``front_key``, the node's web front
    key (``node.edge.front``): with it each call names its visitor's address, which the node
    then limits and records instead of the front's. Make it inside the running loop.
    """

    def __init__(
        self, target: str, root_pem: bytes, *, unit: str = "", front_key: bytes | None = None
    ) -> None:
        self.target = target
        self._channel = client_aio_channel(target, root_pem, unit=unit)
        self._front_key = front_key.hex() if front_key else ""
        self.access = access_pb2_grpc.AccessServiceStub(self._channel)
        self.odr = odr_pb2_grpc.OdrServiceStub(self._channel)
        self.consumer = consumer_pb2_grpc.ConsumerServiceStub(self._channel)
        self.enrolment = enrolment_pb2_grpc.EnrolmentServiceStub(self._channel)

    async def call(
        self,
        method: Callable[..., Awaitable[Answer]],
        request: Message,
        token: str = "",
        *,
        visitor: str = "",
    ) -> Answer:
        """``method(request)`` with the session ``token``, for the visitor at ``visitor`` (an IP
        address); ``CallError`` when the node refuses."""
        metadata = list(token_metadata(token))
        if self._front_key and visitor:
            metadata += [(FRONT_KEY_METADATA, self._front_key), (VISITOR_METADATA, visitor)]
        try:
            return await method(request, timeout=CALL_TIMEOUT, metadata=tuple(metadata))
        except grpc.aio.AioRpcError as exc:
            raise CallError(exc.code().name, exc.details() or "") from exc

    def for_visitor(self, visitor: str) -> VisitorLink:
        """This link as one visitor's pages use it: each call names the visitor's address."""
        return VisitorLink(self, visitor)

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close(None)


class VisitorLink:
    """``NodeLink`` for one visitor (``NodeLink.for_visitor``): the same stubs, and ``call``
    names the visitor's address."""

    def __init__(self, link: NodeLink, visitor: str) -> None:
        self._link = link
        self._visitor = visitor
        self.access = link.access
        self.odr = link.odr
        self.consumer = link.consumer
        self.enrolment = link.enrolment

    async def call(
        self, method: Callable[..., Awaitable[Answer]], request: Message, token: str = ""
    ) -> Answer:
        """``NodeLink.call`` for this visitor."""
        return await self._link.call(method, request, token, visitor=self._visitor)
