"""The one door every client-port call goes through: who may call what (issue 11, item 3).

``PermissionGuard`` runs before every method of a ``hotline.v1`` service on the client port,
inside ``SessionInterceptor`` (which has already proven the token, if one was sent). It finds
the method's row in ``core.access.permissions.PERMISSIONS`` and refuses, before the method runs
and so before anything is written:

* a method without a row: PERMISSION_DENIED whoever calls (deny by default);
* a call that needs an officer and sends no session token: UNAUTHENTICATED (every method
  but ``SignIn``; the token itself was checked by ``SessionInterceptor``); a token of an
  officer no longer on the roster: UNAUTHENTICATED;
* an officer without any of the method's roles, or acting outside their unit's jurisdiction
  (the ticket, the unit or the node the call is about): PERMISSION_DENIED, naming what was
  missing.

Each refusal is a row of the node's access record (``SignInDesk.refuse_call``) with its reason
(``no-rule``, ``no-token``, ``unknown-officer``, ``missing-role``, ``outside-jurisdiction``).

There is no way around it, not even on a fresh node: its first security administrator is made
on the node's machine (``hotline officers init-admin``, with the data folder), and signs in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from core.access.permissions import (
    CallScope,
    Jurisdiction,
    Permission,
    why_outsider_refused,
    why_refused,
)
from core.access.permissions import permission_of as rule_of
from core.access.reasons import CallRefusal
from core.errors import NotPermitted, NotSignedIn, UnknownOfficer
from core.identifiers import check_code_prefix
from core.officers import Officer
from node.edge.caller import peer_of, signed_in

if TYPE_CHECKING:
    from node.app.runtime import Node

    RpcHandler = grpc.RpcMethodHandler[Any, Any]


class PermissionGuard(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Judges every client-port call against the table before its method runs."""

    def __init__(self, node: Node) -> None:
        self._node = node

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[RpcHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> RpcHandler:
        """Wrap the method's handler so that the table is asked first."""
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith("/hotline.v1."):
            return handler  # health and reflection stay open
        admit = self.admit
        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: Any) -> Any:
                await admit(method, request, context)
                return await inner_uu(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def unary_stream(request: Any, context: Any) -> AsyncIterator[Any]:
                await admit(method, request, context)
                async for item in inner_us(request, context):  # type: ignore[attr-defined]
                    yield item

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, handler.request_deserializer, handler.response_serializer
            )
        # No client-port service streams requests; refuse rather than let one skip the table.
        raise NotImplementedError(f"{method}: a streaming request cannot be judged here")

    async def admit(self, method: str, request: Any, context: Any) -> None:
        """Return when the call may go on; raise the refusal (recorded) when not."""
        rule = rule_of(method)
        peer = peer_of(context)
        if rule is None:
            who = self._named(context)
            error = NotPermitted(f"{method} has no entry in the table of who may call what")
            raise await self._refuse(who, CallRefusal.NO_RULE, peer, method, error)
        if rule.open:
            return
        proven = signed_in()
        if proven is not None and not proven.is_officer:
            # An enterprise user or a consumer: only rows open to their kind, never an
            # officer's row.
            named = str(getattr(request, rule.field)) if rule.field else ""
            outsider = why_outsider_refused(method, rule, proven.principal, named)
            if outsider is not None:
                error = NotPermitted(outsider.message)
                label = proven.principal.label
                raise await self._refuse(label, outsider.denial, peer, method, error)
            return
        officer = await self._caller(method, peer, context)
        scope = await self._scope(rule, request)
        refused = why_refused(method, rule, officer, scope)
        if refused is not None:
            error = NotPermitted(refused.message)
            raise await self._refuse(officer.officer_id, refused.denial, peer, method, error)

    def _named(self, context: Any) -> str:
        proven = signed_in()
        return proven.principal.label if proven else ""

    async def _caller(self, method: str, peer: str, context: Any) -> Officer:
        """The acting officer: the one the call's session token proved."""
        named = self._named(context)
        if not named:
            error = NotSignedIn(
                f"{method.rpartition('/')[2]} needs a signed-in officer: sign in (hotline login) "
                "and send the session token"
            )
            raise await self._refuse("", CallRefusal.NO_TOKEN, peer, method, error)
        try:
            return await self._node.roster.resolve(named)
        except UnknownOfficer as error:
            raise await self._refuse(
                named[:32], CallRefusal.UNKNOWN_OFFICER, peer, method, error
            ) from None

    async def _scope(self, rule: Permission, request: Any) -> CallScope:
        """What the call is about: the node's unit, and the unit or ticket the request names."""
        node_unit = self._node.identity.unit_code
        match rule.jurisdiction:
            case Jurisdiction.UNIT:
                # A malformed code is bad input, named as such, not a unit outside the caller's.
                unit = check_code_prefix(str(getattr(request, rule.field)), rule.field)
                return CallScope(node_unit, unit=unit)
            case Jurisdiction.TICKET:
                ticket_id = str(getattr(request, rule.field))
                state = await self._node.records.state_of(ticket_id) if ticket_id else None
                return CallScope(node_unit, ticket=state)
        return CallScope(node_unit)

    async def _refuse(
        self, officer_id: str, why: CallRefusal, peer: str, method: str, error: Exception
    ) -> Exception:
        return await self._node.access.refuse_call(officer_id, why, peer, method, error)
