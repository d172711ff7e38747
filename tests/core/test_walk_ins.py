"""A walk-in for another area is not stranded (转办; DOMAIN.md §4, issue 10 item 2).

A consumer who walks into a county bureau or a station (来访) may complain about a business in
another county. The registering county cannot decide on the complaint (it is not competent),
cannot return it (nobody routed it there) and does not dispatch; so its node forwards the
ticket with the registration (``TicketForwarded``): straight to the competent unit of the same
province, or to the national level's dispatchers for another province. The lowest unit above
both counties is named as the ticket's dispatcher, to whom a return goes.
"""

from __future__ import annotations

import pytest

from core import hlc
from core.deadlines import DEFAULT_POLICY, HolidayTable, WorkingDayCalendar
from core.deadlines.duties import owed_obligations
from core.errors import NotPermitted, StepNotAllowed
from core.officers import Officer, Role
from core.routing import Handover, walk_in_handover
from core.ticket import commands as c
from core.ticket import events as e
from core.ticket.decisions import (
    DecisionContext,
    check_event,
    forward_walk_in,
    register_ticket,
)
from core.ticket.duties import duty_owners
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import Duty, JurisdictionBasis, ReturnReason, TicketKind
from core.units import Unit, UnitDirectory, UnitLevel
from tests.helpers import domain
from tests.helpers.domain import (
    CITY,
    HANDLER,
    HUB,
    HUNAN_HUB,
    NATIONAL,
    OTHER_HANDLER,
    STATION_OFFICER,
    ZHUZHOU_HANDLER,
    History,
)

CALENDAR = WorkingDayCalendar(HolidayTable.from_chinese_calendar([2026]))
CHENGGUAN, QILIHE, LANZHOU, GANSU = "620102", "620103", "620100", "620000"
QILIHE_STATION_OFFICER = domain.officer("620103001-02", "何平", "620103001", Role.STATION_OFFICER)


def _against(operating: str, kind: TicketKind = TicketKind.COMPLAINT) -> c.RegisterTicket:
    return domain.draft(kind, respondent=domain.respondent(operating=operating))


def _forward(h: History) -> e.TicketForwarded:
    event = h.events[-1].event
    assert isinstance(event, e.TicketForwarded)
    return event


def _forwarded_hlc(h: History) -> int:
    return next(r.meta.hlc for r in h.events if isinstance(r.event, e.TicketForwarded))


def test_a_walk_in_at_chengguan_against_a_qilihe_business_goes_straight_to_qilihe() -> None:
    h = domain.walked_in(_against(QILIHE), by=HANDLER)

    forward = _forward(h)
    assert (forward.to_unit, forward.basis) == (QILIHE, JurisdictionBasis.OPERATING_ADDRESS)
    assert forward.supervising_unit == LANZHOU
    assert forward.note.startswith("不属本辖区")
    state = h.state
    assert (state.status, state.holder_unit) == (TicketStatus.ROUTED, QILIHE)
    assert state.last_router_unit == LANZHOU
    assert state.dispatch_count == 1
    assert state.conflicts == ()


def test_the_forward_ends_the_registering_countys_decision_and_the_target_owes_it_from_then() -> (
    None
):
    h = History.registered(HANDLER, _against(QILIHE))
    assert duty_owners(h.state, Duty.DECIDE_ACCEPTANCE) == {CHENGGUAN}  # stranded, before

    h.advance(minutes=5)
    signer = domain.system(CHENGGUAN)
    h.record(signer, *forward_walk_in(h.state, signer.ref(), h.ctx))

    state = h.state
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == {QILIHE}
    assert state.held_since_hlc == _forwarded_hlc(h)
    (owed,) = owed_obligations(state, DEFAULT_POLICY, CALENDAR)
    assert (owed.duty, owed.unit_code) == (Duty.DECIDE_ACCEPTANCE, QILIHE)
    assert owed.started_ms == hlc.to_millis(_forwarded_hlc(h))


def test_the_competent_county_accepts_the_forwarded_walk_in_and_chengguan_cannot() -> None:
    h = domain.walked_in(_against(QILIHE), by=HANDLER)
    with pytest.raises(NotPermitted):
        h.do(HANDLER, c.AcceptComplaint())
    state = h.do(OTHER_HANDLER, c.AcceptComplaint("要素齐全，予以受理"))
    assert state.status is TicketStatus.IN_HANDLING
    assert duty_owners(state, Duty.END_MEDIATION) == {QILIHE}


def test_a_walk_in_at_a_station_is_forwarded_by_the_station_in_its_countys_name() -> None:
    h = domain.walked_in(_against(QILIHE), by=STATION_OFFICER)
    assert h.events[-1].meta.officer.unit_code == domain.STATION.code
    state = h.state
    assert (state.holder_unit, state.assigned_station) == (QILIHE, "")
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == {QILIHE}


def test_a_walk_in_for_a_county_of_another_city_goes_to_that_county() -> None:
    h = domain.walked_in(_against("620502"), by=HANDLER)  # 天水市秦州区
    forward = _forward(h)
    assert (forward.to_unit, forward.supervising_unit) == ("620502", GANSU)
    assert duty_owners(h.state, Duty.DECIDE_ACCEPTANCE) == {"620502"}


def test_a_walk_in_for_another_province_goes_to_the_national_dispatchers_and_on() -> None:
    h = domain.walked_in(_against("430202"), by=HANDLER)  # 株洲市荷塘区
    forward = _forward(h)
    assert (forward.to_unit, forward.basis) == ("100000", JurisdictionBasis.RELAY)
    assert forward.supervising_unit == "100000"
    state = h.state
    assert (state.holder_unit, state.dispatch_count) == ("100000", 0)
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == frozenset()  # a hub dispatches

    h.do(NATIONAL, c.RouteTicket())
    h.do(HUNAN_HUB, c.RouteTicket())
    state = h.do(ZHUZHOU_HANDLER, c.AcceptComplaint())
    assert (state.holder_unit, state.status) == ("430202", TicketStatus.IN_HANDLING)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(_against(CHENGGUAN), id="its-own-business"),
        pytest.param(_against(QILIHE, TicketKind.CONSULTATION), id="a-consultation"),
        pytest.param(_against(QILIHE, TicketKind.SUGGESTION), id="a-suggestion"),
    ],
)
def test_what_the_county_handles_or_answers_itself_stays_there(command: c.RegisterTicket) -> None:
    h = domain.walked_in(command, by=HANDLER)
    assert len(h.events) == 1
    assert (h.state.status, h.state.holder_unit) == (TicketStatus.REGISTERED, CHENGGUAN)


def test_a_duplicate_walk_in_is_not_forwarded() -> None:
    h = History.registered(HANDLER, _against(QILIHE))
    again = History("T-again")
    command = _against(QILIHE)
    again.record(
        HANDLER,
        register_ticket(command, HANDLER, again.ctx, ticket_id="T-again", duplicate_of=h.ticket_id),
    )
    assert again.state.status is TicketStatus.DUPLICATE
    assert forward_walk_in(again.state, domain.system(CHENGGUAN).ref(), again.ctx) == []


def test_a_return_by_the_competent_county_goes_to_the_city_which_dispatches_again() -> None:
    h = domain.walked_in(_against(QILIHE), by=HANDLER)
    state = h.do(OTHER_HANDLER, c.ReturnTicket(ReturnReason.ADDRESS_UNCLEAR, "地址不详"))
    assert (state.status, state.holder_unit) == (TicketStatus.RETURNED, LANZHOU)

    state = h.do(CITY, c.RouteTicket(to_unit=CHENGGUAN))
    assert (state.holder_unit, state.dispatch_count) == (CHENGGUAN, 2)
    assert state.repeat_dispatched


def test_a_hub_holding_a_walk_in_for_its_dispatchers_cannot_return_it_to_itself() -> None:
    h = domain.walked_in(_against("430202"), by=HANDLER)
    state = h.state
    returned = e.TicketReturned(ReturnReason.NOT_OUR_DUTY, "不属本职", "100000")
    with pytest.raises(NotPermitted, match="dispatches the ticket itself"):
        check_event(state, NATIONAL.ref(), returned)


# Who may forward, and where to --------------------------------------------------------------


def _registered_at_chengguan() -> TicketState:
    return History.registered(HANDLER, _against(QILIHE)).state


FORWARD = e.TicketForwarded(QILIHE, JurisdictionBasis.OPERATING_ADDRESS, LANZHOU)


@pytest.mark.parametrize(
    ("officer", "event", "reason"),
    [
        pytest.param(OTHER_HANDLER, FORWARD, "cannot forward a ticket 620102", id="another-unit"),
        pytest.param(
            QILIHE_STATION_OFFICER,
            FORWARD,
            "cannot forward a ticket 620102",
            id="a-station-of-another-county",
        ),
        pytest.param(CITY, FORWARD, "dispatches tickets", id="a-city"),
        pytest.param(HUB, FORWARD, "dispatches tickets", id="the-province"),
        pytest.param(
            HANDLER,
            e.TicketForwarded(CHENGGUAN, JurisdictionBasis.OPERATING_ADDRESS, LANZHOU),
            "inside 620102's own jurisdiction",
            id="to-itself",
        ),
        pytest.param(
            HANDLER,
            e.TicketForwarded("620102001", JurisdictionBasis.OPERATING_ADDRESS, LANZHOU),
            "inside 620102's own jurisdiction",
            id="to-its-own-station",
        ),
        pytest.param(
            HANDLER,
            e.TicketForwarded("620104", JurisdictionBasis.OPERATING_ADDRESS, LANZHOU),
            "not competent",
            id="to-a-county-not-competent",
        ),
        pytest.param(
            HANDLER,
            e.TicketForwarded(QILIHE, JurisdictionBasis.OPERATING_ADDRESS, CHENGGUAN),
            "not a unit above 620102",
            id="naming-itself-as-dispatcher",
        ),
        pytest.param(
            HANDLER,
            e.TicketForwarded(QILIHE, JurisdictionBasis.OPERATING_ADDRESS, "620500"),
            "not a unit above 620102",
            id="naming-another-city-as-dispatcher",
        ),
        pytest.param(
            HANDLER,
            e.TicketForwarded("620502", JurisdictionBasis.OPERATING_ADDRESS, LANZHOU),
            "not above both 620102 and 620502",
            id="naming-a-dispatcher-not-above-the-target",
        ),
    ],
)
def test_authority_refuses_a_forward_by_another_unit_or_to_the_wrong_unit(
    officer: Officer, event: e.TicketForwarded, reason: str
) -> None:
    state = _registered_at_chengguan()
    with pytest.raises(NotPermitted, match=reason):
        check_event(state, officer.ref(), event)


def test_a_forward_straight_to_another_province_is_refused() -> None:
    state = History.registered(HANDLER, _against("430202")).state
    direct = e.TicketForwarded("430202", JurisdictionBasis.OPERATING_ADDRESS, "100000")
    with pytest.raises(NotPermitted, match="through the national level"):
        check_event(state, HANDLER.ref(), direct)


def test_a_ticket_forwarded_or_routed_already_is_not_forwarded() -> None:
    h = domain.walked_in(_against(QILIHE), by=HANDLER)
    with pytest.raises(StepNotAllowed, match="still where it was registered"):
        check_event(h.state, HANDLER.ref(), FORWARD)
    assert forward_walk_in(h.state, domain.system(CHENGGUAN).ref(), h.ctx) == []


def test_a_county_directly_under_its_province_forwards_with_the_province_as_dispatcher() -> None:
    # 仙桃市 (429004) and 潜江市 (429005) are county-level cities under Hubei with no prefecture
    # above them: their codes alone would name a shared city 429000 that does not exist; the
    # directory names their parent.
    hubei = UnitDirectory(
        [
            Unit("100000", "国家市场监督管理总局", UnitLevel.NATIONAL),
            Unit("420000", "湖北省", UnitLevel.PROVINCE, "100000"),
            Unit("429004", "仙桃市", UnitLevel.COUNTY, "420000"),
            Unit("429005", "潜江市", UnitLevel.COUNTY, "420000"),
        ]
    )
    clerk = Officer("429004-01", "胡兰", "429004", UnitLevel.COUNTY, frozenset({Role.HANDLER}))
    command = domain.draft(respondent=domain.respondent(operating="429005", credit=""))
    registered = register_ticket(
        command, clerk, DecisionContext(hubei, domain.NOW), ticket_id="T-xiantao"
    )

    handover = walk_in_handover("429004", registered, hubei)

    assert handover == Handover("429005", JurisdictionBasis.OPERATING_ADDRESS, "420000")
