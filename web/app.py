"""The web front's application: routes, middlewares, templates, and serving it on a port.

``make_app`` builds the aiohttp application around a ``NodeLink`` made at start-up (inside
the running loop); ``start_web`` serves it and answers its address, which ``hotline
serve-web`` prints and the tests browse to. Static files (one style sheet) are served from
the package itself: nothing is loaded from anywhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from web.access_pages import add_access_routes
from web.consumer_pages import add_consumer_routes
from web.enterprise_pages import add_enterprise_routes
from web.node_link import NodeLink
from web.pages import (
    NODE_LINK,
    SECURE_COOKIE,
    STATIC,
    TEMPLATE_ENV,
    VISITORS,
    failure_middleware,
    headers_middleware,
    render,
    template_environment,
    visitor_middleware,
)
from web.sessions import VisitorBook
from web.supervision_pages import add_supervision_routes


async def home(request: web.Request) -> web.Response:
    """The front page: the three doors (enterprise, consumer, supervision)."""
    return render(request, "home.html")


async def not_found(request: web.Request) -> web.Response:
    """Any other address: the refusal page (404), saying nothing more."""
    return render(request, "refused.html", status=404, refusal_status=404)


def make_app(
    target: str,
    root_pem: bytes,
    *,
    unit: str = "",
    secure: bool = False,
    front_key: bytes | None = None,
) -> web.Application:
    """The web front for the node at ``target`` (client port, TLS checked against ``root_pem``).

    ``secure`` marks the session cookie Secure (when a TLS proxy serves the front);
    ``front_key``, the node's web front key, lets the node limit and record each visitor
    rather than the front (``node.edge.front``).
    """
    app = web.Application(middlewares=[headers_middleware, failure_middleware, visitor_middleware])
    app[VISITORS] = VisitorBook()
    app[TEMPLATE_ENV] = template_environment()
    app[SECURE_COOKIE] = secure

    async def link(app: web.Application) -> AsyncIterator[None]:
        app[NODE_LINK] = NodeLink(target, root_pem, unit=unit, front_key=front_key)
        yield
        await app[NODE_LINK].close()

    app.cleanup_ctx.append(link)
    app.router.add_get("/", home)
    app.router.add_static("/static/", STATIC, name="static")
    add_access_routes(app)
    add_enterprise_routes(app)
    add_consumer_routes(app)
    add_supervision_routes(app)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


@dataclass
class RunningWeb:
    """A started web front: its address and how to stop it."""

    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        """Stop serving and close the link to the node."""
        await self.runner.cleanup()


async def start_web(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> RunningWeb:
    """Serve ``app`` on ``host:port`` (0: a free port) and answer where."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    shown = f"[{host}]" if ":" in host else host
    return RunningWeb(runner, f"http://{shown}:{bound}")
