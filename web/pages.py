"""What every page handler shares: the visitor, the template renderer and the CSRF check.

The visitor's session is found (or made) by ``visitor_middleware`` for every request; a POST
whose form does not echo the session's CSRF token is refused (403) before any handler runs.
Handlers render Jinja2 templates (autoescaped) through ``render`` and call the node through
``node(request)``; a refusal that hides a ticket becomes ``refusal_page``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from aiohttp import web
from google.protobuf.message import Message

from proto.hotline.v1 import odr_pb2
from web import display
from web.node_link import NodeLink, VisitorLink
from web.refusals import Refusal
from web.sessions import COOKIE, Visitor, VisitorBook

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

NODE_LINK = web.AppKey("node_link", NodeLink)
VISITORS = web.AppKey("visitors", VisitorBook)
TEMPLATE_ENV = web.AppKey("templates", jinja2.Environment)
SECURE_COOKIE = web.AppKey("secure_cookie", bool)
VISITOR = web.RequestKey("visitor", Visitor)

Answer = TypeVar("Answer", bound=Message)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def template_environment() -> jinja2.Environment:
    """The pages' Jinja2 environment: autoescaped HTML, the display filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        auto_reload=False,  # templates never change under a running front: no disk check per page
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["china_time"] = display.china_time
    env.filters["due_time"] = display.due_time
    env.filters["yuan"] = display.yuan
    env.filters["time_left"] = display.time_left
    env.filters["status_word"] = display.status_word
    env.filters["step_word"] = display.step_word
    env.globals["label"] = display.label
    env.globals["words"] = display  # the Chinese names of states and kinds
    env.globals["odr"] = odr_pb2  # the enums' numbers, by name
    return env


def visitor(request: web.Request) -> Visitor:
    """The visitor making ``request`` (set by the middleware)."""
    return request[VISITOR]


def node(request: web.Request) -> VisitorLink:
    """The link to the node behind the front, for the visitor of ``request``."""
    return request.app[NODE_LINK].for_visitor(visitor_address(request))


def visitor_address(request: web.Request) -> str:
    """The visitor's IP address, for the node's limits and access record (``node.edge.front``).

    Behind the TLS proxy (``--behind-tls``, the proxy on this machine) the connection is the
    proxy's: the visitor is the last address the proxy added to ``X-Forwarded-For`` (addresses
    before it came from the browser, which may write anything there). The header is believed
    only from a loopback connection, so a caller reaching the front directly cannot name itself
    anew with each try. Otherwise the visitor is the connection's own address.
    """
    remote = request.remote or ""
    if request.app[SECURE_COOKIE] and _loopback(remote):
        forwarded = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return remote


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """``template`` rendered for the visitor of ``request`` (CSRF token and sign-in known)."""
    page = request.app[TEMPLATE_ENV].get_template(template)
    who = visitor(request)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("alert", "")
    flash, who.flash = who.flash, []
    text = page.render(visitor=who, csrf=who.csrf, flash=flash, **context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def refusal_page(request: web.Request, refusal: Refusal) -> web.Response:
    """The page of a refusal that must not tell anything about what was asked for."""
    status = 404 if refusal.code == "NOT_FOUND" else 403
    return render(request, "refused.html", status=status, refusal_status=status)


def form_errors(refusal: Refusal, fields: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """The refusal placed on a form: by the field it names when the form has it, else on top."""
    if refusal.field and refusal.field in fields:
        return {refusal.field: refusal.message}, ""
    return {}, refusal.message


def signed_in_as(principal: str, sign_in_path: str) -> Callable[[Handler], Handler]:
    """Decorate a handler that needs a visitor signed in as ``principal``; others are sent to
    ``sign_in_path``."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            who = visitor(request)
            if not who.signed_in or who.principal != principal:
                return see_other(sign_in_path)
            return await handler(request)

        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


@web.middleware
async def visitor_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find or make the visitor's session; refuse a POST without the session's CSRF token."""
    if request.path.startswith("/static/"):
        return await handler(request)  # the style sheet needs no session
    book = request.app[VISITORS]
    found = book.find(request.cookies.get(COOKIE))
    who = found or book.new()
    request[VISITOR] = who
    if request.method == "POST":
        form = await request.post()
        sent = str(form.get("csrf", ""))
        if found is None or not hmac.compare_digest(sent.encode(), who.csrf.encode()):
            response: web.StreamResponse = render(
                request, "refused.html", status=403, refusal_status=403, csrf_failed=True
            )
            set_cookie(request, response, request[VISITOR])
            return response
    response = await handler(request)
    set_cookie(request, response, request[VISITOR])
    return response


def set_cookie(request: web.Request, response: web.StreamResponse, who: Visitor) -> None:
    """Put the visitor's session id in its cookie (HttpOnly, SameSite=Strict)."""
    if request.cookies.get(COOKIE) == who.session_id:
        return
    response.set_cookie(
        COOKIE,
        who.session_id,
        httponly=True,
        samesite="Strict",
        secure=request.app[SECURE_COOKIE],
        path="/",
    )


@web.middleware
async def failure_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A bug in the front shows a Chinese page (500), logged with its traceback, nothing leaked."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("the web front failed on %s %s", request.method, request.path)
        text = (
            "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>出错了</title>"
            "</head><body><h1 id='refused'>页面出错</h1><p>请稍后重试。</p>"
            "<p><a href='/'>返回首页</a></p></body></html>"
        )
        return web.Response(text=text, status=500, content_type="text/html", charset="utf-8")


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pages load nothing from elsewhere and are not framed (Content-Security-Policy)."""
    response = await handler(request)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def see_other(path: str) -> web.Response:
    """A redirection to ``path`` after a form (303: the browser follows with a GET)."""
    return web.Response(status=303, headers={"Location": path})


async def ask(
    request: web.Request, method: Callable[..., Awaitable[Answer]], message: Message
) -> Answer:
    """Call the node as the visitor of ``request`` (their node session token)."""
    return await node(request).call(method, message, visitor(request).node_token)


def session_ended(request: web.Request, sign_in_path: str) -> web.Response:
    """The node no longer knows the visitor's session: forget it and ask to sign in again."""
    fresh = replace_visitor(request)
    fresh.flash.append("登录已失效，请重新登录。")
    return see_other(sign_in_path)


def replace_visitor(request: web.Request) -> Visitor:
    """A new session for the visitor of ``request`` (on sign-in and sign-out)."""
    book = request.app[VISITORS]
    book.drop(visitor(request))
    fresh = book.new()
    request[VISITOR] = fresh
    return fresh


def _loopback(address: str) -> bool:
    """True for an IP address of this machine (no name is looked up)."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
