"""The one table of level profiles: what ``hotline serve`` runs and what the tests start.

Each level package declares its own profiles; this table only collects them, so the runtime
below never asks ``level ==`` to decide what a node does.
"""

from __future__ import annotations

from city_node.profile import CITY, COUNTY
from core.units import UnitLevel
from node.app.profile import LevelProfile
from province_hub.profile import NATIONAL, PROVINCE
from station_agent.profile import STATION

PROFILES: dict[UnitLevel, LevelProfile] = {
    profile.level: profile for profile in (NATIONAL, PROVINCE, CITY, COUNTY, STATION)
}
"""Every level's profile, by level."""


def profile_of(level: UnitLevel) -> LevelProfile:
    """The profile of ``level``."""
    return PROFILES[level]
