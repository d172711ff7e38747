"""AccessService: sign in, sign out, who am I, set an officer's credentials. Translates and
delegates to the sign-in desk (``node.access.desk``).

The token of the call (for SignOut, WhoAmI, SetCredentials) was checked by
``node.edge.caller.SessionInterceptor`` before the method runs; these methods need a signed-in
officer (a call without a token is refused at the door, and here again should one get past).
Errors propagate to ``node.edge.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grpc import aio

from core.access.reasons import CallRefusal
from core.errors import NotSignedIn
from node.access.desk import SignedIn, SignInDesk
from node.app.profile import ServiceMount
from node.desks.roster import Roster
from node.edge.caller import peer_of, signed_in
from proto.hotline.v1 import access_pb2, access_pb2_grpc
from sync.codec import enum_number

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]


class AccessServicer(access_pb2_grpc.AccessServiceServicer):
    """AccessService: officers' sessions on this node."""

    def __init__(self, desk: SignInDesk, roster: Roster) -> None:
        self._desk = desk
        self._roster = roster

    async def SignIn(
        self, request: access_pb2.SignInRequest, context: Context
    ) -> access_pb2.SignInResponse:
        """Check password and code; answer a session token."""
        result = await self._desk.sign_in(
            request.officer_id, request.password, request.totp_code, peer_of(context)
        )
        return access_pb2.SignInResponse(
            token=result.token,
            session=await self._session(SignedIn(result.session.officer_id, result.session)),
        )

    async def SignOut(
        self, request: access_pb2.SignOutRequest, context: Context
    ) -> access_pb2.SignOutResponse:
        """End the session of the call's token."""
        who = await self._signed_in(context, "SignOut")
        await self._desk.sign_out(who, peer_of(context))
        return access_pb2.SignOutResponse(session_id=who.session.session_id)

    async def WhoAmI(
        self, request: access_pb2.WhoAmIRequest, context: Context
    ) -> access_pb2.Session:
        """The session of the call's token."""
        return await self._session(await self._signed_in(context, "WhoAmI"))

    async def SetCredentials(
        self, request: access_pb2.SetCredentialsRequest, context: Context
    ) -> access_pb2.SetCredentialsResponse:
        """A security administrator sets an officer's password and a new TOTP secret."""
        shown = await self._desk.set_credentials(
            signed_in(), request.officer_id, request.password, peer_of(context)
        )
        return access_pb2.SetCredentialsResponse(
            officer_id=shown.officer_id,
            totp_secret=shown.totp_secret,
            otpauth_uri=shown.otpauth_uri,
        )

    async def _signed_in(self, context: Context, method: str) -> SignedIn:
        """The call's signed-in officer; a call without a token is refused (and recorded)."""
        who = signed_in()
        if who is None:
            raise await self._desk.refuse_call(
                "",
                CallRefusal.NO_TOKEN,
                peer_of(context),
                f"/hotline.v1.AccessService/{method}",
                NotSignedIn("not signed in: no session token sent (hotline login)"),
            )
        return who

    async def _session(self, who: SignedIn) -> access_pb2.Session:
        officer = await self._roster.resolve(who.officer_id)
        session = who.session
        return access_pb2.Session(
            session_id=session.session_id,
            node_id=session.node_id,
            officer_id=officer.officer_id,
            officer_name=officer.name,
            unit_code=officer.unit_code,
            roles=sorted(enum_number(r) for r in officer.roles),
            issued_ms=session.issued_ms,
            expires_ms=session.expires_ms,
            idle_timeout_ms=self._desk.policy.idle_ms,
        )


def _add(node: Node, server: aio.Server) -> None:
    servicer = AccessServicer(node.access, node.roster)
    access_pb2_grpc.add_AccessServiceServicer_to_server(servicer, server)


ACCESS = ServiceMount(access_pb2.DESCRIPTOR.services_by_name["AccessService"].full_name, _add)
"""AccessService, on every node's client port."""
