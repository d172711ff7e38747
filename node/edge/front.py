"""The visitor a web front calls for (网页前端转发的访问者地址), believed only with the front's key.

``hotline serve-web`` calls its node for every visitor from its own address, so each limit
kept per caller address (sign-in tries, complaints filed online) would count all its visitors
as one caller: a handful of consumers would lock out the rest. So the front forwards each
visitor's address with the call, and the node believes it only when the call also carries the
node's front key: ``web-front.key`` in the node's data folder (32 random bytes, mode 0600, made
at first start), handed to the front with ``--front-key``. For such a call ``peer_of`` answers
the visitor's address (``ipv4:203.0.113.7:0``): the limits and the access record see the
visitor. Without the key, or with a wrong one, the forwarded address is ignored and the call
is the front's own; a wrong key is logged, once.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from node.access.codes import load_or_create_key
from node.edge.call_context import metadata_value, with_call_value

if TYPE_CHECKING:
    RpcHandler = grpc.RpcMethodHandler[Any, Any]

log = logging.getLogger(__name__)

FRONT_KEY_FILE = "web-front.key"
"""The front key's file in the node's data folder."""
FRONT_KEY_METADATA = "x-hotline-front-key"
"""Metadata key carrying the front key, in hex."""
VISITOR_METADATA = "x-hotline-visitor-address"
"""Metadata key carrying the visitor's IP address, as the front saw it."""

_VISITOR: contextvars.ContextVar[str] = contextvars.ContextVar("hotline_visitor", default="")


def front_key(data_dir: Path) -> bytes:
    """The node's front key, made (mode 0600, written once) when the folder has none."""
    return load_or_create_key(data_dir, FRONT_KEY_FILE, "web front key")


def visitor_peer(address: str) -> str:
    """``address`` (an IP address) written as gRPC writes a peer, '' when it is none."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    return f"ipv4:{ip}:0" if ip.version == 4 else f"ipv6:[{ip}]:0"


def forwarded_visitor() -> str:
    """The visitor's peer the front forwarded for the current call ('' when none is believed)."""
    return _VISITOR.get()


class FrontInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Stands the forwarded visitor in for the caller for the whole call, when the call carries
    the node's front key (module docstring)."""

    def __init__(self, key: bytes) -> None:
        self._key = key.hex().encode()
        self._warned = False

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[RpcHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> RpcHandler:
        """Wrap the handler of a call the front made for a visitor."""
        handler = await continuation(handler_call_details)
        metadata = handler_call_details.invocation_metadata
        claimed = metadata_value(metadata, FRONT_KEY_METADATA)
        if handler is None or not claimed:
            return handler
        if not hmac.compare_digest(claimed.encode(), self._key):
            if not self._warned:
                self._warned = True
                log.warning(
                    "a call forwarded a visitor's address with a wrong web front key: its "
                    "address is ignored (is the front's --front-key this node's %s?)",
                    FRONT_KEY_FILE,
                )
            return handler
        visitor = visitor_peer(metadata_value(metadata, VISITOR_METADATA))
        if not visitor:
            return handler

        async def the_visitor(_context: Any) -> str:
            return visitor

        return with_call_value(handler, _VISITOR, the_visitor) or handler
