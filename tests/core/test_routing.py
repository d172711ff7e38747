"""Routing (分流) and jurisdiction, DOMAIN.md §4."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidInput, NotPermitted, StepNotAllowed
from core.officers import Role
from core.routing import competent_region, next_hop
from core.ticket import commands as c
from core.ticket import events as e
from core.ticket.decisions import register_ticket
from core.ticket.state import Stage, TicketStatus
from core.ticket.vocabulary import (
    BusinessForm,
    JurisdictionBasis,
    ReturnReason,
    TicketKind,
    Track,
)
from core.units import NATIONAL_CODE, UnitDirectory
from tests.helpers import domain
from tests.helpers.domain import (
    CITY,
    HANDLER,
    HUB,
    HUNAN_HUB,
    NATIONAL,
    OTHER_HANDLER,
    ZHUZHOU_HANDLER,
    History,
)


def _registered(
    kind: TicketKind = TicketKind.COMPLAINT, incident: str = "", **respondent: Any
) -> e.TicketRegistered:
    command = domain.draft(
        kind, respondent=domain.respondent(**respondent), incident_region=incident
    )
    return register_ticket(command, HUB, domain.context(), ticket_id="T-route")


def _last(h: History) -> e.TicketRouted:
    event = h.events[-1].event
    assert isinstance(event, e.TicketRouted)
    return event


@pytest.mark.parametrize(
    ("kind", "incident", "respondent", "expected"),
    [
        pytest.param(
            TicketKind.COMPLAINT,
            "",
            {"operating": "620102", "registered": "620103"},
            ("620102", JurisdictionBasis.OPERATING_ADDRESS),
            id="shop-where-it-operates",
        ),
        pytest.param(
            TicketKind.COMPLAINT,
            "",
            {"operating": "", "registered": "620103"},
            ("620103", JurisdictionBasis.REGISTERED_ADDRESS),
            id="shop-where-it-is-registered",
        ),
        pytest.param(
            TicketKind.COMPLAINT,
            "",
            {"operating": "620102", "registered": "330108", "form": BusinessForm.PLATFORM},
            ("330108", JurisdictionBasis.PLATFORM_REGISTRATION),
            id="platform-where-it-is-registered",
        ),
        pytest.param(
            TicketKind.COMPLAINT,
            "",
            {"operating": "620102", "registered": "620103", "form": BusinessForm.OWN_WEBSITE},
            ("620103", JurisdictionBasis.PLATFORM_REGISTRATION),
            id="own-website-where-it-is-registered",
        ),
        pytest.param(
            TicketKind.COMPLAINT,
            "",
            {
                "operating": "620103",
                "form": BusinessForm.PLATFORM_SHOP,
                "platform_name": "某电商平台",
                "platform_region": "330108",
            },
            ("620103", JurisdictionBasis.OPERATING_ADDRESS),
            id="platform-shop-where-it-operates",
        ),
        pytest.param(
            TicketKind.COMPLAINT,
            "",
            {
                "operating": "",
                "form": BusinessForm.PLATFORM_SHOP,
                "platform_name": "某电商平台",
                "platform_region": "330108",
            },
            ("330108", JurisdictionBasis.PLATFORM_FALLBACK),
            id="platform-shop-without-address-to-the-platform",
        ),
        pytest.param(
            TicketKind.REPORT,
            "620103",
            {"operating": "620102"},
            ("620103", JurisdictionBasis.CONDUCT_LOCATION),
            id="report-where-the-conduct-happened",
        ),
        pytest.param(
            TicketKind.COMPLAINT,
            "620103",
            {"operating": "620102"},
            ("620102", JurisdictionBasis.OPERATING_ADDRESS),
            id="complaint-not-by-conduct-location",
        ),
    ],
)
def test_competent_region_follows_the_jurisdiction_rules(
    kind: TicketKind,
    incident: str,
    respondent: dict[str, Any],
    expected: tuple[str, JurisdictionBasis],
) -> None:
    assert competent_region(_registered(kind, incident, **respondent)) == expected


def test_province_hub_routes_straight_to_the_competent_county() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="620103")))
    state = h.do(HUB, c.RouteTicket())
    assert state.holder_unit == "620103"
    assert state.status is TicketStatus.ROUTED
    assert state.dispatch_count == 1


def test_county_less_city_handles_its_own_tickets() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="620200")))
    assert h.do(HUB, c.RouteTicket()).holder_unit == "620200"


def test_cross_province_ticket_goes_through_national_to_the_province_hub() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="430202")))
    state = h.do(HUB, c.RouteTicket())
    assert (state.holder_unit, _last(h).basis) == (NATIONAL_CODE, JurisdictionBasis.RELAY)
    assert state.dispatch_count == 0
    state = h.do(NATIONAL, c.RouteTicket())
    assert (state.holder_unit, _last(h).basis) == ("430000", JurisdictionBasis.RELAY)
    assert state.dispatch_count == 0
    state = h.do(HUNAN_HUB, c.RouteTicket())
    assert (state.holder_unit, _last(h).basis) == ("430202", JurisdictionBasis.OPERATING_ADDRESS)
    assert state.dispatch_count == 1
    assert not state.repeat_dispatched
    state = h.do(ZHUZHOU_HANDLER, c.AcceptComplaint())
    assert state.track(Track.COMPLAINT).stage is Stage.MEDIATING  # type: ignore[union-attr]


def test_national_hands_a_ticket_to_the_province_hub_even_when_a_county_is_named() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="430202")))
    h.do(HUB, c.RouteTicket())
    state = h.do(NATIONAL, c.RouteTicket(to_unit="430202"))
    assert state.holder_unit == "430000"
    assert _last(h).basis is JurisdictionBasis.RELAY


def test_national_naming_the_province_hub_is_a_relay_not_an_extra_dispatch() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="430202")))
    h.do(HUB, c.RouteTicket())
    h.do(NATIONAL, c.RouteTicket(to_unit="430000"))
    state = h.do(HUNAN_HUB, c.RouteTicket())
    assert state.holder_unit == "430202"
    assert state.dispatch_count == 1
    assert not state.repeat_dispatched


def test_a_ticket_relayed_to_a_hub_awaits_dispatch_there() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="430202")))
    h.do(HUB, c.RouteTicket())
    h.do(NATIONAL, c.RouteTicket())
    hub_handler = domain.officer("430000-09", "田野", "430000", Role.HANDLER)
    with pytest.raises(StepNotAllowed):
        h.do(hub_handler, c.AcceptComplaint())


def test_city_dispatcher_passes_a_ticket_outside_its_city_up_to_the_province() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="620702")))
    h.do(HUB, c.RouteTicket(to_unit="620100"))
    assert _last(h).basis is JurisdictionBasis.DISPATCHER_DECISION
    state = h.do(CITY, c.RouteTicket())
    assert state.holder_unit == "620000"
    assert _last(h).basis is JurisdictionBasis.RELAY


@pytest.mark.parametrize("reason", list(ReturnReason), ids=lambda r: r.value)
def test_returned_ticket_goes_back_to_its_dispatcher_and_redispatch_counts(
    reason: ReturnReason,
) -> None:
    h = domain.routed()
    state = h.do(HANDLER, c.ReturnTicket(reason, "请核实后重新派单"))
    assert h.events[-1].event == e.TicketReturned(reason, "请核实后重新派单", "620000")
    assert state.status is TicketStatus.RETURNED
    assert state.holder_unit == "620000"
    assert (state.return_count, state.dispatch_count) == (1, 1)
    state = h.do(HUB, c.RouteTicket(to_unit="620103", note="改派七里河"))
    assert state.status is TicketStatus.ROUTED
    assert state.holder_unit == "620103"
    assert _last(h).basis is JurisdictionBasis.DISPATCHER_DECISION
    assert state.dispatch_count == 2
    assert state.repeat_dispatched
    assert not state.returned
    state = h.do(OTHER_HANDLER, c.AcceptComplaint())
    assert state.status is TicketStatus.IN_HANDLING


def test_returned_ticket_cannot_be_handled_until_routed_again() -> None:
    h = domain.routed()
    h.do(HANDLER, c.ReturnTicket(ReturnReason.ADDRESS_UNCLEAR, "地址不详"))
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.AcceptComplaint())


def test_a_return_states_why() -> None:
    h = domain.routed()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, ""))
    assert raised.value.field == "note"


def test_an_accepted_complaint_is_not_returned() -> None:
    h = domain.accepted()
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本职"))


def test_only_the_holding_unit_returns_a_ticket() -> None:
    h = domain.routed()
    with pytest.raises(NotPermitted):
        h.do(OTHER_HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本职"))


def test_relayed_ticket_is_returned_to_the_hub_that_routed_it() -> None:
    h = History.registered(HUB, domain.draft(respondent=domain.respondent(operating="430202")))
    for dispatcher in (HUB, NATIONAL, HUNAN_HUB):
        h.do(dispatcher, c.RouteTicket())
    state = h.do(ZHUZHOU_HANDLER, c.ReturnTicket(ReturnReason.ADDRESS_UNCLEAR, "查无此店"))
    assert state.holder_unit == "430000"


def test_province_can_reroute_a_ticket_in_handling_and_the_unit_starts_over() -> None:
    h = domain.accepted()
    h.do(HANDLER, c.AssignToStation("620102001"))
    state = h.do(HUB, c.RouteTicket(to_unit="620103"))
    assert state.holder_unit == "620103"
    assert state.assigned_station == ""
    assert state.dispatch_count == 2
    assert state.track(Track.COMPLAINT).stage is Stage.AWAITING_DECISION  # type: ignore[union-attr]


def test_routing_to_a_station_is_refused() -> None:
    h = History.registered(HUB)
    with pytest.raises(InvalidInput) as raised:
        h.do(HUB, c.RouteTicket(to_unit="620102001"))
    assert raised.value.field == "to_unit"
    assert h.state.status is TicketStatus.REGISTERED


@pytest.mark.parametrize("to_unit", ["620199", "620000"], ids=["unknown", "itself"])
def test_routing_to_an_unknown_unit_or_to_itself_is_refused(to_unit: str) -> None:
    h = History.registered(HUB)
    with pytest.raises(InvalidInput) as raised:
        h.do(HUB, c.RouteTicket(to_unit=to_unit))
    assert raised.value.field == "to_unit"


def test_routing_needs_a_dispatcher() -> None:
    h = History.registered(HUB)
    with pytest.raises(NotPermitted):
        h.do(HANDLER, c.RouteTicket())


def test_a_county_does_not_dispatch() -> None:
    county_dispatcher = domain.officer("620102-09", "冯涛", "620102", Role.DISPATCHER)
    h = domain.routed()
    with pytest.raises(NotPermitted):
        h.do(county_dispatcher, c.RouteTicket(to_unit="620103"))
    assert h.state.holder_unit == "620102"


def test_next_hop_of_a_province_for_another_province_is_national(
    directory: UnitDirectory,
) -> None:
    ticket = _registered(operating="430202")
    decision = next_hop(directory.get("620000"), ticket, directory)
    assert (decision.to_unit, decision.basis) == (NATIONAL_CODE, JurisdictionBasis.RELAY)


def test_registration_needs_a_region_to_route_by() -> None:
    with pytest.raises(InvalidInput) as raised:
        _registered(operating="", registered="")
    assert raised.value.field == "respondent.operating_region"


def test_a_platform_shop_names_its_platform() -> None:
    with pytest.raises(InvalidInput) as raised:
        _registered(form=BusinessForm.PLATFORM_SHOP, operating="620102")
    assert raised.value.field == "respondent.platform_name"
