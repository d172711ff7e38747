"""Administrators' acts into the access record: every change an administrator makes through
the client port leaves a row naming who, what, when and from where (issue 11, item 6).

The sign-in desk already records what it does itself (credentials set, enterprise users
added, officer accounts pushed and revoked). The admin methods that change the node through
other desks (the roster, units, replication, trust, quarantine) are recorded here, at the
edge, once the method has answered: ``ActRecorder`` sits behind the permission guard, so only
acts that were let in and served are written as done; refusals are the guard's rows.

The row is written after the act's own transaction, not inside it: a crash between the two
loses the row, never the act. What such an act changes is itself on the roster, in the units
table or in the signed log, so the audit administrator can still find it there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import text_format
from grpc import aio

from node.edge.caller import peer_of, signed_in

if TYPE_CHECKING:
    from node.access.desk import SignInDesk

    RpcHandler = grpc.RpcMethodHandler[Any, Any]

RECORDED_ACTS = frozenset(
    {
        "/hotline.v1.AdminService/RegisterOfficer",
        "/hotline.v1.AdminService/RegisterUnit",
        "/hotline.v1.AdminService/SyncNow",
        "/hotline.v1.AdminService/ReleaseQuarantine",
        "/hotline.v1.AdminService/PublishTrust",
    }
)
"""The administrators' acts recorded here; the others record themselves in the desk."""

DETAIL_CHARACTERS = 300
"""A row's detail is the request in short; the act's full content is where the act put it."""


def describe(request: Any) -> str:
    """The request on one line, cut short (the trust bundle's certificates are not text)."""
    text = text_format.MessageToString(request, as_one_line=True, as_utf8=True)
    return text if len(text) <= DETAIL_CHARACTERS else text[: DETAIL_CHARACTERS - 1] + "…"


class ActRecorder(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Appends an ``admin-act`` row for each administrator's act the node has served."""

    def __init__(self, desk: SignInDesk) -> None:
        self._desk = desk

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[RpcHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> RpcHandler:
        """Wrap the handlers of the recorded acts; leave every other method alone."""
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method not in RECORDED_ACTS or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        desk = self._desk

        async def unary_unary(request: Any, context: Any) -> Any:
            answer = await inner(request, context)
            who = signed_in()
            if who is not None:
                detail = "" if method.endswith("PublishTrust") else describe(request)
                await desk.record_act(who, method.rsplit("/", 1)[1], peer_of(context), detail)
            return answer

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
