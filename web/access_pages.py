"""Signing in and out of the web front: the three doors of AccessService.

Enterprise users sign in with their enterprise's credit code, user id, password and TOTP code
(EnterpriseSignIn); consumers with their ticket's id and verification code (ConsumerSignIn);
officers with their id, password and TOTP code (SignIn) for the supervision view. The node's
token is kept in the visitor's server-side session, which is replaced at sign-in; signing out
ends the node's session too. A refused sign-in (wrong code, locked) shows the node's reason on
the form, with what was typed kept (never the password).
"""

from __future__ import annotations

import contextlib
import secrets

from aiohttp import web

from node.edge.client import CallError
from proto.hotline.v1 import access_pb2
from web.pages import (
    form_errors,
    node,
    render,
    replace_visitor,
    see_other,
    visitor,
)
from web.refusals import SIGN_IN_HEADLINES, refusal_of

ENTERPRISE_FIELDS = ("credit_code", "user_id", "password", "totp_code")
CONSUMER_FIELDS = ("ticket_id", "code")
OFFICER_FIELDS = ("officer_id", "password", "totp_code")

HOME_OF = {"enterprise": "/enterprise/", "consumer": "/consumer/ticket", "officer": "/supervision/"}
"""Where each kind of visitor lands after signing in."""


async def _signed_in(request: web.Request, answer: access_pb2.SignInResponse) -> web.Response:
    """Keep the node's token in a new session for the visitor and send them home."""
    who = replace_visitor(request)
    session = answer.session
    who.node_token = answer.token
    who.principal = session.principal or "officer"
    who.display_name = session.enterprise_name or session.officer_name or session.ticket_id
    who.credit_code = session.credit_code
    who.ticket_id = session.ticket_id
    who.unit_code = session.unit_code
    return see_other(HOME_OF.get(who.principal, "/"))


def _kept(form: dict[str, str], fields: tuple[str, ...]) -> dict[str, str]:
    """What the visitor typed, to show again (never a password or a code)."""
    return {f: form.get(f, "") for f in fields if f not in ("password", "totp_code", "code")}


async def enterprise_sign_in_page(request: web.Request) -> web.Response:
    """The enterprise portal's sign-in form."""
    return render(request, "enterprise_sign_in.html")


async def enterprise_sign_in(request: web.Request) -> web.Response:
    """Sign an enterprise user in (EnterpriseSignIn)."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    message = access_pb2.EnterpriseSignInRequest(
        credit_code=form.get("credit_code", "").strip(),
        user_id=form.get("user_id", "").strip(),
        password=form.get("password", ""),
        totp_code=form.get("totp_code", "").strip(),
    )
    try:
        answer = await node(request).call(node(request).access.EnterpriseSignIn, message)
    except CallError as error:
        errors, alert = form_errors(refusal_of(error, SIGN_IN_HEADLINES), ENTERPRISE_FIELDS)
        kept = _kept(form, ENTERPRISE_FIELDS)
        return render(
            request, "enterprise_sign_in.html", 400, errors=errors, alert=alert, form=kept
        )
    return await _signed_in(request, answer)


async def consumer_sign_in(request: web.Request) -> web.Response:
    """Sign a consumer in with their ticket's id and code (ConsumerSignIn)."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    message = access_pb2.ConsumerSignInRequest(
        ticket_id=form.get("ticket_id", "").strip(), code=form.get("code", "").strip()
    )
    try:
        answer = await node(request).call(node(request).access.ConsumerSignIn, message)
    except CallError as error:
        errors, alert = form_errors(refusal_of(error, SIGN_IN_HEADLINES), CONSUMER_FIELDS)
        kept = {"follow": _kept(form, CONSUMER_FIELDS)}
        fresh_id = secrets.token_hex(16)
        return render(
            request,
            "consumer_home.html",
            400,
            errors=errors,
            alert=alert,
            form=kept,
            request_id=fresh_id,
        )
    return await _signed_in(request, answer)


async def officer_sign_in_page(request: web.Request) -> web.Response:
    """The supervision view's sign-in form."""
    return render(request, "officer_sign_in.html")


async def officer_sign_in(request: web.Request) -> web.Response:
    """Sign an officer in for the supervision view (SignIn)."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    message = access_pb2.SignInRequest(
        officer_id=form.get("officer_id", "").strip(),
        password=form.get("password", ""),
        totp_code=form.get("totp_code", "").strip(),
    )
    try:
        answer = await node(request).call(node(request).access.SignIn, message)
    except CallError as error:
        errors, alert = form_errors(refusal_of(error, SIGN_IN_HEADLINES), OFFICER_FIELDS)
        kept = _kept(form, OFFICER_FIELDS)
        return render(request, "officer_sign_in.html", 400, errors=errors, alert=alert, form=kept)
    return await _signed_in(request, answer)


async def sign_out(request: web.Request) -> web.Response:
    """End the node's session and the visitor's (SignOut), whatever the node answers."""
    who = visitor(request)
    if who.signed_in:
        # A refusal means the node's session is gone already (expired, idle): nothing to end.
        with contextlib.suppress(CallError):
            await node(request).call(
                node(request).access.SignOut, access_pb2.SignOutRequest(), who.node_token
            )
    fresh = replace_visitor(request)
    fresh.flash.append("已退出登录。")
    return see_other("/")


def add_access_routes(app: web.Application) -> None:
    """Register the sign-in and sign-out pages."""
    app.router.add_get("/enterprise/sign-in", enterprise_sign_in_page)
    app.router.add_post("/enterprise/sign-in", enterprise_sign_in)
    app.router.add_post("/consumer/sign-in", consumer_sign_in)
    app.router.add_get("/supervision/sign-in", officer_sign_in_page)
    app.router.add_post("/supervision/sign-in", officer_sign_in)
    app.router.add_post("/sign-out", sign_out)
