"""AccessService: sign in (officers, enterprise users, consumers), sign out, who am I, set an
officer's credentials, add an enterprise user, read the access record. Translates and delegates
to the sign-in desk (``node.access.desk``).

The token of the call (for SignOut, WhoAmI, SetCredentials) was checked by
``node.edge.caller.SessionInterceptor`` before the method runs; these methods need a signed-in
officer (a call without a token is refused at the door, and here again should one get past).
Errors propagate to ``node.edge.errors``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from grpc import aio

from core.access.principals import PrincipalKind
from core.access.reading import access_filter
from core.access.reasons import CallRefusal
from core.errors import NotSignedIn
from node.access.desk import SignedIn, SignInDesk, SignInResult
from node.access.reader import PAGE_ROWS
from node.access.record import StoredRow
from node.app.profile import ServiceMount
from node.desks.roster import Roster
from node.edge.caller import acting_officer, peer_of, signed_in
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
        return await self._answer(result)

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

    async def ReadAccessRecord(
        self, request: access_pb2.ReadAccessRecordRequest, context: Context
    ) -> AsyncIterator[access_pb2.AccessRecordPage]:
        """The audit administrator reads the access record: the read is recorded first, then
        the matching rows stream in pages up to the read's own row (the table's row for this
        method lets only ``audit_admin`` in)."""
        wanted = access_filter(
            officer_id=request.officer_id,
            actions=list(request.actions),
            outcome=request.outcome,
            since_ms=request.since_ms,
            until_ms=request.until_ms,
            text=request.text,
            limit=request.limit,
            newest_first=request.newest_first,
            after_seq=request.after_seq,
        )
        who = signed_in()
        head_seq, head_digest = await self._desk.begin_read(
            acting_officer(context),
            who.session.session_id if who else "",
            peer_of(context),
            wanted,
        )
        cursor, left, sent = wanted.after_seq, wanted.limit, False
        while True:
            size = min(left, PAGE_ROWS) if wanted.limit else PAGE_ROWS
            rows = await self._desk.read_page(wanted, cursor, head_seq, size)
            if rows or not sent:
                yield access_pb2.AccessRecordPage(
                    rows=[_row(r) for r in rows], head_seq=head_seq, head_digest=head_digest
                )
                sent = True
            left -= len(rows)
            if len(rows) < size or (wanted.limit and left <= 0):
                return
            cursor = rows[-1].chained.entry.seq

    async def EnterpriseSignIn(
        self, request: access_pb2.EnterpriseSignInRequest, context: Context
    ) -> access_pb2.SignInResponse:
        """An enterprise user signs in (password and TOTP code, as officers)."""
        result = await self._desk.enterprise_sign_in(
            request.credit_code,
            request.user_id,
            request.password,
            request.totp_code,
            peer_of(context),
        )
        return await self._answer(result)

    async def ConsumerSignIn(
        self, request: access_pb2.ConsumerSignInRequest, context: Context
    ) -> access_pb2.SignInResponse:
        """A consumer signs in with their ticket's id and verification code."""
        result = await self._desk.consumer_sign_in(
            request.ticket_id, request.code, peer_of(context)
        )
        return await self._answer(result)

    async def AddEnterpriseUser(
        self, request: access_pb2.AddEnterpriseUserRequest, context: Context
    ) -> access_pb2.AddEnterpriseUserResponse:
        """A county's security administrator adds an enterprise user (or renews their
        credentials); the TOTP secret is answered once."""
        added = await self._desk.add_enterprise_user(
            signed_in(),
            request.credit_code,
            request.enterprise_name,
            request.user_id,
            request.name,
            request.password,
            peer_of(context),
        )
        return access_pb2.AddEnterpriseUserResponse(
            credit_code=added.credit_code,
            user_id=added.user_id,
            enrolled=added.enrolled,
            totp_secret=added.totp_secret,
            otpauth_uri=added.otpauth_uri,
        )

    async def _answer(self, result: SignInResult) -> access_pb2.SignInResponse:
        return access_pb2.SignInResponse(
            token=result.token,
            session=await self._session(SignedIn(result.session.officer_id, result.session)),
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
        session = who.session
        principal = who.principal
        if principal.kind is not PrincipalKind.OFFICER:
            described = access_pb2.Session(
                session_id=session.session_id,
                node_id=session.node_id,
                officer_id=principal.principal_id,
                issued_ms=session.issued_ms,
                expires_ms=session.expires_ms,
                idle_timeout_ms=self._desk.policy_of(principal.kind).idle_ms,
                principal=principal.kind.value,
            )
            if principal.kind is PrincipalKind.CONSUMER:
                described.ticket_id = principal.scope
            else:
                user = await self._desk.enterprise_user(who)
                described.officer_name = user.name
                described.credit_code = user.credit_code
                described.enterprise_name = user.enterprise_name
            return described
        officer = await self._roster.resolve(who.officer_id)
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
            principal=principal.kind.value,
        )


def _row(stored: StoredRow) -> access_pb2.AccessRecordRow:
    entry = stored.chained.entry
    return access_pb2.AccessRecordRow(
        seq=entry.seq,
        at_ms=entry.at_ms,
        officer_id=entry.officer_id,
        action=entry.action.value,
        outcome=entry.outcome.value,
        reason=entry.reason,
        peer=entry.peer,
        session_id=entry.session_id,
        detail=entry.detail,
        digest=stored.chained.digest,
        key_id=stored.key_id,
    )


def _add(node: Node, server: aio.Server) -> None:
    servicer = AccessServicer(node.access, node.roster)
    access_pb2_grpc.add_AccessServiceServicer_to_server(servicer, server)


ACCESS = ServiceMount(access_pb2.DESCRIPTOR.services_by_name["AccessService"].full_name, _add)
"""AccessService, on every node's client port."""
