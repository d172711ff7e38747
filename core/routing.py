"""Routing (分流): which unit must handle a ticket, and the next hop to get it there.

The rule of DOMAIN.md §4: a complaint goes to the county-level unit where the respondent
actually operates (实际经营地), else where it is registered (住所地); an e-commerce platform or a
seller on its own website to the county of its registration; a shop on a platform to where it
operates or, with no reachable address, to the platform's county (2026 rule). A report goes to
the unit where the conduct happened. A dispatcher can only send a ticket inside its own
jurisdiction; a ticket for elsewhere climbs to the hub that covers both (another province goes
through the national level), and the national level hands tickets to the province hub.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput
from core.ticket.events import TicketRegistered
from core.ticket.vocabulary import BusinessForm, JurisdictionBasis, TicketKind
from core.units import HANDLING_LEVELS, HUB_LEVELS, NATIONAL_CODE, Unit, UnitDirectory, UnitLevel


@dataclass(frozen=True)
class RouteDecision:
    """Where the ticket goes next and why."""

    to_unit: str
    basis: JurisdictionBasis


def competent_region(ticket: TicketRegistered) -> tuple[str, JurisdictionBasis]:
    """The county-level region competent for the ticket, by the rules of DOMAIN.md §4."""
    if ticket.kind is TicketKind.REPORT and ticket.incident_region:
        return ticket.incident_region, JurisdictionBasis.CONDUCT_LOCATION
    r = ticket.respondent
    candidates: list[tuple[str, JurisdictionBasis]]
    match r.form:
        case BusinessForm.PLATFORM | BusinessForm.OWN_WEBSITE:
            candidates = [
                (r.registered_region, JurisdictionBasis.PLATFORM_REGISTRATION),
                (r.operating_region, JurisdictionBasis.OPERATING_ADDRESS),
            ]
        case BusinessForm.PLATFORM_SHOP:
            candidates = [
                (r.operating_region, JurisdictionBasis.OPERATING_ADDRESS),
                (r.platform_region, JurisdictionBasis.PLATFORM_FALLBACK),
                (r.registered_region, JurisdictionBasis.REGISTERED_ADDRESS),
            ]
        case BusinessForm.PHYSICAL:
            candidates = [
                (r.operating_region, JurisdictionBasis.OPERATING_ADDRESS),
                (r.registered_region, JurisdictionBasis.REGISTERED_ADDRESS),
            ]
    if ticket.incident_region:
        candidates.append((ticket.incident_region, JurisdictionBasis.CONDUCT_LOCATION))
    for region, basis in candidates:
        if region:
            return region, basis
    raise InvalidInput("respondent.operating_region", "no region names where the respondent is")


def next_hop(
    dispatcher: Unit, ticket: TicketRegistered, units: UnitDirectory, requested_unit: str = ""
) -> RouteDecision:
    """The unit ``dispatcher`` sends the ticket to: the competent unit, or a hub on the way.

    ``requested_unit`` is the dispatcher's own choice; empty means "by jurisdiction".
    """
    if requested_unit:
        target = units.require(requested_unit, "to_unit")
        basis = JurisdictionBasis.DISPATCHER_DECISION
    else:
        region, basis = competent_region(ticket)
        found = units.find(region)
        if found is None:
            raise InvalidInput("respondent.operating_region", f"unknown region code {region!r}")
        target = found
    if target.level is UnitLevel.STATION:
        raise InvalidInput("to_unit", "route to a county-level unit; the county assigns stations")
    if target.code == dispatcher.code:
        raise InvalidInput("to_unit", "the ticket is already at this unit")
    if not dispatcher.covers(target.code):
        return RouteDecision(dispatcher.parent_code or NATIONAL_CODE, JurisdictionBasis.RELAY)
    if dispatcher.level is UnitLevel.NATIONAL and target.level is not UnitLevel.PROVINCE:
        return RouteDecision(target.province_code(), JurisdictionBasis.RELAY)
    if target.level in HUB_LEVELS:
        # A hub does not handle tickets: handing one to it is a relay, never a dispatch.
        return RouteDecision(target.code, JurisdictionBasis.RELAY)
    if target.level not in HANDLING_LEVELS:
        raise InvalidInput(
            "to_unit", f"{target.code} is a {target.level.value}, not a handling unit"
        )
    return RouteDecision(target.code, basis)
