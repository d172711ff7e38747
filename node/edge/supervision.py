"""SupervisionService: a unit's queue of deadlines, group incidents and emergencies (督办).

Translates and delegates to ``node.desks.supervision``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grpc import aio

from core.errors import InvalidInput
from core.units import UnitDirectory
from node.app.profile import ServiceMount
from node.desks.supervision import SupervisionQueue
from proto.hotline.v1 import supervision_pb2, supervision_pb2_grpc

if TYPE_CHECKING:
    from node.app.runtime import Node

Context = aio.ServicerContext[Any, Any]

MAX_HORIZON = 365
"""Longest "due soon" horizon a queue is read with, in working days."""


class SupervisionServicer(supervision_pb2_grpc.SupervisionServiceServicer):
    """SupervisionService: translate and delegate to ``SupervisionQueue``."""

    def __init__(self, queue: SupervisionQueue, units: Callable[[], UnitDirectory]) -> None:
        self._queue = queue
        self._units_now = units

    @property
    def _units(self) -> UnitDirectory:
        return self._units_now()

    async def GetQueue(
        self, request: supervision_pb2.GetQueueRequest, context: Context
    ) -> supervision_pb2.Queue:
        """The unit's queue."""
        if request.unit_code:
            self._units.require(request.unit_code, "unit_code")
        if request.due_within_days > MAX_HORIZON:
            raise InvalidInput(
                "due_within_days",
                f"at most {MAX_HORIZON} working days, not {request.due_within_days}",
            )
        return await self._queue.queue(request.unit_code, request.due_within_days or 3)


def _add(node: Node, server: aio.Server) -> None:
    servicer = SupervisionServicer(node.supervision, lambda: node.roster.units)
    supervision_pb2_grpc.add_SupervisionServiceServicer_to_server(servicer, server)


SUPERVISION = ServiceMount(
    supervision_pb2.DESCRIPTOR.services_by_name["SupervisionService"].full_name, _add
)
"""SupervisionService, on the client port of every node that owes or supervises duties (not a
station's: a station owes none, its county does)."""
