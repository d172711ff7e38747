"""An ODR dispute's life inside its ticket (在线消费纠纷解决; DOMAIN.md §8, issue 13 item 2).

A complaint whose consumer chose the green channel goes straight to the enterprise's county,
skipping dispatch; the enterprise negotiates and proposes; the consumer's acceptance settles and
closes the ticket, a rejection (or a decline, or the limit passing) turns it into a formal
complaint at the competent unit with the whole history kept. These tests drive the pure
decisions (``core.odr.dispute_decisions``) and the fold, as the node's desks do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput, StepNotAllowed
from core.odr import dispute_decisions as odr
from core.odr.dispute import CloseReason, ContactMethod, ConversionReason, DisputeStatus
from core.odr.roster import ApplicantKind, OdrRoster, RosterEntry, Standing
from core.officers import Officer, web_channel
from core.ticket import commands as c
from core.ticket.decisions import decide, register_ticket
from core.ticket.duties import duty_owners
from core.ticket.fold import fold
from core.ticket.state import Stage, TicketStatus
from core.ticket.vocabulary import (
    Duty,
    JurisdictionBasis,
    MediationOutcome,
    Satisfaction,
    TicketKind,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HUB, NOW, History

CHENGGUAN, QILIHE, LANZHOU = "620102", "620103", "620100"
GYM = domain.respondent()  # operating in Chengguan, with a valid credit code


def _roster(standing: Standing = Standing.ENROLLED, unit: str = CHENGGUAN) -> OdrRoster:
    entry = RosterEntry(GYM.credit_code, GYM.name, ApplicantKind.ENTERPRISE, unit, standing, 0)
    return OdrRoster.of(1, [entry])


def _as_officer(unit: str, ref_id: str, name: str) -> Officer:
    u = domain.units().get(unit)
    return Officer(ref_id, name, u.code, u.level, frozenset())


def enterprise_user(unit: str = CHENGGUAN) -> Officer:
    """An enterprise user of the gym, signed in to its county's node."""
    ref = odr.enterprise_actor(GYM.credit_code, "desk-1", "前台", domain.units().get(unit))
    return _as_officer(unit, ref.officer_id, ref.name)


def consumer_at(unit: str = "620000") -> Officer:
    """The consumer, signed in to the node that registered the ticket."""
    ref = odr.consumer_actor(domain.units().get(unit))
    return _as_officer(unit, ref.officer_id, ref.name)


def green_channel(roster: OdrRoster | None = None, **changes: Any) -> History:
    """A complaint registered at the hub by phone, the consumer choosing the green channel."""
    history = History.registered(HUB, domain.draft(**changes))
    registration = history.state.registration
    assert registration is not None
    history.record(HUB, odr.open_dispute(registration, roster or _roster()))
    return history


def step(history: History, who: Officer, events: list) -> None:  # type: ignore[type-arg]
    history.record(who, *events)


def test_a_green_channel_complaint_goes_straight_to_the_enterprises_county() -> None:
    state = green_channel().state
    assert state.dispute is not None
    assert state.dispute.status is DisputeStatus.NEGOTIATING
    assert state.holder_unit == CHENGGUAN
    assert state.dispatch_count == 0
    assert state.status is TicketStatus.REGISTERED
    assert duty_owners(state, Duty.ODR_ANSWER) == {CHENGGUAN}
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == frozenset()


def test_the_bureaus_casework_waits_while_the_enterprise_settles() -> None:
    history = green_channel()
    with pytest.raises(StepNotAllowed, match="ODR green channel"):
        decide(history.state, c.AcceptComplaint(), HANDLER, history.ctx)
    with pytest.raises(StepNotAllowed, match="ODR green channel"):
        decide(history.state, c.RouteTicket(), HUB, history.ctx)


@pytest.mark.parametrize(
    ("roster", "kind", "said"),
    [
        (OdrRoster(), TicketKind.COMPLAINT, "not on the ODR roster"),
        (_roster(Standing.DISQUALIFIED), TicketKind.COMPLAINT, "not in good standing"),
        (_roster(Standing.REMOVED), TicketKind.COMPLAINT, "not in good standing"),
        (_roster(), TicketKind.REPORT, "only a complaint"),
    ],
)
def test_the_green_channel_is_refused_naming_the_field(
    roster: OdrRoster, kind: TicketKind, said: str
) -> None:
    registration = register_ticket(domain.draft(kind), HUB, domain.context(), ticket_id="T1")
    with pytest.raises(InvalidInput, match=said) as refused:
        odr.open_dispute(registration, roster)
    assert refused.value.field == "odr_green_channel"


def test_a_warned_enterprise_still_receives_disputes() -> None:
    registration = register_ticket(domain.draft(), HUB, domain.context(), ticket_id="T1")
    assert odr.open_dispute(registration, _roster(Standing.WARNED)).enterprise_unit == CHENGGUAN


def _settle(history: History) -> None:
    firm = enterprise_user()
    history.advance(minutes=30)
    step(
        history,
        firm,
        odr.record_contact(
            history.state, firm.ref(), ContactMethod.PHONE, NOW, "已电话联系，同意退款", NOW
        ),
    )
    step(history, firm, odr.propose_settlement(history.state, firm.ref(), "退还剩余费用", 250_000))


def test_an_accepted_proposal_settles_the_dispute_and_closes_the_ticket() -> None:
    history = green_channel()
    _settle(history)
    assert history.state.dispute is not None
    assert history.state.dispute.status is DisputeStatus.PROPOSED
    units = domain.units()
    step(
        history,
        consumer_at(),
        odr.answer_proposal(history.state, consumer_at().ref(), True, "", units),
    )
    state = history.state
    assert state.dispute is not None and state.dispute.status is DisputeStatus.SETTLED
    assert state.status is TicketStatus.CLOSED
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None and complaint.stage is Stage.CLOSED
    assert complaint.mediation_outcome is MediationOutcome.SETTLED
    assert complaint.amount_recovered_fen == 250_000
    assert duty_owners(state, Duty.ODR_ANSWER) == frozenset()
    kinds = [s.kind.value for s in state.dispute.steps]
    assert kinds == ["opened", "contact", "proposal", "answer"]


def test_a_rejected_proposal_turns_the_dispute_into_a_complaint_at_the_competent_unit() -> None:
    # The gym enrolled in Chengguan, but the complaint is about its shop in Qilihe.
    history = green_channel(respondent=domain.respondent(operating=QILIHE, credit=GYM.credit_code))
    _settle(history)
    who = consumer_at()
    answer = odr.answer_proposal(history.state, who.ref(), False, "金额太少", domain.units())
    step(history, who, answer)
    state = history.state
    assert state.dispute is not None
    assert state.dispute.status is DisputeStatus.CONVERTED
    assert state.dispute.conversion is ConversionReason.REJECTED
    assert state.holder_unit == QILIHE == state.dispute.converted_to_unit
    assert state.last_router_unit == LANZHOU
    assert state.status is TicketStatus.ROUTED
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == {QILIHE}
    assert state.held_since_hlc == state.dispute.ended_hlc  # its own deadlines start now
    assert [s.kind.value for s in state.dispute.steps][-2:] == ["answer", "converted"]
    # The complaint is handled as any other from here.
    history.do(domain.OTHER_HANDLER, c.AcceptComplaint())
    assert history.state.track(Track.COMPLAINT).stage is Stage.MEDIATING  # type: ignore[union-attr]


def test_a_dispute_the_enterprises_county_is_competent_for_stays_there_as_a_complaint() -> None:
    history = green_channel()
    firm = enterprise_user()
    declined = odr.close_dispute(
        history.state, firm.ref(), CloseReason.DECLINED, "不同意退款", domain.units()
    )
    step(history, firm, declined)
    state = history.state
    assert state.holder_unit == CHENGGUAN
    assert state.last_router_unit == LANZHOU
    converted = declined[0]
    assert converted.basis is JurisdictionBasis.OPERATING_ADDRESS  # type: ignore[union-attr]
    assert duty_owners(state, Duty.DECIDE_ACCEPTANCE) == {CHENGGUAN}


def test_a_withdrawn_dispute_closes_the_ticket() -> None:
    history = green_channel()
    firm = enterprise_user()
    step(
        history,
        firm,
        odr.close_dispute(
            history.state, firm.ref(), CloseReason.CONSUMER_WITHDREW, "消费者撤回", domain.units()
        ),
    )
    assert history.state.dispute.status is DisputeStatus.WITHDRAWN  # type: ignore[union-attr]
    assert history.state.status is TicketStatus.CLOSED


def test_bad_input_names_the_field() -> None:
    history = green_channel()
    firm = enterprise_user().ref()
    state = history.state
    later = NOW + timedelta(hours=1)
    with pytest.raises(InvalidInput) as refused:
        odr.record_contact(state, firm, ContactMethod.PHONE, later, "约好明天", NOW)
    assert refused.value.field == "contacted_at"
    with pytest.raises(InvalidInput) as refused:
        odr.record_contact(state, firm, None, NOW, "约好明天", NOW)
    assert refused.value.field == "method"
    with pytest.raises(InvalidInput) as refused:
        odr.propose_settlement(state, firm, "   ", 100)
    assert refused.value.field == "terms"
    with pytest.raises(InvalidInput) as refused:
        odr.propose_settlement(state, firm, "退款", -1)
    assert refused.value.field == "amount_fen"
    with pytest.raises(InvalidInput) as refused:
        odr.answer_proposal(state, consumer_at().ref(), False, "", domain.units())
    assert refused.value.field == "reason"


def test_a_proposal_after_closure_is_refused() -> None:
    history = green_channel()
    _settle(history)
    step(
        history,
        consumer_at(),
        odr.answer_proposal(history.state, consumer_at().ref(), True, "", domain.units()),
    )
    with pytest.raises(StepNotAllowed, match="settled"):
        odr.propose_settlement(history.state, enterprise_user().ref(), "再退一点", 100)


def test_only_the_enterprises_county_records_the_enterprises_steps() -> None:
    history = green_channel()
    elsewhere = enterprise_user(QILIHE).ref()
    with pytest.raises(Exception, match="only 620102"):
        odr.propose_settlement(history.state, elsewhere, "退款", 100)


def test_an_overdue_dispute_is_converted_by_the_sweep() -> None:
    history = green_channel()
    sweep = domain.system(CHENGGUAN)
    step(history, sweep, odr.convert_overdue(history.state, sweep.ref(), domain.units()))
    state = history.state
    assert state.dispute is not None
    assert state.dispute.conversion is ConversionReason.NO_ANSWER_IN_TIME
    assert state.status is TicketStatus.ROUTED


def _a_whole_dispute() -> History:
    history = green_channel(respondent=domain.respondent(operating=QILIHE, credit=GYM.credit_code))
    _settle(history)
    who = consumer_at()
    step(history, who, odr.answer_proposal(history.state, who.ref(), False, "不够", domain.units()))
    history.do(domain.OTHER_HANDLER, c.AcceptComplaint())
    return history


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_delivery_order_of_a_disputes_events_gives_the_same_state(data: st.DataObject) -> None:
    history = _a_whole_dispute()
    expected = history.state
    shuffled = data.draw(st.permutations(history.events))
    repeated = data.draw(st.lists(st.sampled_from(history.events), max_size=3))
    assert fold(history.ticket_id, [*shuffled, *repeated]) == expected
    assert not expected.in_conflict


def test_the_folded_dispute_travels_in_the_ticket_view() -> None:
    from node.views.tickets import encode_state
    from proto.hotline.v1 import odr_pb2, ticket_pb2

    state = _a_whole_dispute().state
    ticket = ticket_pb2.Ticket.FromString(encode_state(state))
    assert ticket.dispute.status == odr_pb2.DISPUTE_STATUS_CONVERTED
    assert [s.kind for s in ticket.dispute.steps][1] == odr_pb2.ODR_STEP_KIND_CONTACT
    assert ticket.dispute.steps[1].method == odr_pb2.CONTACT_METHOD_PHONE


def test_the_odr_answer_is_due_ten_working_days_after_the_opening() -> None:
    from core import hlc
    from core.deadlines import DEFAULT_POLICY, HolidayTable, WorkingDayCalendar
    from core.deadlines.china_time import china_date
    from core.deadlines.duties import owed_obligations

    calendar = WorkingDayCalendar(HolidayTable.from_chinese_calendar([2026]))
    history = green_channel()
    owed = owed_obligations(history.state, DEFAULT_POLICY, calendar)
    assert [(o.duty, o.unit_code) for o in owed] == [(Duty.ODR_ANSWER, CHENGGUAN)]
    opened = history.state.dispute.opened_hlc  # type: ignore[union-attr]
    # Opened Monday 2026-03-16: ten working days later is Monday 2026-03-30.
    assert china_date(owed[0].due_ms - 1).isoformat() == "2026-03-30"
    assert owed[0].started_ms == hlc.to_millis(opened)
    _settle(history)
    who = consumer_at()
    step(history, who, odr.answer_proposal(history.state, who.ref(), True, "", domain.units()))
    owed_after = owed_obligations(history.state, DEFAULT_POLICY, calendar)
    assert Duty.ODR_ANSWER not in [o.duty for o in owed_after]


def test_a_city_may_give_its_odr_enterprises_seven_calendar_days() -> None:
    from core.deadlines import HolidayTable, WorkingDayCalendar
    from core.deadlines.china_time import china_date
    from core.deadlines.duties import owed_obligations
    from core.deadlines.policy import DEFAULT_LIMITS, TimeLimit, TimeLimitPolicy

    lanzhou_odr = TimeLimit(
        Duty.ODR_ANSWER, TicketKind.COMPLAINT, 7, calendar_days=True, unit_code=LANZHOU
    )
    policy = TimeLimitPolicy("2026-odr-lanzhou", 0, (*DEFAULT_LIMITS, lanzhou_odr))
    calendar = WorkingDayCalendar(HolidayTable.from_chinese_calendar([2026]))
    (owed,) = owed_obligations(green_channel().state, policy, calendar)
    # Opened Monday 2026-03-16: seven calendar days later is Monday 2026-03-23, weekend counted.
    assert china_date(owed.due_ms - 1).isoformat() == "2026-03-23"
    elsewhere = green_channel(_roster(unit="620502")).state  # enrolled in Tianshui's Qinzhou
    (general,) = owed_obligations(elsewhere, policy, calendar)
    assert china_date(general.due_ms - 1).isoformat() == "2026-03-30"


def test_a_unit_row_needs_the_general_row_and_comes_once() -> None:
    from core.deadlines.policy import TimeLimit, TimeLimitPolicy

    local = TimeLimit(Duty.ODR_ANSWER, TicketKind.COMPLAINT, 7, unit_code=LANZHOU)
    with pytest.raises(InvalidInput, match="needs a general row"):
        TimeLimitPolicy("v", 0, (local,))
    general = TimeLimit(Duty.ODR_ANSWER, TicketKind.COMPLAINT, 10)
    with pytest.raises(InvalidInput, match="given twice"):
        TimeLimitPolicy("v", 0, (general, local, local))
    with pytest.raises(InvalidInput) as refused:
        TimeLimit(Duty.ODR_ANSWER, TicketKind.COMPLAINT, 7, unit_code="lanzhou")
    assert refused.value.field == "limit.unit_code"


def test_a_proposal_after_the_limit_is_not_counted_as_answered_in_time() -> None:
    from core.hlc import to_millis
    from core.odr.dispute_performance import record_of
    from core.odr.standing import figures_of

    history = green_channel()
    _settle(history)  # proposed 30 minutes after the opening
    dispute = history.state.dispute
    assert dispute is not None
    opened = to_millis(dispute.opened_hlc)
    week = 7 * 86_400_000
    code = dispute.credit_code
    on_time = figures_of(
        code, [record_of("t", dispute, opened + week)], opened - week, opened + week
    )
    late = figures_of(
        code, [record_of("t", dispute, opened + 60_000)], opened - week, opened + week
    )
    assert (on_time.received, on_time.answered_in_time) == (1, 1)
    assert (late.received, late.answered_in_time) == (1, 0)
    outside = figures_of(code, [record_of("t", dispute, opened + week)], opened + 1, opened + week)
    assert outside.received == 0


def test_an_acceptance_and_a_late_conversion_made_offline_converge_with_one_conflict() -> None:
    """The consumer accepts at the province while the county, cut off, converts the dispute as
    overdue: every node folds the province's acceptance first (the higher level) and keeps the
    county's conversion as a conflict for a supervisor, whatever order the events arrive in."""
    history = green_channel()
    _settle(history)
    base = history.state
    who, sweep = consumer_at(), domain.system(CHENGGUAN)
    (accepted,) = odr.answer_proposal(base, who.ref(), True, "", domain.units())
    (converted,) = odr.convert_overdue(base, sweep.ref(), domain.units())
    both = [history.envelope(sweep, converted), history.envelope(who, accepted)]
    orders = [
        [*history.events, *both],
        [*history.events, *reversed(both)],
        [*reversed(both), *history.events],
    ]
    states = [fold(history.ticket_id, events) for events in orders]
    assert states[0] == states[1] == states[2]
    state = states[0]
    assert state.dispute is not None and state.dispute.status is DisputeStatus.SETTLED
    assert [c.event_type for c in state.conflicts] == ["OdrDisputeConverted"]


def test_a_consumer_rates_a_dispute_settled_in_another_county_where_they_filed_it() -> None:
    """Filed online at Qilihe against a Chengguan enterprise: the ticket is held by Chengguan,
    and the consumer's rating is taken where they signed in, Qilihe's web channel (回访评价)."""
    qilihe = domain.units().get("620103")
    assert qilihe is not None
    web = web_channel(qilihe)
    history = History.registered(web, domain.draft())
    registration = history.state.registration
    assert registration is not None
    history.record(web, odr.open_dispute(registration, _roster()))
    _settle(history)
    consumer = consumer_at("620103")
    step(
        history,
        consumer,
        odr.answer_proposal(history.state, consumer.ref(), True, "", domain.units()),
    )
    assert history.state.status is TicketStatus.CLOSED
    assert history.state.holder_unit == CHENGGUAN
    state = history.do(web, c.RecordCallback(Satisfaction.SATISFIED, "网上评价"))
    assert [cb.satisfaction for cb in state.callbacks] == [Satisfaction.SATISFIED]
    with pytest.raises(StepNotAllowed):  # another county that neither holds nor registered it
        history.do(domain.OTHER_HANDLER, c.RecordCallback(Satisfaction.SATISFIED))
