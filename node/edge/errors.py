"""The gRPC edge's one place where our errors become status codes.

Every servicer method lets our errors (the tree drawn in ``core.errors``) propagate; the
interceptor here catches them at the edge and aborts the call with the mapped code and the
error's one-line message (which names the field for ``InvalidInput``). ``STATUS_OF`` maps every
class of the tree, so none reaches a caller as INTERNAL; docs/architecture.md ("Errors") says
why each code was chosen. Anything else is a bug: it is logged with its traceback and reported
as INTERNAL without leaking details.

A refusal costs the node as little as it can: the message is cut to ``MAX_DETAILS`` characters
(it may quote what the caller sent), and an error that says when to retry (``Busy``) puts that
in the ``grpc-retry-pushback-ms`` trailer. The call is ended by setting its status and
returning, not with ``context.abort``: gRPC's abort raises an exception that it keeps in a
reference cycle with the handler's frames, so every refused request stayed in memory until the
garbage collector's next full pass (``tests/node/test_call_gate.py`` counts them).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from core.errors import (
    AccountLocked,
    DomainError,
    EnrolmentForbidden,
    HotlineError,
    InvalidInput,
    NotFound,
    NotPermitted,
    NotSignedIn,
    StepNotAllowed,
    UnknownOfficer,
)
from node.app.data_folder import DataFolderInUse
from node.app.settings import InvalidSetting
from node.edge.client import CallError
from sync.envelope import EnvelopeError
from sync.errors import PUSHBACK, Busy, ReplicationError, StorageError, WaitExpired
from sync.identity import CertificateNotUsable, IdentityError, NotEnrolled
from sync.odr_roster_signing import RosterRecordRefused
from sync.officer_account_signing import AccountRefused
from sync.personal.suites import SealBroken
from sync.pki import PkiError
from sync.protocol import ProtocolMismatch
from sync.rule_book_signing import RuleBookRefused

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    RpcHandler = grpc.RpcMethodHandler[Any, Any]


STATUS_OF: list[tuple[type[HotlineError], grpc.StatusCode]] = [
    # what the caller sent is wrong, whatever the node's state: fix it, do not retry as is
    (InvalidSetting, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (EnvelopeError, grpc.StatusCode.INVALID_ARGUMENT),
    # the step does not fit the state of the ticket, of the trust or of this node: change that
    (StepNotAllowed, grpc.StatusCode.FAILED_PRECONDITION),
    (EnrolmentForbidden, grpc.StatusCode.FAILED_PRECONDITION),
    (PkiError, grpc.StatusCode.FAILED_PRECONDITION),
    (RuleBookRefused, grpc.StatusCode.FAILED_PRECONDITION),
    (ProtocolMismatch, grpc.StatusCode.FAILED_PRECONDITION),
    (SealBroken, grpc.StatusCode.DATA_LOSS),
    (AccountRefused, grpc.StatusCode.FAILED_PRECONDITION),
    (RosterRecordRefused, grpc.StatusCode.FAILED_PRECONDITION),
    (NotEnrolled, grpc.StatusCode.FAILED_PRECONDITION),
    (CertificateNotUsable, grpc.StatusCode.FAILED_PRECONDITION),
    (IdentityError, grpc.StatusCode.FAILED_PRECONDITION),
    (DataFolderInUse, grpc.StatusCode.FAILED_PRECONDITION),
    # who is asking
    (AccountLocked, grpc.StatusCode.PERMISSION_DENIED),  # known, refused for now (no retry)
    (NotPermitted, grpc.StatusCode.PERMISSION_DENIED),
    (UnknownOfficer, grpc.StatusCode.UNAUTHENTICATED),
    (NotSignedIn, grpc.StatusCode.UNAUTHENTICATED),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (DomainError, grpc.StatusCode.FAILED_PRECONDITION),
    # the node takes no more now, or a wait ran past its limit: retry later
    (Busy, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (WaitExpired, grpc.StatusCode.DEADLINE_EXCEEDED),
    # something below or beside the node failed: the same call may succeed later
    (StorageError, grpc.StatusCode.UNAVAILABLE),
    (ReplicationError, grpc.StatusCode.UNAVAILABLE),
    (CallError, grpc.StatusCode.UNAVAILABLE),
    # the root is never raised itself; its row is the floor under a class added without one
    (HotlineError, grpc.StatusCode.FAILED_PRECONDITION),
]
"""Every class of our error tree and its status code, most specific first.

``tests/test_error_tree.py`` finds every class of the tree and requires its own row here (the
root's row only keeps a forgotten one from reaching a caller as INTERNAL).
"""


def status_for(error: Exception) -> grpc.StatusCode | None:
    """The status code for one of our errors, or None for anything else."""
    for kind, code in STATUS_OF:
        if isinstance(error, kind):
            return code
    return None


MAX_DETAILS = 1000
"""Most characters of an error message sent back (trailers beyond 8 KB fail the call)."""

Failure = tuple[grpc.StatusCode, str, tuple[tuple[str, str], ...]]
"""What a call is answered with: code, message, trailing metadata."""


def failure_of(error: Exception) -> Failure:
    """The status, message and trailers for ``error``; a bug is logged with its traceback."""
    code = status_for(error)
    if code is None:
        log.error("internal error in %s", type(error).__name__, exc_info=error)
        return grpc.StatusCode.INTERNAL, "internal error; see the node's log", ()
    details = str(error)
    if len(details) > MAX_DETAILS:
        details = details[: MAX_DETAILS - 3] + "..."
    trailers: tuple[tuple[str, str], ...] = ()
    if isinstance(error, Busy):
        trailers = ((PUSHBACK, str(error.retry_after_ms)),)
    return code, details, trailers


def _fail(context: aio.ServicerContext[Any, Any], failure: Failure) -> None:
    """End the call with ``failure``'s status when the handler returns (no response)."""
    code, details, trailers = failure
    if trailers:
        context.set_trailing_metadata(trailers)
    context.set_code(code)
    context.set_details(details)


class ErrorMappingInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Turns our exceptions into gRPC status codes for every method of every service."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[RpcHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> RpcHandler:
        """Wrap the method's handler so that our errors become status codes."""
        handler = await continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith("/hotline.v1."):
            return handler
        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: Any) -> Any:
                try:
                    return await inner_uu(request, context)
                except aio.AbortError:
                    raise
                except Exception as error:
                    failure = failure_of(error)
                _fail(context, failure)
                return None

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def unary_stream(request: Any, context: Any) -> AsyncIterator[Any]:
                try:
                    async for item in inner_us(request, context):  # type: ignore[attr-defined]
                        yield item
                    return
                except aio.AbortError:
                    raise
                except Exception as error:
                    failure = failure_of(error)
                _fail(context, failure)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary is not None:
            inner_su = handler.stream_unary

            async def stream_unary(request_iterator: Any, context: Any) -> Any:
                try:
                    return await inner_su(request_iterator, context)
                except aio.AbortError:
                    raise
                except Exception as error:
                    failure = failure_of(error)
                _fail(context, failure)
                return None

            return grpc.stream_unary_rpc_method_handler(
                stream_unary, handler.request_deserializer, handler.response_serializer
            )
        return handler
