"""Running a method's handler with a per-call value set, for the interceptors that name callers.

Why this exists: the door's interceptors (``node.edge.caller`` for the session's officer,
``node.edge.front`` for a web front's visitor) each decide something about a call before its
method runs and make it readable, for that call only, through a context variable. Wrapping a
gRPC handler so that the variable is set around the method, for a unary method and for one
that streams its answer, is the same every time; it lives here once.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import grpc

if TYPE_CHECKING:
    RpcHandler = grpc.RpcMethodHandler[Any, Any]

T = TypeVar("T")


def metadata_value(metadata: Any, key: str) -> str:
    """The first value of ``key`` in a call's invocation metadata, as text ('' when absent)."""
    for item_key, value in metadata or ():
        if item_key == key:
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


def with_call_value(
    handler: RpcHandler,
    variable: contextvars.ContextVar[T],
    value_for: Callable[[Any], Awaitable[T]],
) -> RpcHandler | None:
    """``handler`` running with ``variable`` set to ``await value_for(context)`` for each call.

    ``value_for`` runs before the method (it may refuse the call by raising); the variable is
    reset when the method ends. None when the handler streams its requests, which no
    client-port method does: the caller decides what to do with such a handler.
    """
    if handler.unary_unary is not None:
        inner_uu = handler.unary_unary

        async def unary_unary(request: Any, context: Any) -> Any:
            token = variable.set(await value_for(context))
            try:
                return await inner_uu(request, context)
            finally:
                variable.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_us = handler.unary_stream

        async def unary_stream(request: Any, context: Any) -> AsyncIterator[Any]:
            token = variable.set(await value_for(context))
            try:
                async for item in inner_us(request, context):  # type: ignore[attr-defined]
                    yield item
            finally:
                variable.reset(token)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )
    return None
