"""The city and county profiles: the levels that accept, mediate, verify and sign results.

A county node keeps working when its link is down: every step is a signed event in its own
log, pushed up when the parent answers again. Both serve their children's replication; the
city also looks for group complaints across its counties (``city_node.group_complaints``); the
county forwards a walk-in registered there for another area (``node.desks.walk_ins``). Both
erase the personal data of the tickets they hold once its retention ended (``node.jobs.erasure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from city_node.group_complaints import GroupComplaints
from core.ticket.events import GroupIncidentLinked
from core.units import UnitLevel
from node.app.profile import LevelProfile
from node.desks.walk_ins import WalkInForwarding
from node.edge.mounts import (
    EVERY_NODE,
    ODR,
    ODR_ROSTER_SYNC,
    RULES_READ_ONLY,
    SUPERVISION,
    SYNC,
)
from node.jobs.deadlines import deadline_sweep
from node.jobs.detection import DetectionJob
from node.jobs.erasure import personal_data_erasure
from node.jobs.lookup_rekey import lookup_rekey
from node.jobs.odr_review import odr_period_review
from node.jobs.rewrap import data_key_rewrap

if TYPE_CHECKING:
    from node.app.runtime import Node


def group_detection(node: Node) -> DetectionJob[GroupIncidentLinked]:
    """Group-complaint detection over the node's jurisdiction."""
    detector = GroupComplaints(node.own_unit, node.settings.incidents.groups)
    return DetectionJob(
        detector, node.own_unit, node.db.read, node.writer, node.clock.wall_ms, node.blocking
    )


def walk_in_forwarding(node: Node) -> WalkInForwarding:
    """Forwarding, at registration, a walk-in another unit is competent for (转办)."""
    return WalkInForwarding(node.roster.own_unit)


CITY = LevelProfile(
    level=UnitLevel.CITY,
    services=(*EVERY_NODE, SUPERVISION, RULES_READ_ONLY, SYNC, ODR_ROSTER_SYNC),
    jobs=(
        ("deadlines", deadline_sweep),
        ("lookup-rekey", lookup_rekey),
        ("group-complaints", group_detection),
        ("erasure", personal_data_erasure),
        ("rewrap", data_key_rewrap),
    ),
)
"""A city (市局): dispatches to its counties, handles, detects group complaints."""

COUNTY = LevelProfile(
    level=UnitLevel.COUNTY,
    services=(*EVERY_NODE, SUPERVISION, RULES_READ_ONLY, SYNC, ODR_ROSTER_SYNC, ODR),
    jobs=(
        ("deadlines", deadline_sweep),
        ("lookup-rekey", lookup_rekey),
        ("erasure", personal_data_erasure),
        ("rewrap", data_key_rewrap),
        ("odr-review", odr_period_review),
    ),
    intake_hooks=(walk_in_forwarding,),
)
"""A county or district (县(区)局): the unit that accepts and handles (承办单位); it forwards a
walk-in for another area at registration (``node.desks.walk_ins``)."""
