"""A complaint from the call to the callback (DOMAIN.md §3-§5)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.errors import StepNotAllowed
from core.ticket import commands as c
from core.ticket import events as e
from core.ticket.state import Stage, TicketStatus
from core.ticket.vocabulary import (
    JurisdictionBasis,
    MediationOutcome,
    RefusalGround,
    Satisfaction,
    TerminationReason,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HEAD, HUB, STATION_OFFICER, History

ENDINGS = [
    c.EndMediation(MediationOutcome.AGREEMENT, agreement="商家退款2000元", amount_recovered_fen=1),
    c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=200_000),
    c.EndMediation(MediationOutcome.WITHDRAWN),
    c.EndMediation(
        MediationOutcome.TERMINATED,
        termination_reason=TerminationReason.PARTY_ABSENT_OR_REFUSES,
    ),
]


def test_registered_complaint_waits_at_the_hub_with_one_complaint_track(
    new_ticket: Callable[..., History],
) -> None:
    state = new_ticket().state
    assert state.status is TicketStatus.REGISTERED
    assert state.holder_unit == "620000"
    assert [t.track for t in state.tracks] == [Track.COMPLAINT]
    assert state.track(Track.COMPLAINT).stage is Stage.AWAITING_DECISION  # type: ignore[union-attr]
    assert state.registration is not None
    assert state.registration.received_at == domain.NOW
    assert state.registration.registering_unit == "620000"
    assert state.dispatch_count == 0


def test_routing_by_jurisdiction_sends_the_complaint_to_the_county_where_it_operates(
    new_ticket: Callable[..., History],
) -> None:
    history = new_ticket()
    state = history.do(HUB, c.RouteTicket())
    assert state.status is TicketStatus.ROUTED
    assert state.holder_unit == "620102"
    assert state.last_router_unit == "620000"
    assert state.dispatch_count == 1
    assert not state.repeat_dispatched
    routed = history.events[-1].event
    assert routed.basis is JurisdictionBasis.OPERATING_ADDRESS  # type: ignore[union-attr]


def test_accepting_a_complaint_starts_mediation(routed_complaint: History) -> None:
    state = routed_complaint.do(HANDLER, c.AcceptComplaint())
    complaint = state.track(Track.COMPLAINT)
    assert state.status is TicketStatus.IN_HANDLING
    assert complaint is not None and complaint.stage is Stage.MEDIATING
    assert complaint.accepted_hlc == routed_complaint.events[-1].meta.hlc


def test_county_assigns_a_station_that_mediates_and_signs_in_the_countys_name(
    accepted_complaint: History,
) -> None:
    h = accepted_complaint
    state = h.do(HANDLER, c.AssignToStation("620102001", "张掖路片区"))
    assert state.assigned_station == "620102001"
    assert state.holder_unit == "620102"
    h.do(STATION_OFFICER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=300_000))
    state = h.do(STATION_OFFICER, c.SubmitResult(Track.COMPLAINT, "现场调解，商家退款"))
    result = state.track(Track.COMPLAINT).result  # type: ignore[union-attr]
    assert result is not None
    assert result.handling_unit == "620102"
    assert result.handler_id == STATION_OFFICER.officer_id
    assert result.handler_name == STATION_OFFICER.name


def test_pause_stops_the_mediation_clock_and_resume_counts_the_pause(
    accepted_complaint: History,
) -> None:
    h = accepted_complaint
    state = h.do(HANDLER, c.PauseMediation("送检：质量鉴定"))
    assert state.track(Track.COMPLAINT).stage is Stage.MEDIATION_PAUSED  # type: ignore[union-attr]
    h.advance(days=3)
    state = h.do(HANDLER, c.ResumeMediation("鉴定报告已出"))
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None
    assert complaint.stage is Stage.MEDIATING
    # Wall-clock milliseconds; the logical counter of the clock may cost at most 1 ms.
    assert 3 * 86_400_000 - 1 <= complaint.paused_ms <= 3 * 86_400_000
    assert complaint.paused_since_hlc == 0


def test_pauses_add_up(accepted_complaint: History) -> None:
    h = accepted_complaint
    for days in (1, 2):
        h.do(HANDLER, c.PauseMediation("检测"))
        h.advance(days=days)
        h.do(HANDLER, c.ResumeMediation())
        h.advance(days=5)
    paused_ms = h.state.track(Track.COMPLAINT).paused_ms  # type: ignore[union-attr]
    assert 3 * 86_400_000 - 2 <= paused_ms <= 3 * 86_400_000


def test_mediation_ended_while_paused_still_excludes_the_pause(
    accepted_complaint: History,
) -> None:
    h = accepted_complaint
    h.do(HANDLER, c.PauseMediation("送检"))
    h.advance(days=4)
    state = h.do(
        HANDLER,
        c.EndMediation(
            MediationOutcome.TERMINATED,
            termination_reason=TerminationReason.NO_AGREEMENT_ON_TESTING,
        ),
    )
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None and complaint.stage is Stage.MEDIATION_ENDED
    assert 4 * 86_400_000 - 1 <= complaint.paused_ms <= 4 * 86_400_000


def test_pausing_twice_is_not_allowed(accepted_complaint: History) -> None:
    accepted_complaint.do(HANDLER, c.PauseMediation("送检"))
    with pytest.raises(StepNotAllowed):
        accepted_complaint.do(HANDLER, c.PauseMediation("再次送检"))


def test_resuming_a_running_mediation_is_not_allowed(accepted_complaint: History) -> None:
    with pytest.raises(StepNotAllowed):
        accepted_complaint.do(HANDLER, c.ResumeMediation())


@pytest.mark.parametrize("end", ENDINGS, ids=lambda e: e.outcome.value)
def test_every_mediation_outcome_leads_to_an_approved_closure(end: c.EndMediation) -> None:
    h = domain.mediation_ended(end)
    complaint = h.state.track(Track.COMPLAINT)
    assert complaint is not None
    assert complaint.stage is Stage.MEDIATION_ENDED
    assert complaint.mediation_outcome is end.outcome
    assert complaint.amount_recovered_fen == end.amount_recovered_fen
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "办理完毕"))
    assert h.state.status is TicketStatus.IN_HANDLING
    state = h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    assert state.status is TicketStatus.CLOSED
    assert state.awaiting_callback
    assert state.closed_hlc == h.events[-1].meta.hlc
    result = state.track(Track.COMPLAINT).result  # type: ignore[union-attr]
    assert result is not None
    assert (result.approver_id, result.approver_name) == (HEAD.officer_id, HEAD.name)


@pytest.mark.parametrize(
    "satisfaction",
    [Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED, Satisfaction.NEUTRAL],
)
def test_callback_that_is_not_dissatisfied_leaves_the_ticket_closed(
    satisfaction: Satisfaction,
) -> None:
    h = domain.closed_complaint()
    state = h.do(HUB, c.RecordCallback(satisfaction, "回访"))
    assert state.status is TicketStatus.CLOSED
    assert not state.awaiting_callback
    assert state.reopen_count == 0
    assert [(cb.satisfaction, cb.officer_id) for cb in state.callbacks] == [
        (satisfaction, HUB.officer_id)
    ]


def test_a_closure_has_only_one_callback(closed_complaint: History) -> None:
    closed_complaint.do(HUB, c.RecordCallback(Satisfaction.SATISFIED))
    with pytest.raises(StepNotAllowed):
        closed_complaint.do(HUB, c.RecordCallback(Satisfaction.VERY_SATISFIED))


def test_callback_before_closure_is_not_allowed(accepted_complaint: History) -> None:
    with pytest.raises(StepNotAllowed):
        accepted_complaint.do(HUB, c.RecordCallback(Satisfaction.SATISFIED))


def test_dissatisfied_callback_sends_the_ticket_back_for_rehandling(
    closed_complaint: History,
) -> None:
    state = closed_complaint.do(HUB, c.RecordCallback(Satisfaction.DISSATISFIED, "未退款"))
    assert state.status is TicketStatus.IN_HANDLING
    assert state.reopen_count == 1
    assert state.holder_unit == "620102"
    assert state.closed_hlc == 0
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None
    assert complaint.stage is Stage.MEDIATING
    assert complaint.result is None
    assert [cb.satisfaction for cb in state.callbacks] == [Satisfaction.DISSATISFIED]
    assert not state.conflicts


def test_rehandled_ticket_closes_again_and_gets_a_second_callback(
    closed_complaint: History,
) -> None:
    h = closed_complaint
    h.do(HUB, c.RecordCallback(Satisfaction.DISSATISFIED, "未退款"))
    h.do(HANDLER, c.EndMediation(MediationOutcome.AGREEMENT, agreement="全额退款"))
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "重新调解，达成协议"))
    state = h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    assert state.status is TicketStatus.CLOSED
    assert state.awaiting_callback
    state = h.do(HUB, c.RecordCallback(Satisfaction.SATISFIED, "二次回访"))
    assert [cb.satisfaction for cb in state.callbacks] == [
        Satisfaction.DISSATISFIED,
        Satisfaction.SATISFIED,
    ]
    assert state.status is TicketStatus.CLOSED
    assert state.reopen_count == 1
    assert state.track(Track.COMPLAINT).mediation_outcome is MediationOutcome.AGREEMENT  # type: ignore[union-attr]


def test_refused_complaint_is_closed_and_awaits_its_callback(routed_complaint: History) -> None:
    state = routed_complaint.do(
        HANDLER, c.RefuseComplaint(RefusalGround.TIME_BARRED, "知道权益受损已超过三年")
    )
    assert state.status is TicketStatus.CLOSED
    assert state.awaiting_callback
    assert state.track(Track.COMPLAINT).stage is Stage.REFUSED  # type: ignore[union-attr]


def test_a_closed_ticket_cannot_be_routed_again(closed_complaint: History) -> None:
    with pytest.raises(StepNotAllowed):
        closed_complaint.do(HUB, c.RouteTicket(to_unit="620103"))


def test_a_valid_history_has_no_conflicts_and_counts_its_events(
    closed_complaint: History,
) -> None:
    state = closed_complaint.state
    assert state.conflicts == ()
    assert not state.in_conflict
    assert state.version == len(closed_complaint.events)
    assert state.last_hlc == max(e.meta.hlc for e in closed_complaint.events)


def test_a_reopening_without_a_dissatisfied_callback_is_kept_as_a_conflict(
    closed_complaint: History,
) -> None:
    h = closed_complaint
    h.record(HUB, e.CallbackRecorded(Satisfaction.SATISFIED), e.TicketReopened("重办"))
    state = h.state
    assert state.status is TicketStatus.CLOSED
    assert state.reopen_count == 0
    assert [x.event_type for x in state.conflicts] == ["TicketReopened"]
