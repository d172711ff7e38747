"""``NodeReadings``: the figures read when Prometheus scrapes, not counted as things happen.

Some figures are states, not events: how many jobs wait for the log writer, how many calls each
port serves now, how far each peer is behind, how many events were refused and alerts raised.
They are read at scrape time, so that no request pays for them: the counters in memory directly
(the writer's queue, the gates, the replication link's status), the database in one read
snapshot on the node's blocking pool (never on its event loop; the scraping thread waits for
it, at most ``READ_LIMIT`` seconds). The database reads are small: the replication lags
``hotline sync status`` shows, and the refusal and alert tables grouped by reason and kind
(events kept only as evidence, which only a scan of the whole log would count, are left to
``hotline sync status``).

Lags, per peer and both ways as far as this node knows them:

* with its parent: events of its subtree the parent has not acknowledged (``unsent``, and the
  age of the oldest), events the parent holds for it not yet pulled (``unpulled``, as the
  parent said at the round's start), seconds since the last good round, failed rounds in a row;
* with each child heard from since start: events of the child's feed it has not pulled, and
  seconds since it last pulled to the end of its feed. What a child has not pushed yet only
  the child knows: its own metrics say it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from core.units import jurisdiction_prefix, level_of
from sync import schema
from sync.client import upward_lag
from sync.log_store import EventLog
from sync.reasons import Refusal

if TYPE_CHECKING:
    from node.app.runtime import Node
    from node.edge.gate import CallGate

log = logging.getLogger(__name__)

READ_LIMIT = 10.0
"""Seconds a scrape waits for the database read before it answers without its figures."""

_PHRASES = sorted(((r.text, r.value) for r in Refusal), key=lambda p: -len(p[0]))
"""Each refusal's phrase (what a stored reason starts with) and its stable code."""


def refusal_code(reason: str) -> str:
    """The stable code (``bad-signature``) of a stored refusal text; ``other`` if unknown."""
    for phrase, code in _PHRASES:
        if reason.startswith(phrase):
            return code
    return "other"


@dataclass
class PeerLag:
    """How far one peer and this node are apart, as this node knows it."""

    role: str
    """``parent`` or ``child``."""
    peer: str
    """The parent's peer address, or the child's node id (as ``hotline sync status`` shows)."""
    unsent: int = 0
    oldest_unsent_ms: int = 0
    unpulled: int = 0
    success_ms: int = 0
    """When replication last went through (0: not since start)."""
    failures: int = 0


@dataclass
class DatabaseFigures:
    """What one scrape read from the database."""

    lags: list[PeerLag] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    """Refusals on receipt by reason code (each sighting counted)."""
    alerts_raised: dict[str, int] = field(default_factory=dict)
    """Alerts by kind, each repeat counted."""
    alerts_open: dict[str, int] = field(default_factory=dict)


class NodeReadings(Collector):
    """Reads a node's state figures at each scrape."""

    def __init__(self, node: Node, gates: Callable[[], dict[str, CallGate]]) -> None:
        self._node = node
        self._gates = gates
        """The call gate of each port, by port (``client``, ``peer``)."""

    def describe(self) -> Iterator[Metric]:
        """Nothing to describe in advance: the families depend on the peers (and reading them
        on registration would touch the database)."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """The figures, read now."""
        node = self._node
        info = GaugeMetricFamily(
            "hotline_node_info",
            "This node: 1, labelled with who it is.",
            labels=("node", "unit", "level"),
        )
        info.add_metric(
            (node.identity.node_id, node.identity.unit_code, node.settings.level.value), 1
        )
        yield info
        depth = GaugeMetricFamily(
            "hotline_writer_queue_depth", "Jobs queued for the log writer, not yet in a group."
        )
        depth.add_metric((), node.writer.queue_depth)
        yield depth
        in_flight = GaugeMetricFamily(
            "hotline_rpc_in_flight", "Calls of our services each port serves now.", labels=("port",)
        )
        for port, gate in sorted(self._gates().items()):
            in_flight.add_metric((port,), gate.in_flight)
        yield in_flight
        ok = GaugeMetricFamily(
            "hotline_metrics_database_read_ok",
            "1 when this scrape read the database's figures, 0 when it could not (see the log).",
        )
        try:
            figures = node.blocking.executor.submit(self.read_database).result(READ_LIMIT)
        except Exception as exc:  # a busy or stopping node still answers with what it has
            log.warning("metrics: the database figures could not be read: %s", exc)
            ok.add_metric((), 0)
            yield ok
            return
        ok.add_metric((), 1)
        yield ok
        yield from self._lag_families(figures.lags, node.clock.wall_ms())
        refused = CounterMetricFamily(
            "hotline_refused_events",
            "Events refused on receipt from a peer, by reason (each sighting counted).",
            labels=("reason",),
        )
        for reason, count in sorted(figures.refused.items()):
            refused.add_metric((reason,), count)
        yield refused
        raised = CounterMetricFamily(
            "hotline_alerts_raised",
            "Alerts raised for an administrator, by kind (each repeat counted).",
            labels=("kind",),
        )
        for kind, count in sorted(figures.alerts_raised.items()):
            raised.add_metric((kind,), count)
        yield raised
        open_ = GaugeMetricFamily(
            "hotline_alerts_open", "Alerts not cleared, by kind.", labels=("kind",)
        )
        for kind, count in sorted(figures.alerts_open.items()):
            open_.add_metric((kind,), count)
        yield open_

    def _lag_families(self, lags: list[PeerLag], now_ms: int) -> Iterator[Metric]:
        labels = ("role", "peer")
        unsent = GaugeMetricFamily(
            "hotline_replication_unsent_events",
            "Events of this node's subtree the peer has not acknowledged.",
            labels=labels,
        )
        oldest = GaugeMetricFamily(
            "hotline_replication_oldest_unsent_seconds",
            "Age of the oldest event the peer has not acknowledged, seconds (0: none).",
            labels=labels,
        )
        unpulled = GaugeMetricFamily(
            "hotline_replication_unpulled_events",
            "Events of the feed not yet pulled: by this node from its parent, or by a child.",
            labels=labels,
        )
        since = GaugeMetricFamily(
            "hotline_replication_seconds_since_success",
            "Seconds since replication with the peer last went through (parent: a good "
            "round; child: a pull to the end of its feed); absent when not since start.",
            labels=labels,
        )
        failures = GaugeMetricFamily(
            "hotline_replication_failures",
            "Failed replication rounds in a row with the peer.",
            labels=labels,
        )
        for lag in lags:
            key = (lag.role, lag.peer)
            unsent.add_metric(key, lag.unsent)
            age = (now_ms - lag.oldest_unsent_ms) / 1000 if lag.oldest_unsent_ms else 0.0
            oldest.add_metric(key, max(0.0, age))
            unpulled.add_metric(key, lag.unpulled)
            if lag.success_ms:
                since.add_metric(key, max(0.0, (now_ms - lag.success_ms) / 1000))
            failures.add_metric(key, lag.failures)
        yield from (unsent, oldest, unpulled, since, failures)

    def read_database(self) -> DatabaseFigures:
        """The database's figures in one read snapshot (runs on the blocking pool)."""
        node = self._node
        figures = DatabaseFigures()
        link = node.link
        children = list(node.children.children.values()) if node.children else []
        with node.db.read() as conn:
            event_log = EventLog(conn)
            if link is not None:
                unsent, oldest = upward_lag(event_log, link.prefix)
                status = link.status
                figures.lags.append(
                    PeerLag(
                        "parent",
                        link.target,
                        unsent=unsent,
                        oldest_unsent_ms=oldest,
                        unpulled=status.unpulled_events,
                        success_ms=status.last_success_ms,
                        failures=status.failures,
                    )
                )
            for child in sorted(children, key=lambda c: c.node_id):
                prefix = jurisdiction_prefix(child.unit_code, level_of(child.unit_code))
                figures.lags.append(
                    PeerLag(
                        "child",
                        child.node_id,
                        unpulled=event_log.feed_count_after(prefix, child.pulled_to),
                        success_ms=child.caught_up_ms,
                    )
                )
            problems = schema.sync_problems
            for reason, seen in conn.execute(
                select(problems.c.reason, func.sum(problems.c.repeats)).group_by(problems.c.reason)
            ):
                code = refusal_code(reason)
                figures.refused[code] = figures.refused.get(code, 0) + int(seen)
            alerts = schema.alerts
            for kind, seen, still_open in conn.execute(
                select(
                    alerts.c.kind,
                    func.sum(alerts.c.repeats),
                    func.sum(case((alerts.c.cleared_ms == 0, 1), else_=0)),
                ).group_by(alerts.c.kind)
            ):
                figures.alerts_raised[kind] = int(seen)
                figures.alerts_open[kind] = int(still_open or 0)
        return figures
