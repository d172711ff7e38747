"""Who may record what: the roles a command needs and the units an event may come from.

Two questions, kept apart because they are asked in different places. ``ROLES_FOR`` is asked
when a node takes a command from one of its own officers (the roster knows their roles).
``why_unit_may_not`` needs only what an event carries (the officer's unit and level), so a
parent can ask it of an event that arrives by replication: a station cannot route
province-wide, a county cannot approve for another county.

A county or station does not dispatch; it only forwards a walk-in it registered for elsewhere
(转办, ``TicketForwarded``), to the competent unit or the dispatchers above both counties.

Who may record an ODR dispute's events (the registering unit opens it, the enterprise's county
records the enterprise's steps, a unit with a part in the ticket the consumer's answer and the
conversion) is ``core.odr.dispute_steps.why_odr_unit_may_not``.
"""

from __future__ import annotations

from core.errors import InvalidInput
from core.odr.dispute_steps import ODR_EVENTS, why_odr_unit_may_not
from core.officers import OfficerRef, Role
from core.routing import competent_region
from core.ticket import commands as c
from core.ticket.events import (
    CallbackRecorded,
    CaseOpened,
    ComplaintAccepted,
    ComplaintRefused,
    DomainEvent,
    EmergencyEscalated,
    ExtensionDecided,
    ExtensionRequested,
    GroupIncidentLinked,
    InquiryAnswered,
    MediationEnded,
    MediationPaused,
    MediationResumed,
    PersonalDataErased,
    PersonalDataRevealed,
    ProfessionalClaimantFlagged,
    ReminderSent,
    ReportVerified,
    ResultApproved,
    ResultRejected,
    ResultSubmitted,
    SupervisionOrdered,
    SupervisionReported,
    TicketAssigned,
    TicketEscalated,
    TicketForwarded,
    TicketRegistered,
    TicketReopened,
    TicketReturned,
    TicketRouted,
)
from core.ticket.state import TicketState
from core.units import (
    NATIONAL_CODE,
    UnitLevel,
    county_of,
    jurisdiction_prefix,
    level_of,
    province_of,
)

_HANDLERS = frozenset({Role.HANDLER, Role.UNIT_HEAD})
_FIELD = frozenset({Role.HANDLER, Role.STATION_OFFICER})

ROLES_FOR: dict[type, frozenset[Role]] = {
    c.RegisterTicket: frozenset(
        {Role.OPERATOR, Role.DISPATCHER, Role.HANDLER, Role.STATION_OFFICER}
    ),
    c.RouteTicket: frozenset({Role.DISPATCHER, Role.SUPERVISOR}),
    c.ReturnTicket: _HANDLERS,
    c.AcceptComplaint: _HANDLERS,
    c.RefuseComplaint: _HANDLERS,
    c.AssignToStation: _HANDLERS,
    c.PauseMediation: _FIELD,
    c.ResumeMediation: _FIELD,
    c.EndMediation: _FIELD,
    c.VerifyReport: _FIELD,
    c.OpenCase: _HANDLERS,
    c.SubmitResult: _FIELD,
    c.ApproveResult: frozenset({Role.UNIT_HEAD}),
    c.RejectResult: frozenset({Role.UNIT_HEAD}),
    c.AnswerInquiry: frozenset({Role.OPERATOR, Role.HANDLER, Role.STATION_OFFICER}),
    c.RecordCallback: frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.HANDLER}),
    c.RequestExtension: _HANDLERS,
    c.DecideExtension: frozenset({Role.UNIT_HEAD, Role.SUPERVISOR}),
    c.OrderSupervision: frozenset({Role.SUPERVISOR, Role.DISPATCHER}),
    c.ReportSupervision: frozenset({Role.UNIT_HEAD}),
}
"""The roles, any one of which lets an officer give each command.

Reminders and escalations are not commands: a node's sweep records them as a system officer
of its unit, and only ``why_unit_may_not`` applies to them. The same holds for group incident
links, emergency escalations and professional-claimant flags (``node.jobs.detection``, and intake
for emergencies)."""

DISPATCH_LEVELS = frozenset({UnitLevel.NATIONAL, UnitLevel.PROVINCE, UnitLevel.CITY})


def covers(officer: OfficerRef, unit_code: str) -> bool:
    """True when ``unit_code`` lies inside the officer's unit's jurisdiction."""
    return unit_code.startswith(jurisdiction_prefix(officer.unit_code, officer.unit_level))


def _has_part(state: TicketState, officer: OfficerRef) -> str | None:
    """None when the officer's unit holds the ticket, is above its holder, or is (or is above)
    a unit that held it; else the reason. What a mark on the ticket (incident, emergency,
    claimant) asks of its recorder: a link recorded just before the ticket moved on is
    harmless history, not a conflict."""
    if covers(officer, state.holder_unit) or any(covers(officer, u) for u in state.units_involved):
        return None
    return f"{officer.unit_code} has no part in this ticket"


def why_outside_ticket(state: TicketState, officer: OfficerRef) -> str | None:
    """None when the officer's unit may look at or act on this ticket at all, else the reason.

    What the edge asks before any call that names a ticket (``core.access.permissions``): the
    officer's unit holds it, is above its holder, holds or held it or is above a unit that did
    (``_has_part``), or is (or is above) a unit ordered to report on it, which owes the report
    wherever the ticket is. Whether the unit may take the particular step is the command's own
    question (``why_unit_may_not``), asked when the step is decided.
    """
    if _has_part(state, officer) is None:
        return None
    if any(covers(officer, order.to_unit) for order in state.supervision_orders):
        return None
    return f"{officer.unit_code} has no part in ticket {state.ticket_id}"


def why_unit_may_not(state: TicketState, officer: OfficerRef, event: DomainEvent) -> str | None:
    """The reason the officer's unit may not record ``event`` on this ticket, or None."""
    unit = officer.unit_code
    holder = state.holder_unit
    at_holder = unit == holder
    in_field = at_holder or (bool(state.assigned_station) and unit == state.assigned_station)
    if isinstance(event, ODR_EVENTS):
        return why_odr_unit_may_not(state, officer, event, _has_part(state, officer))
    match event:
        case TicketRegistered(registering_unit=registering_unit):
            ok = unit == registering_unit
            return None if ok else f"{unit} cannot register in the name of {registering_unit}"
        case TicketRouted(to_unit=to_unit):
            if officer.unit_level not in DISPATCH_LEVELS:
                return f"a {officer.unit_level.value} unit does not dispatch tickets"
            if not covers(officer, holder):
                return f"the ticket is at {holder}, outside {unit}'s jurisdiction"
            relay_up = to_unit == NATIONAL_CODE or not covers(officer, to_unit)
            if relay_up and to_unit not in (NATIONAL_CODE, province_of(unit)):
                return f"{unit} can only pass a ticket outside its jurisdiction up to its hub"
            return None
        case TicketReturned(to_unit=to_unit):
            if not at_holder:
                return f"only the holding unit {holder} can return the ticket"
            if to_unit == holder:  # a walk-in forwarded to its dispatchers (TicketForwarded)
                return f"{holder} dispatches the ticket itself; it has nobody to return it to"
            if to_unit != state.last_router_unit:
                return f"a ticket goes back to the unit that routed it, {state.last_router_unit}"
            return None
        case TicketAssigned(station_code=station):
            if not at_holder:
                return f"only the holding unit {holder} assigns its stations"
            return (
                None if county_of(station) == holder else f"{station} is not a station of {holder}"
            )
        case (
            ComplaintAccepted()
            | ComplaintRefused()
            | CaseOpened()
            | ResultApproved()
            | ResultRejected()
        ):
            return None if at_holder else f"only the handling unit {holder} can do this"
        case MediationPaused() | MediationResumed() | MediationEnded() | ReportVerified():
            return None if in_field else f"only {holder} or its assigned station can do this"
        case ResultSubmitted(handling_unit=handling_unit):
            if not in_field:
                return f"only {holder} or its assigned station can submit the result"
            return None if handling_unit == holder else f"the result must be in {holder}'s name"
        case InquiryAnswered():
            return None if in_field or covers(officer, holder) else f"{unit} does not hold it"
        case CallbackRecorded() | TicketReopened():
            # The unit that took the call calls the consumer back (回访), and a consumer rates
            # online on the node that registered the ticket (``core.officers.web_channel``),
            # wherever the ticket went: a green-channel dispute is held by the enterprise's
            # county, which may be another county's.
            registration = state.registration
            if registration is not None and unit == registration.registering_unit:
                return None
            return None if covers(officer, holder) else f"{unit} does not supervise {holder}"
        case ReminderSent(unit_code=subject) | TicketEscalated(from_unit=subject):
            # About the duty of ``subject``: recorded by its own sweep or one above it. Judged
            # by the unit whose duty it is rather than by the holder alone, so that a county
            # cut off while the ticket was routed away records harmless history, no conflict.
            if not covers(officer, subject):
                return f"{unit} is neither {subject} nor above it"
            if covers(officer, holder) or subject in state.units_involved:
                return None
            if any(order.to_unit == subject for order in state.supervision_orders):
                return None  # a unit ordered to report owes the report wherever the ticket is
            return f"{subject} has never held this ticket nor been ordered to report on it"
        case ExtensionRequested():
            return None if at_holder else f"only the holding unit {holder} asks for more time"
        case ExtensionDecided():
            if at_holder:
                return f"{unit} cannot decide its own extension; a unit above it does"
            return None if covers(officer, holder) else f"{unit} does not supervise {holder}"
        case SupervisionOrdered(to_unit=to_unit):
            if unit == to_unit or not covers(officer, to_unit):
                return f"{unit} is not above {to_unit}"
            return None
        case SupervisionReported(order_id=order_id):
            order = state.supervision_order(order_id)
            if order is not None and unit != order.to_unit:
                return f"only {order.to_unit} reports on supervision order {order_id}"
            return None
        case GroupIncidentLinked(to_unit=to_unit):
            # The city links its own incidents, or one of the units below it does.
            if not unit.startswith(jurisdiction_prefix(to_unit, level_of(to_unit))):
                return f"{unit} cannot send an incident to {to_unit}, a city it is not in"
            return _has_part(state, officer)
        case EmergencyEscalated() | ProfessionalClaimantFlagged():
            return _has_part(state, officer)
        case PersonalDataRevealed() | PersonalDataErased():
            # A look or an erasure by a unit that has (or is above one that had) the ticket.
            return _has_part(state, officer)
        case TicketForwarded():
            return _why_not_forward(state, officer, event)
    return None


FORWARDING_LEVELS = frozenset({UnitLevel.COUNTY, UnitLevel.STATION})
"""Levels that hand on a walk-in they registered (转办); the levels above dispatch instead."""


def _above(unit: str, code: str) -> bool:
    """True when ``code`` lies inside the jurisdiction of ``unit`` and is not ``unit`` itself."""
    return code != unit and code.startswith(jurisdiction_prefix(unit, level_of(unit)))


def _why_not_forward(state: TicketState, officer: OfficerRef, event: TicketForwarded) -> str | None:
    """Who may forward a walk-in (``TicketForwarded``), and where to.

    Only the unit that registered the ticket, or the county whose station did, while its
    county still holds it; only out of that county's jurisdiction; and only to the competent
    unit (by ``core.routing``) in the same province, or to a unit above the county that
    covers the destination, named as the ticket's dispatcher (``supervising_unit``).
    """
    unit = officer.unit_code
    if officer.unit_level not in FORWARDING_LEVELS:
        return f"a {officer.unit_level.value} unit dispatches tickets; it does not forward them"
    if state.registration is None:
        return "the ticket's registration is not held here"
    registering = state.registration.registering_unit
    county = county_of(registering)
    if unit not in (registering, county):
        return f"{unit} cannot forward a ticket {registering} registered"
    if state.holder_unit != county:
        return f"the ticket is at {state.holder_unit}, no longer where it was registered"
    to_unit, supervising = event.to_unit, event.supervising_unit
    if to_unit.startswith(jurisdiction_prefix(county, UnitLevel.COUNTY)):
        return f"{to_unit} is inside {county}'s own jurisdiction: {county} handles the ticket"
    if level_of(supervising) not in DISPATCH_LEVELS or not _above(supervising, county):
        return f"{supervising} is not a unit above {county} that dispatches"
    if to_unit == supervising:
        return None  # to the dispatchers above the county
    if not _above(supervising, to_unit):
        return f"{supervising} is not above both {county} and {to_unit}"
    try:
        competent, _ = competent_region(state.registration)
    except InvalidInput:
        competent = ""
    if to_unit != competent:
        return f"{to_unit} is not competent for the ticket; forward it to {supervising}"
    if province_of(to_unit) != province_of(county):
        return "a ticket for another province goes through the national level"
    return None
