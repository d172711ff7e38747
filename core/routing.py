"""Routing (分流): which unit must handle a ticket, and the next hop to get it there.

The rule of DOMAIN.md §4: a complaint goes to the county-level unit where the respondent
actually operates (实际经营地), else where it is registered (住所地); an e-commerce platform or a
seller on its own website to the county of its registration; a shop on a platform to where it
operates or, with no reachable address, to the platform's county (2026 rule). A report goes to
the unit where the conduct happened. A dispatcher can only send a ticket inside its own
jurisdiction; a ticket for elsewhere climbs to the hub that covers both (another province goes
through the national level), and the national level hands tickets to the province hub.
A county or station that registers a walk-in (来访) for elsewhere hands it on itself
(``walk_in_handover``, 转办): it does not dispatch, but the ticket must not wait at a unit that
can neither decide on it nor return it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidInput
from core.ticket.events import TicketRegistered
from core.ticket.vocabulary import BusinessForm, JurisdictionBasis, TicketKind
from core.units import (
    HANDLING_LEVELS,
    HUB_LEVELS,
    NATIONAL_CODE,
    Unit,
    UnitDirectory,
    UnitLevel,
    county_of,
    jurisdiction_prefix,
    level_of,
    parent_of,
)


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


@dataclass(frozen=True)
class Handover:
    """Where a county hands a ticket it registered but is not competent for (转办), and why.

    ``supervising_unit`` is the lowest unit above both the registering county and ``to_unit``:
    the ticket's dispatchers from now on, to whom a return (退回) goes. When the ticket goes to
    them directly, ``to_unit`` is that unit too.
    """

    to_unit: str
    basis: JurisdictionBasis
    supervising_unit: str


def _units_above(county: str, units: UnitDirectory) -> list[str]:
    """The codes above a county, nearest first, up to the national level.

    By the directory where it knows the unit (a county directly under its province names its
    parent), else by the shape of the codes.
    """
    chain: list[str] = []
    code = county
    while code != NATIONAL_CODE:
        known = units.find(code)
        code = known.parent_code if known is not None and known.parent_code else parent_of(code)
        if not code:
            break
        chain.append(code)
    return chain


def walk_in_handover(
    registering_unit: str, ticket: TicketRegistered, units: UnitDirectory
) -> Handover | None:
    """Where a ticket registered at a county or one of its stations must go, or None when the
    county is competent itself (or the ticket is a consultation or suggestion it answers).

    A county cannot dispatch, but it knows the same rules as a dispatcher. Inside its province
    it hands the ticket straight to the competent city or county: both are under the same
    province hub and rule book, and a dispatcher would send it nowhere else. A ticket for
    another province goes to the national level's dispatchers (DOMAIN.md §4); one whose
    competent region is no unit that handles tickets, to the dispatchers of the lowest unit
    above the county that covers the region. In every case the lowest unit above both is named
    as the ticket's dispatcher, to whom the competent unit returns it if it is not competent
    after all.
    """
    if ticket.kind in (TicketKind.CONSULTATION, TicketKind.SUGGESTION):
        return None
    county = county_of(registering_unit)
    region, basis = competent_region(ticket)
    if region.startswith(jurisdiction_prefix(county, UnitLevel.COUNTY)):
        return None
    supervising = next(
        code
        for code in (*_units_above(county, units), NATIONAL_CODE)
        if region.startswith(jurisdiction_prefix(code, level_of(code)))
    )
    competent = units.find(region)
    if (
        competent is None
        or competent.level not in HANDLING_LEVELS
        or supervising == NATIONAL_CODE
        or competent.code == supervising
    ):
        return Handover(supervising, JurisdictionBasis.RELAY, supervising)
    return Handover(competent.code, basis, supervising)
