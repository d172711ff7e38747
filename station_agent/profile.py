"""The station agent's profile: a township station's laptop, often offline.

A station receives the tickets its county assigns to it, records on-site mediation,
verification and signed results in the county's name, and registers walk-in complaints (one
against a business of another county is forwarded at once: ``node.desks.walk_ins``). All of
it is written to the station's own log first (its offline queue) and flows to the county when
the link allows. A station has no children, so it has no peer port; it owes no duty of its own
(its county does), so it runs no sweep and serves no supervision queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.units import UnitLevel, county_of
from node.app.profile import LevelProfile
from node.app.settings import NodeSettings
from node.desks.roster import Roster
from node.desks.walk_ins import WalkInForwarding
from node.edge.mounts import EVERY_NODE
from node.jobs.lookup_rekey import lookup_rekey
from node.jobs.rewrap import data_key_rewrap

if TYPE_CHECKING:
    from node.app.runtime import Node


def know_own_station(settings: NodeSettings, roster: Roster) -> None:
    """Make the station's own unit known on first start (no table lists stations)."""
    if settings.unit not in roster.units:
        roster.save_unit(
            settings.unit,
            settings.unit_name or f"{settings.unit} 市场监管所",
            UnitLevel.STATION,
            county_of(settings.unit),
        )


def walk_in_forwarding(node: Node) -> WalkInForwarding:
    """Forwarding, at registration, a walk-in another county is competent for (转办)."""
    return WalkInForwarding(node.roster.own_unit)


STATION = LevelProfile(
    level=UnitLevel.STATION,
    services=EVERY_NODE,
    # Its laptop keeps sealed personal data too: a rotated key is left behind in batches.
    jobs=(("lookup-rekey", lookup_rekey), ("rewrap", data_key_rewrap)),
    intake_hooks=(walk_in_forwarding,),
    startup=(know_own_station,),
)
"""A market-supervision station (市场监管所)."""
