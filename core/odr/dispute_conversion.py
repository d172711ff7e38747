"""Turning an ODR dispute into a formal complaint (转为投诉): where it goes, and the event.

A dispute the consumer rejected, the enterprise declined, or nobody settled within the ODR
limit becomes a complaint handled by the bureau, routed by jurisdiction as today
(``core.routing``). The county that holds the dispute cannot dispatch, so it hands the
complaint on as it would a walk-in (``core.routing.walk_in_handover``): to the competent city
or county of its province, or to the dispatchers above; when it is competent itself it keeps
the complaint, and its city is named as the unit a return would go to.
"""

from __future__ import annotations

from core.errors import StepNotAllowed
from core.odr.dispute import ConversionReason
from core.routing import Handover, competent_region, walk_in_handover
from core.ticket.events import OdrDisputeConverted
from core.ticket.state import TicketState
from core.units import UnitDirectory

CONVERSION_NOTES = {
    ConversionReason.REJECTED: "消费者不接受和解方案，转为投诉",
    ConversionReason.NO_ANSWER_IN_TIME: "ODR 时限内未和解，转为投诉",
    ConversionReason.DECLINED: "企业拒绝和解，转为投诉",
}
"""The note each conversion carries (what an officer reads in the history)."""


def conversion_handover(state: TicketState, units: UnitDirectory) -> Handover:
    """Where the complaint goes when the dispute of ``state`` is converted."""
    dispute, registration = state.dispute, state.registration
    if dispute is None or registration is None:
        raise StepNotAllowed("OdrDisputeConverted", state.status.value, "no ODR dispute here")
    county = dispute.enterprise_unit
    handover = walk_in_handover(county, registration, units)
    if handover is not None:
        return handover
    _, basis = competent_region(registration)
    found = units.find(county)
    above = found.parent_code if found is not None and found.parent_code else county
    return Handover(county, basis, above)


def conversion(
    state: TicketState, reason: ConversionReason, units: UnitDirectory, note: str = ""
) -> OdrDisputeConverted:
    """The event that turns the dispute of ``state`` into a complaint, routed by jurisdiction."""
    handover = conversion_handover(state, units)
    return OdrDisputeConverted(
        reason,
        handover.to_unit,
        handover.basis,
        handover.supervising_unit,
        note or CONVERSION_NOTES[reason],
    )
