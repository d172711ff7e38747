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
    ``unit``, when given, the unit whose node must answer. Make it inside the running loop.
    """

    def __init__(self, target: str, root_pem: bytes, *, unit: str = "") -> None:
        self.target = target
        self._channel = client_aio_channel(target, root_pem, unit=unit)
        self.access = access_pb2_grpc.AccessServiceStub(self._channel)
        self.odr = odr_pb2_grpc.OdrServiceStub(self._channel)
        self.consumer = consumer_pb2_grpc.ConsumerServiceStub(self._channel)
        self.enrolment = enrolment_pb2_grpc.EnrolmentServiceStub(self._channel)

    async def call(
        self, method: Callable[..., Awaitable[Answer]], request: Message, token: str = ""
    ) -> Answer:
        """``method(request)`` with the session ``token``; ``CallError`` when the node refuses."""
        try:
            return await method(request, timeout=CALL_TIMEOUT, metadata=token_metadata(token))
        except grpc.aio.AioRpcError as exc:
            raise CallError(exc.code().name, exc.details() or "") from exc

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close(None)
