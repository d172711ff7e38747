"""Walk-ins for elsewhere (转办): a county or station hands on what it is not competent for.

A consumer may walk into any county bureau or station (来访) and complain about a business in
another county. The county that took the complaint can neither decide on it (it is not
competent) nor return it (nobody routed it there), and it does not dispatch. So when the
ticket's competent unit (``core.routing.walk_in_handover``) lies outside the registering
county, the ticket is forwarded in its registration's own transaction, signed by the node's
system officer: straight to the competent city or county of the same province, or to the
dispatchers of the lowest unit above both counties (another province: the national level).
Replication takes it there: the county pushes it up, and the unit above that holds the chain
feeds it down to its new holder; the county keeps following it (it registered it).

A registration hook (``node.desks.intake.RegistrationHook``) of the county and station
profiles (``city_node.profile.COUNTY``, ``station_agent.profile.STATION``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.errors import DomainError
from core.officers import system_officer
from core.ticket.decisions import DecisionContext, forward_walk_in
from core.units import Unit
from sync.writer import LogBatch

log = logging.getLogger(__name__)


class WalkInForwarding:
    """Forwards a ticket registered here when another unit is competent for it."""

    def __init__(self, own_unit: Callable[[], Unit]) -> None:
        self._own_unit = own_unit
        """The node's unit, read at each registration (a station makes itself known at start)."""

    def __call__(self, batch: LogBatch, ticket_id: str, ctx: DecisionContext) -> None:
        """Forward the new ticket at once if its competent unit is outside this county."""
        state = batch.state_of(ticket_id)
        signer = system_officer(self._own_unit())
        try:
            events = forward_walk_in(state, signer, ctx)
        except DomainError as exc:
            # Not expected (the registration was checked): left where it is, as before.
            log.warning("walk-in %s not forwarded: %s", ticket_id, exc)
            return
        if events:
            batch.record(ticket_id, events, signer, state=state)
