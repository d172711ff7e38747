"""Which tickets are emergencies (紧急事件), and whose queue they go to.

Food poisoning, a safety hazard, a price surge in a crisis go to the province at once, at
registration (DOMAIN.md §6): ``emergency_reasons`` says what in the ticket matched the
``EmergencyRule`` and ``emergency_destination`` which province's queue it goes to.
"""

from __future__ import annotations

import unicodedata

from core.errors import InvalidInput
from core.incidents.rules import EmergencyRule
from core.routing import competent_region
from core.ticket.events import TicketRegistered
from core.units import province_of


def emergency_reasons(registration: TicketRegistered, rule: EmergencyRule) -> tuple[str, ...]:
    """Why the ticket is an emergency, e.g. ``keyword:食物中毒``, ``category:突发事件``.

    Empty when it is not one.
    """
    text = unicodedata.normalize("NFKC", f"{registration.facts}\n{registration.request}")
    parts = {p.strip() for p in unicodedata.normalize("NFKC", registration.category).split("/")}
    reasons = [f"category:{c}" for c in rule.categories if c in parts]
    reasons += [f"keyword:{k}" for k in rule.keywords if k and k in text]
    return tuple(reasons)


def emergency_destination(registration: TicketRegistered) -> str:
    """The province whose queue an emergency goes to: where the business is (the competent
    region), else the province of the unit that registered it."""
    try:
        region, _ = competent_region(registration)
    except InvalidInput:
        region = registration.registering_unit
    return province_of(region)
