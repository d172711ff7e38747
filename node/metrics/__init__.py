"""A node's Prometheus metrics: what ops watch on every node, above all during a surge.

Each node keeps its own registry (``NodeMetrics``): several nodes in one process (the tests'
worlds, a drill) never mix their figures. Figures that change with every call (calls and their
latencies, the writer's groups, the jobs' rounds) are counted where they happen, cheaply, on
the thread they happen on; figures that live in the database (replication lags, refused events,
alerts) are read when Prometheus scrapes, on the node's blocking pool, never per request. The
node serves them over plain HTTP on ``metrics_port`` (``node.metrics.endpoint``); the names are
listed in docs/operations.md ("Metrics") and stay stable: dashboards and alerts rest on them.
"""

from node.metrics.endpoint import MetricsEndpoint
from node.metrics.instruments import NodeMetrics

__all__ = ["MetricsEndpoint", "NodeMetrics"]
