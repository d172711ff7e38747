"""``MetricsEndpoint``: the HTTP port Prometheus scrapes a node's metrics from.

prometheus_client's own server, in a thread of its own: a scrape never runs on the node's event
loop, and what it reads from the database goes to the node's blocking pool
(``node.metrics.readings``). It answers any path (``/metrics`` as Prometheus asks) with the
text format of the node's own registry. Plain HTTP without sign-in: the figures say how busy the
node is and who its peers are, nothing of a ticket or a person, and the port is bound to the
node's host (loopback unless the operator chose otherwise), off unless ``metrics_port`` is set.
"""

from __future__ import annotations

import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

log = logging.getLogger(__name__)


class MetricsEndpoint:
    """The metrics port of one node: started with the node, stopped with it."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        """The port bound (0 before ``start``)."""

    def start(self, host: str, port: int) -> int:
        """Serve the registry on ``host:port`` (0: a free port); returns the port bound."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self._registry)
        self.port = int(self._server.server_port)
        return self.port

    def stop(self) -> None:
        """Stop answering and close the port; safe to call more than once."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
