"""The gate of a port: what a call must pass before a servicer sees it.

Three checks, in one interceptor on every method of our services (health and reflection pass
untouched), each refusal one of our errors so that ``node.edge.errors`` gives it its code:

* **calls at once.** A port serves at most ``max_calls`` of our calls at a time (the node's
  ``max_calls`` setting). One more is refused as ``sync.errors.Busy``: RESOURCE_EXHAUSTED with
  the ``grpc-retry-pushback-ms`` trailer (gRFC A6) saying when to try again. A client that
  floods a node gets refusals, not a queue that grows with the flood;
* **size.** A request's bytes are measured against its method's limit
  (``node.edge.limits.REQUEST_LIMITS``) before they are parsed: too many is INVALID_ARGUMENT
  naming ``request``, and the bytes are dropped without ever becoming a message;
* **form.** Bytes that are not a valid message of the method's request type (truncated, a
  wrong wire type, invalid UTF-8 in a string, groups nested past protobuf's depth limit) are
  INVALID_ARGUMENT naming ``request``, not UNKNOWN with an exception's class name.

Limits per caller (sign-in attempts, a consumer's ticket code) belong with sign-in, which
knows the caller: a refusal there raises ``Busy`` with its ``retry_after_ms`` and is answered
like the cap here (docs/security.md, "Hooks for sign-in").

A gate given a ``meter`` (``node.metrics``) also reports every call of our services, refusals
included: its method, its status code (what ``node.edge.errors`` will answer) and its time from
the gate taking it (its request read) to its answer (a stream's to its last message). The
report is an increment on the loop's thread, so the gate stays as cheap as it was.

Checks run where gRPC hands the request's bytes to the method's deserializer: the checking
deserializer hands the servicer a ``_Refusal`` in place of a message, and the wrapped method
raises its error before the servicer is called. The count of calls at once is kept on the
event loop's thread, where both the deserializers and the methods run.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import grpc
from google.protobuf import descriptor_pool
from grpc import aio

from core.errors import HotlineError, InvalidInput
from node.edge.errors import status_for
from node.edge.limits import request_limit
from sync.errors import Busy

if TYPE_CHECKING:
    RpcHandler = grpc.RpcMethodHandler[Any, Any]

OURS = "/hotline.v1."
"""Methods of our services start with this; the gate leaves all others alone."""


class CallMeter(Protocol):
    """Where a gate reports each call (``node.metrics.NodeMetrics``)."""

    def observe_call(self, path: str, code: str, seconds: float) -> None:
        """One call of method ``path`` answered with status ``code`` after ``seconds``."""
        ...


_CODE_NAMES = {c.value[0]: c.name for c in grpc.StatusCode}
"""Status code names by number (a servicer may set a code as a bare number)."""


def _set_code(context: Any) -> str:
    """The status code a servicer set itself on a call it ended without raising (OK if none)."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return _CODE_NAMES.get(code, "UNKNOWN")
    return "OK"


def _code_of(error: BaseException, context: Any) -> str:
    """The status code name a call ending with ``error`` is answered with: one of ours is
    mapped as ``node.edge.errors`` maps it, anything else is INTERNAL."""
    if isinstance(error, aio.AbortError):
        return _set_code(context)  # the servicer set the code as it aborted
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return "CANCELLED"  # the client went away
    code = status_for(error) if isinstance(error, Exception) else None
    return code.name if code is not None else "INTERNAL"


class _Refusal:
    """What the checking deserializer hands on in place of a request that must not be served."""

    __slots__ = ("error",)

    def __init__(self, error: HotlineError) -> None:
        self.error = error


@functools.lru_cache(maxsize=512)
def _request_facts(method: str) -> tuple[int, str, str]:
    """``method``'s request size limit, its short name and its request message's full name
    (``/hotline.v1.S/M``): looked up once per method, not on every call (issue 14)."""
    service, name = method.strip("/").rsplit("/", 1)
    found = descriptor_pool.Default().FindMethodByName(f"{service}.{name}")
    return request_limit(method), name, str(found.input_type.full_name)


class CallGate(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts our calls at once on one server, and checks each request's size and form."""

    def __init__(self, max_calls: int, meter: CallMeter | None = None) -> None:
        self.max_calls = max_calls
        self.in_flight = 0
        """Our calls being served on this server now."""
        self.meter = meter
        """Where each call is reported (None: nowhere)."""

    def _busy(self) -> Busy:
        return Busy(f"the node is serving as many calls as it takes at once ({self.max_calls})")

    def _admit(self) -> None:
        if self.in_flight >= self.max_calls:
            raise self._busy()
        self.in_flight += 1

    def _deserializer(
        self, method: str, parse: Callable[[bytes], Any] | None, unary: bool
    ) -> Callable[[bytes], Any]:
        limit, name, request_type = _request_facts(method)

        def deserialize(raw: bytes) -> Any:
            if unary and self.in_flight >= self.max_calls:
                return _Refusal(self._busy())  # refused anyway: spare the parsing
            if len(raw) > limit:
                return _Refusal(
                    InvalidInput("request", f"{len(raw)} bytes is more than {name} takes ({limit})")
                )
            if parse is None:
                return raw
            try:
                return parse(raw)
            except Exception as error:  # any failure to parse is the caller's bytes' fault
                reason = str(error).rsplit("': ", 1)[-1] or type(error).__name__
            return _Refusal(InvalidInput("request", f"not a valid {request_type} ({reason})"))

        return deserialize

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[RpcHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> RpcHandler:
        """Wrap our methods' handlers: count the call, check its request's size and form."""
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(OURS):
            return handler
        parse = handler.request_deserializer
        serialize = handler.response_serializer
        meter = self.meter
        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: Any) -> Any:
                started = time.perf_counter()
                code = "OK"
                try:
                    if isinstance(request, _Refusal):
                        raise request.error
                    self._admit()
                    try:
                        return await inner_uu(request, context)
                    finally:
                        self.in_flight -= 1
                except BaseException as error:
                    code = _code_of(error, context)
                    raise
                finally:
                    if meter is not None:
                        if code == "OK":
                            code = _set_code(context)
                        meter.observe_call(method, code, time.perf_counter() - started)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, self._deserializer(method, parse, unary=True), serialize
            )
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def unary_stream(request: Any, context: Any) -> AsyncIterator[Any]:
                started = time.perf_counter()
                code = "OK"
                try:
                    if isinstance(request, _Refusal):
                        raise request.error
                    self._admit()
                    try:
                        async for item in inner_us(request, context):  # type: ignore[attr-defined]
                            yield item
                    finally:
                        self.in_flight -= 1
                except BaseException as error:
                    code = _code_of(error, context)
                    raise
                finally:
                    if meter is not None:
                        if code == "OK":
                            code = _set_code(context)
                        meter.observe_call(method, code, time.perf_counter() - started)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, self._deserializer(method, parse, unary=True), serialize
            )
        if handler.stream_unary is not None:
            inner_su = handler.stream_unary

            async def stream_unary(requests: AsyncIterator[Any], context: Any) -> Any:
                started = time.perf_counter()
                code = "OK"
                try:
                    self._admit()
                    try:
                        return await inner_su(_checked(requests), context)  # type: ignore[arg-type]
                    finally:
                        self.in_flight -= 1
                except BaseException as error:
                    code = _code_of(error, context)
                    raise
                finally:
                    if meter is not None:
                        if code == "OK":
                            code = _set_code(context)
                        meter.observe_call(method, code, time.perf_counter() - started)

            return grpc.stream_unary_rpc_method_handler(
                stream_unary, self._deserializer(method, parse, unary=False), serialize
            )
        return handler


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The messages of a client stream; the first refused one raises its error."""
    async for request in requests:
        if isinstance(request, _Refusal):
            raise request.error
        yield request
