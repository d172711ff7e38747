"""What makes a node of one level what it is: its ``LevelProfile``.

Every node runs the same runtime; a profile says what its level adds: the gRPC services it
serves on its client port and on its peer port, the jobs its scheduler runs, the hooks that run
in every registration's transaction, and the steps it takes before serving. Each level package
(``province_hub``, ``city_node``, ``station_agent``) declares its profiles; ``node.app.levels``
holds the one table of them that ``hotline serve`` and the tests both use. A service a level
must not serve is simply not in its profile, so it is not mounted there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grpc import aio

from core.units import UnitLevel

if TYPE_CHECKING:
    from node.app.runtime import Node
    from node.app.settings import NodeSettings
    from node.desks.intake import RegistrationHook
    from node.desks.roster import Roster
    from node.jobs.scheduler import ScheduledJob


@dataclass(frozen=True)
class ServiceMount:
    """A gRPC service a level serves: its full name and how to add its servicer to a server."""

    name: str
    """The service's full name, e.g. ``hotline.v1.IntakeService`` (health and reflection)."""
    add: Callable[[Node, aio.Server], None]
    """Builds the servicer from the node's parts and adds it to the server."""
    peer: bool = False
    """True for the mutual-TLS peer port (node to node), False for the client port."""


JobFactory = Callable[["Node"], "ScheduledJob"]
"""Makes one of the level's scheduled jobs for a node."""

HookFactory = Callable[["Node"], "RegistrationHook"]
"""Makes one of the level's registration hooks for a node."""

StartupStep = Callable[["NodeSettings", "Roster"], None]
"""Runs once before the node serves, with its settings and roster (e.g. a station makes its
own unit known)."""


@dataclass(frozen=True)
class LevelProfile:
    """Everything one level adds to the shared runtime."""

    level: UnitLevel
    services: tuple[ServiceMount, ...]
    """Services on the client port (``peer=False``) and on the peer port (``peer=True``)."""
    jobs: tuple[tuple[str, JobFactory], ...] = ()
    """The scheduled jobs by name, in the order a round runs them."""
    intake_hooks: tuple[HookFactory, ...] = ()
    """What the level does in a registration's own transaction."""
    startup: tuple[StartupStep, ...] = ()
    """Steps before serving, in order."""

    @property
    def client_services(self) -> tuple[ServiceMount, ...]:
        """The services officers and tools call."""
        return tuple(m for m in self.services if not m.peer)

    @property
    def peer_services(self) -> tuple[ServiceMount, ...]:
        """The services children call over mutual TLS (none: no peer port)."""
        return tuple(m for m in self.services if m.peer)
