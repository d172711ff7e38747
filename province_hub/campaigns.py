"""Campaign routing at registration (专项, DOMAIN.md §5): only a province does it.

While a campaign of the province's rule book runs, a ticket that falls under it and is
registered at the province node is routed by jurisdiction at once, in its registration's own
transaction, signed by the node's system officer as dispatcher: the surge of an epidemic or a
crisis reaches the counties without waiting in the dispatchers' queue. A ticket that cannot be
routed by jurisdiction alone (an unclear address) stays registered for the dispatchers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.deadlines.rulebook import Campaign
from core.errors import DomainError
from core.officers import system_dispatcher, system_officer
from core.ticket.commands import RouteTicket
from core.ticket.decisions import DecisionContext, decide
from core.ticket.state import TicketState
from core.units import Unit
from sync.writer import LogBatch

log = logging.getLogger(__name__)

CampaignFinder = Callable[[TicketState], Campaign | None]
"""The running campaign a ticket falls under, if any (``ProvinceRules.campaign_of``)."""


class CampaignRouting:
    """A registration hook (``node.desks.intake.RegistrationHook``) of the province node."""

    def __init__(self, own: Unit, campaign_of: CampaignFinder) -> None:
        self._own = own
        self._campaign_of = campaign_of

    def __call__(self, batch: LogBatch, ticket_id: str, ctx: DecisionContext) -> None:
        """Route the new ticket at once if a running campaign covers it."""
        state = batch.state_of(ticket_id)
        campaign = self._campaign_of(state)
        if campaign is None:
            return
        note = f"专项 {campaign.name}: 即时分流 (campaign {campaign.campaign_id})"
        try:
            events = decide(state, RouteTicket(note=note), system_dispatcher(self._own), ctx)
        except DomainError as exc:
            log.info("campaign ticket %s left for the dispatchers: %s", ticket_id, exc)
            return
        batch.record(ticket_id, events, system_officer(self._own), state=state)
