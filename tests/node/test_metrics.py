"""Every node's Prometheus metrics, scraped over HTTP as Prometheus does (docs/operations.md).

The nodes are in-process (``tests.helpers.world``) with ``metrics_port=0``: each serves its own
figures on a loopback port of its own, read here in the Prometheus text format.
"""

from __future__ import annotations

import urllib.request
import uuid

import pytest
from sqlalchemy import update

from node.devnet.samples import demo_tickets
from node.edge.client import CallError
from node.metrics.snapshot import MetricsSnapshot
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync import schema
from sync.codec import to_message
from sync.log_store import EventLog
from tests.helpers.tickets import register_and_route
from tests.helpers.world import InProcessNode, World, spec, sweep


class Scrape:
    """One scrape of a node's metrics, as Prometheus makes it (``node.metrics.snapshot``)."""

    def __init__(self, node: InProcessNode) -> None:
        port = node.node.metrics_port
        assert port, "the node serves no metrics"
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/plain")
        self.snapshot = MetricsSnapshot.fetch(f"127.0.0.1:{port}")
        self.samples = self.snapshot.samples

    def value(self, name: str, **labels: str) -> float:
        """The one sample of ``name`` whose labels include ``labels``."""
        found = self.all(name, **labels)
        assert len(found) == 1, f"{name}{labels}: {found}"
        return found[0][1]

    def all(self, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
        """Every sample of ``name`` whose labels include ``labels``."""
        return self.snapshot.matching(name, **labels)


GYM = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
REGISTER = {"service": "IntakeService", "method": "RegisterTicket"}


def register(node_name: str, world: World, count: int) -> None:
    with world.officer(node_name) as centre:
        for _ in range(count):
            centre.register(uuid.uuid4().hex, GYM)


def test_each_call_is_counted_by_method_and_status_with_its_latency_in_buckets(
    world: World,
) -> None:
    province = world.start(spec("province"), metrics_port=0)
    register("province", world, 3)
    broken = intake_pb2.NewTicket()
    broken.CopyFrom(GYM)
    broken.facts = "   "
    with world.officer("province") as centre, pytest.raises(CallError):
        centre.register(uuid.uuid4().hex, broken)

    scrape = Scrape(province)
    assert scrape.value("hotline_rpc_requests_total", **REGISTER, code="OK") == 3
    assert scrape.value("hotline_rpc_requests_total", **REGISTER, code="INVALID_ARGUMENT") == 1
    buckets = scrape.all("hotline_rpc_duration_seconds_bucket", **REGISTER, code="OK")
    counts = [value for _, value in sorted(buckets, key=lambda b: float(b[0]["le"]))]
    assert counts == sorted(counts), "buckets are cumulative"
    assert counts[-1] == 3  # le="+Inf"
    assert scrape.value("hotline_rpc_duration_seconds_count", **REGISTER, code="OK") == 3
    assert 0 < scrape.value("hotline_rpc_duration_seconds_sum", **REGISTER, code="OK") < 30
    p99 = scrape.snapshot.quantile("hotline_rpc_duration_seconds", 0.99, **REGISTER, code="OK")
    assert 0 < p99 <= 30
    # Signing in is a call like any other.
    assert scrape.all("hotline_rpc_requests_total", service="AccessService", code="OK")
    # Each registration was committed by the writer, in groups of one or more.
    assert scrape.value("hotline_writer_group_size_sum") >= 3
    assert scrape.value("hotline_writer_commit_duration_seconds_count") >= 1
    assert scrape.value("hotline_writer_queue_depth") == 0
    assert scrape.value("hotline_rpc_in_flight", port="client") == 0
    assert scrape.value("hotline_metrics_database_read_ok") == 1
    assert scrape.value("hotline_node_info", unit="620000", level="province") == 1


def test_a_deadline_sweep_is_timed_with_what_it_recorded(world: World) -> None:
    province = world.start(spec("province"), metrics_port=0)
    assert "hotline_job_duration_seconds_count" not in Scrape(province).samples
    recorded = sweep(province)
    sweep(province)

    scrape = Scrape(province)
    assert scrape.value("hotline_job_duration_seconds_count", job="deadlines") == 2
    assert scrape.value("hotline_job_duration_seconds_sum", job="deadlines") > 0
    assert scrape.value("hotline_job_recorded_events_total", job="deadlines") >= recorded
    assert not scrape.all("hotline_job_failures_total", job="deadlines")


def test_replication_lag_per_peer_drains_to_zero_after_a_round_both_ways(world: World) -> None:
    world.start(spec("province"))
    city = world.start(spec("city"), metrics_port=0)
    county = world.start(spec("chengguan"), metrics_port=0)
    for node in (city, county):
        node.replicate_only_when_asked()
    world.sync("chengguan")  # the city hears from its child
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city")

    child = {"role": "child", "peer": county.node.identity.node_id}
    assert Scrape(city).value("hotline_replication_unpulled_events", **child) > 0
    world.sync("chengguan")
    scrape = Scrape(city)
    assert scrape.value("hotline_replication_unpulled_events", **child) == 0
    assert 0 <= scrape.value("hotline_replication_seconds_since_success", **child) < 60

    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    parent = {"role": "parent", "peer": city.peer_target}
    behind = Scrape(county)
    assert behind.value("hotline_replication_unsent_events", **parent) >= 1
    assert behind.value("hotline_replication_oldest_unsent_seconds", **parent) >= 0
    world.sync("chengguan")
    caught_up = Scrape(county)
    assert caught_up.value("hotline_replication_unsent_events", **parent) == 0
    assert caught_up.value("hotline_replication_oldest_unsent_seconds", **parent) == 0
    assert caught_up.value("hotline_replication_unpulled_events", **parent) == 0
    assert caught_up.value("hotline_replication_failures", **parent) == 0
    assert 0 <= caught_up.value("hotline_replication_seconds_since_success", **parent) < 60
    # What went through, counted on both sides of the link: one more round, and it went through.
    rounds = "hotline_replication_rounds_total"
    assert caught_up.value(rounds, result="ok") == behind.value(rounds, result="ok") + 1
    assert not caught_up.all(rounds, result="failed")
    timed = "hotline_replication_round_duration_seconds_count"
    assert caught_up.value(timed) == behind.value(timed) + 1
    assert caught_up.value("hotline_replication_events_total", **parent, way="pushed") >= 1
    assert caught_up.value("hotline_replication_events_total", **parent, way="pulled") >= 1
    at_city = Scrape(city)
    assert at_city.value("hotline_replication_events_total", **child, way="pushed") >= 1
    assert at_city.value("hotline_replication_events_total", **child, way="pulled") >= 1


def test_an_event_refused_on_receipt_is_counted_by_reason_and_its_alert_by_kind(
    world: World,
) -> None:
    world.start(spec("province"))
    world.start(spec("city"), metrics_port=0)
    world.start(spec("chengguan"))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    world.take_down("city")  # the county's step stays on the county until it is tampered with
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    county = world["chengguan"]
    with county.node.db.read() as conn:
        accept = EventLog(conn).chain_after(county.node.identity.node_id, 0, 10_000)[-1]
    forged = accept.envelope.replace("李强".encode(), "王强".encode())
    with county.node.db.write() as conn:
        conn.execute(
            update(schema.events)
            .where(schema.events.c.event_id == accept.event_id)
            .values(envelope=forged)
        )
    city = world.bring_up("city")
    assert "hotline_refused_events_total" not in Scrape(city).samples
    with county.client() as client:
        assert client.sync_now().rejected == 1

    scrape = Scrape(city)
    refused = scrape.all("hotline_refused_events_total")
    assert [labels["reason"] for labels, _ in refused] == ["bad-signature"]
    assert refused[0][1] >= 1
    assert scrape.value("hotline_alerts_raised_total", kind="tampered-event") >= 1
    assert scrape.value("hotline_alerts_open", kind="tampered-event") == 1


def test_two_nodes_in_one_process_keep_their_own_figures(world: World) -> None:
    province = world.start(spec("province"), metrics_port=0)
    city = world.start(spec("city"), metrics_port=0)
    register("province", world, 2)

    assert province.node.metrics_port != city.node.metrics_port
    assert Scrape(province).value("hotline_rpc_requests_total", **REGISTER, code="OK") == 2
    assert not Scrape(city).all("hotline_rpc_requests_total", **REGISTER)
    assert Scrape(city).value("hotline_node_info", unit="620100") == 1
    assert not Scrape(city).all("hotline_node_info", unit="620000")


def test_a_node_serves_no_metrics_unless_asked(world: World) -> None:
    province = world.start(spec("province"))
    assert province.node.metrics is None
    assert province.node.metrics_port == 0
    assert province.node.settings.metrics_port == -1
