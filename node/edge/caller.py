"""Who is calling: the acting officer of a request, decided in one place at the edge.

An officer signs in (``AccessService.SignIn``) and sends the session token on every call in the
``authorization: Bearer <token>`` metadata. ``SessionInterceptor`` checks it before any method
of a ``hotline.v1`` service runs on the client port: a valid token makes its officer the acting
officer of the call (``acting_officer``, ``signed_in``); a token that is present but does not
hold (malformed, forged, another node's, expired, idle, signed out) is refused UNAUTHENTICATED
before the method runs, and recorded in the node's access record. A token checked in full a
moment ago is answered from the sign-in desk's memory (``node.access.checked``, at most two
seconds old), without a trip to the blocking pool.

A token is the only way to name the acting officer: a call without one acts as nobody, and
``node.edge.guard.PermissionGuard`` refuses it (UNAUTHENTICATED, recorded) for every method but
``SignIn``. The client port is TLS (``node.edge.channels``), so the token and the password of a
sign-in never cross the network in clear.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from core.errors import NotPermitted, NotSignedIn
from node.edge.call_context import metadata_value, with_call_value
from node.edge.front import forwarded_visitor

if TYPE_CHECKING:
    from node.access.desk import SignedIn, SignInDesk

    RpcHandler = grpc.RpcMethodHandler[Any, Any]

AUTHORIZATION_METADATA = "authorization"
"""Metadata key carrying ``Bearer <session token>``."""

BEARER = "Bearer "

NODE_METADATA = "x-hotline-node"
"""Metadata key naming the calling node (replication)."""

SIGN_IN_METHOD = "/hotline.v1.AccessService/SignIn"
"""The one method a token is never asked of (it is how one gets a token)."""

_SIGNED_IN: contextvars.ContextVar[SignedIn | None] = contextvars.ContextVar(
    "hotline_signed_in", default=None
)
"""The officer the current call's token proved; set by ``SessionInterceptor`` for the call."""


def signed_in() -> SignedIn | None:
    """The officer and session the current call's token proved; None when it sent none."""
    return _SIGNED_IN.get()


def acting_officer(context: aio.ServicerContext[Any, Any]) -> str:
    """The officer acting in this call: the one its session token proved; ``NotSignedIn``
    when it sent none (the guard refuses such calls before any method that needs an officer),
    ``NotPermitted`` when its token is an enterprise user's or a consumer's."""
    proven = _SIGNED_IN.get()
    if proven is None:
        raise NotSignedIn("sign in first (hotline login) and send the session token")
    if not proven.is_officer:
        # An enterprise user or a consumer never acts as an officer, whatever their id.
        raise NotPermitted(f"{proven.principal.label} is not an officer")
    return proven.officer_id


def peer_of(context: aio.ServicerContext[Any, Any]) -> str:
    """The caller's address as gRPC saw it (``ipv4:10.0.0.7:51234``), for the access record and
    the limits per caller; for a web front's call with the node's front key, the visitor's
    (``node.edge.front``)."""
    visitor = forwarded_visitor()
    if visitor:
        return visitor
    peer = context.peer()
    return peer.decode() if isinstance(peer, bytes) else str(peer or "")


class SessionInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Checks the session token of every ``hotline.v1`` call before its method runs.

    Sits inside ``ErrorMappingInterceptor`` (listed after it), so its refusals become status
    codes there: ``NotSignedIn`` is UNAUTHENTICATED. A call without a token passes through as
    nobody's: the guard behind refuses it wherever an officer is needed.
    """

    def __init__(self, desk: SignInDesk) -> None:
        self._desk = desk

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[RpcHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> RpcHandler:
        """Wrap the method's handler so that it runs as the token's officer."""
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith("/hotline.v1.") or method == SIGN_IN_METHOD:
            return handler
        metadata = handler_call_details.invocation_metadata
        authorization = metadata_value(metadata, AUTHORIZATION_METADATA)
        if not authorization:
            return handler  # nobody's call: the guard refuses it where an officer is needed
        check = self._check

        async def the_officer(context: Any) -> SignedIn:
            return await check(authorization, context, method)

        wrapped = with_call_value(handler, _SIGNED_IN, the_officer)
        if wrapped is not None:
            return wrapped
        # No client-port service streams requests; refuse rather than let one skip the check.
        raise NotImplementedError(f"{method}: a streaming request cannot be checked here")

    async def _check(self, authorization: str, context: Any, method: str) -> SignedIn:
        """The officer the token proves; refuses (recorded) a token that does not hold."""
        token = authorization[len(BEARER) :] if authorization.startswith(BEARER) else authorization
        return await self._desk.authenticate(token.strip(), peer_of(context), method)
