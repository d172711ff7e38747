"""The drill clock of the end-to-end deadline drills, as the nodes are given it and the test
sees it (docs/drills.md).

Every node process of a drill gets the same clock flags: the drill's start, its speed and a
real anchor instant. Until the anchor the clock stands at the start, so the nodes come up and
the test sets the scene at the start's instant however long that takes; from the anchor on it
runs ``speed`` times faster than real time. The test waits for drill instants with a margin
of real seconds (``late``) for a slow sweep or replication round on a busy machine.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import hlc
from core.deadlines.china_time import CHINA_TZ
from node.devnet.processes import LocalNetwork
from node.devnet.samples import GANSU_WORLD
from node.edge.client import NodeClient
from proto.hotline.v1 import rules_pb2
from tests.helpers.link_proxy import LinkProxy
from tests.helpers.tickets import register_and_route, ticket_state
from tests.helpers.waiting import wait_until

DRILL_DAY_PER_SECOND = 86_400.0
"""The drills' speed: a drill day each real second."""


@dataclass(frozen=True)
class Drill:
    """The drill clock every node of the test is started with, and the test's view of it."""

    start: dt.datetime
    """The drill instant the clock stands at until the anchor, and runs from after it."""
    anchor: float
    """Real epoch seconds at which the drill clock starts running."""
    sweep_interval: float
    """Real seconds between a node's deadline sweeps."""
    late: float
    """Real seconds a wait may run past the drill instant it waits for."""
    speed: float = DRILL_DAY_PER_SECOND

    def node_args(self) -> tuple[str, ...]:
        """The flags each node gets: the same clock for all, and fast sweeps."""
        return (
            "--clock-speed", str(self.speed),
            "--clock-start", self.start.isoformat(),
            "--clock-anchor", repr(self.anchor),
            "--sweep-interval", str(self.sweep_interval),
        )  # fmt: skip

    def real_at(self, when: dt.datetime) -> float:
        """The real instant at which the drill clock shows ``when``."""
        return self.anchor + (when - self.start).total_seconds() / self.speed

    def wait_for(self, what: str, check: Callable[[], bool], by: dt.datetime) -> None:
        """Poll ``check`` until it holds; fail if it does not by drill time ``by`` (+ late)."""
        wait_until(
            f"{what} (by {by:%Y-%m-%d %H:%M} drill time)",
            check,
            until=self.real_at(by) + self.late,
        )

    def sleep_until(self, when: dt.datetime) -> None:
        """Let the drill clock reach ``when``."""
        time.sleep(max(0.0, self.real_at(when) - time.time()))


# The Gansu line the deadline drills run on (province 620000, city 620100, county Chengguan) --

DRILL_GRACE_MINUTES = 2 * 24 * 60
"""The grace of supervision from above the drills publish in the province's rule book: two
drill days, two real seconds at a drill day per second, some seven replication rounds of the
test networks (0.3 s). The default four hours would be a quarter of one round: the city would
escalate the county's duties before the county's own escalations could reach it."""

GANSU_DRILL_START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
"""Where the Gansu drills' clock starts: Tuesday 2026-12-01, 10:00 China time."""
CENTRE = "620000-01"
PROVINCE_SUPERVISOR = "620000-02"
CITY_OFFICER = "620100-01"
HANDLER = "620102-07"


def publish_grace(network: LocalNetwork, minutes: int = DRILL_GRACE_MINUTES) -> None:
    """The province publishes the drill's grace; every running node holds it before the drill
    clock starts (`hotline rules grace`, docs/drills.md)."""
    with network.client("province", PROVINCE_SUPERVISOR) as supervisor:
        supervisor.amend_rules(rules_pb2.RuleAmendment(supervision_grace_minutes=minutes))
    for name, node in network.nodes.items():
        if not node.running:
            continue
        with network.client(name) as client:
            wait_until(
                f"{name} holds the rule book with the drill's grace",
                lambda: client.rules().rule_book.supervision_grace_minutes == minutes,
                until=time.time() + 20,
            )


def signed_steps(
    client: NodeClient, ticket_id: str, event_type: str
) -> list[tuple[str, dict[str, Any]]]:
    """``(origin node, payload)`` of each ``event_type`` event of the ticket the node holds."""
    return [
        (entry.origin_node, json.loads(entry.details))
        for entry in client.history(ticket_id).entries
        if entry.event_type == event_type
    ]


def route_gym_complaint_before_the_drill(network: LocalNetwork, drill: Drill) -> str:
    """Register and route the gym complaint at the province while the drill clock still stands
    at its start; returns its id once Chengguan holds it."""
    with network.client("province", CENTRE) as centre:
        ticket_id = register_and_route(centre, "gym")
        registered = ticket_state(centre, ticket_id)
    assert registered.holder_unit == "620102"
    # The province stamps receipt with the drill clock, still standing at the drill's start:
    # if start-up overran the set-up time, every date of the drill would be off.
    received = dt.datetime.fromtimestamp(hlc.to_millis(registered.registered_hlc) / 1000, CHINA_TZ)
    assert received == drill.start, (
        "the province's clock did not stand at the drill's start: set-up took longer than "
        "the drill allowed, or the node is not on the drill clock"
    )
    with network.client("chengguan", HANDLER) as handler:
        drill.wait_for(
            "the county holds the routed complaint",
            lambda: any(t.ticket_id == ticket_id for t in handler.list_tickets()),
            by=drill.start + dt.timedelta(days=1),
        )
    return ticket_id


def add_county_behind(network: LocalNetwork, link: LinkProxy) -> None:
    """Start Chengguan with its officers, reaching the city only through ``link``."""
    county = next(s for s in GANSU_WORLD if s.name == "chengguan")
    network.add("chengguan", county.level, county.unit, "city", parent_address=link.address)
    for person in county.officers:
        network.add_officer("chengguan", person.officer_id, person.name, person.roles)
