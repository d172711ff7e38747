"""Not accepting a complaint (不予受理) and ending mediation (调解终结), DOMAIN.md §5."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotPermitted, StepNotAllowed
from core.ticket import commands as c
from core.ticket import events as e
from core.ticket.state import Stage, TicketStatus, TrackState
from core.ticket.vocabulary import (
    MediationOutcome,
    RefusalGround,
    TerminationReason,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import HANDLER, OTHER_HANDLER, History


def _complaint(h: History) -> TrackState:
    ts = h.state.track(Track.COMPLAINT)
    assert ts is not None
    return ts


@pytest.mark.parametrize("ground", list(RefusalGround), ids=lambda g: g.value)
def test_refused_complaint_names_its_legal_ground(ground: RefusalGround) -> None:
    h = domain.routed()
    notice = f"不予受理告知书：{ground.value}"
    h.do(HANDLER, c.RefuseComplaint(ground, notice))
    refused = h.events[-1].event
    assert refused == e.ComplaintRefused(ground, notice)
    complaint = _complaint(h)
    assert complaint.stage is Stage.REFUSED
    assert complaint.refusal_ground is ground
    assert complaint.refusal_notice == notice
    assert h.state.status is TicketStatus.CLOSED


@pytest.mark.parametrize("notice", ["", "  \n"])
def test_refusal_needs_a_notice_to_the_consumer(notice: str) -> None:
    h = domain.routed()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.RefuseComplaint(RefusalGround.MISSING_FACTS, notice))
    assert raised.value.field == "notice"
    assert _complaint(h).stage is Stage.AWAITING_DECISION


def test_an_accepted_complaint_cannot_be_refused_afterwards() -> None:
    h = domain.accepted()
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.RefuseComplaint(RefusalGround.NOT_COMPETENT, "不属本局管辖"))


def test_a_refusal_ground_found_after_acceptance_terminates_mediation() -> None:
    h = domain.accepted()
    h.do(
        HANDLER,
        c.EndMediation(
            MediationOutcome.TERMINATED,
            termination_reason=TerminationReason.REFUSAL_GROUND_FOUND,
        ),
    )
    assert _complaint(h).termination_reason is TerminationReason.REFUSAL_GROUND_FOUND


def test_a_complaint_is_accepted_once() -> None:
    h = domain.accepted()
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.AcceptComplaint())


def test_a_refused_complaint_is_not_mediated() -> None:
    h = domain.routed()
    h.do(HANDLER, c.RefuseComplaint(RefusalGround.NOT_CONSUMER_DISPUTE, "非生活消费"))
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.EndMediation(MediationOutcome.SETTLED))


def test_another_county_cannot_refuse_a_complaint_it_does_not_hold() -> None:
    h = domain.routed()
    with pytest.raises(NotPermitted):
        h.do(OTHER_HANDLER, c.RefuseComplaint(RefusalGround.NOT_COMPETENT, "不属本局管辖"))
    assert _complaint(h).stage is Stage.AWAITING_DECISION


@pytest.mark.parametrize(
    "end",
    [
        c.EndMediation(MediationOutcome.AGREEMENT, agreement="退款2000元", amount_recovered_fen=1),
        c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=123_456),
        c.EndMediation(MediationOutcome.WITHDRAWN),
        c.EndMediation(
            MediationOutcome.TERMINATED,
            termination_reason=TerminationReason.NO_AGREEMENT_POSSIBLE,
        ),
    ],
    ids=lambda end: end.outcome.value,
)
def test_every_mediation_outcome_is_recorded(end: c.EndMediation) -> None:
    h = domain.accepted()
    h.do(HANDLER, end)
    event = h.events[-1].event
    assert isinstance(event, e.MediationEnded)
    assert event.outcome is end.outcome
    assert event.agreement == end.agreement
    complaint = _complaint(h)
    assert complaint.stage is Stage.MEDIATION_ENDED
    assert complaint.mediation_outcome is end.outcome
    assert complaint.termination_reason is end.termination_reason
    assert complaint.amount_recovered_fen == end.amount_recovered_fen


@pytest.mark.parametrize("reason", list(TerminationReason), ids=lambda r: r.value)
def test_termination_records_each_reason(reason: TerminationReason) -> None:
    h = domain.accepted()
    h.do(HANDLER, c.EndMediation(MediationOutcome.TERMINATED, termination_reason=reason))
    assert _complaint(h).termination_reason is reason


def test_termination_without_a_reason_is_refused() -> None:
    h = domain.accepted()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.EndMediation(MediationOutcome.TERMINATED))
    assert raised.value.field == "termination_reason"
    assert _complaint(h).stage is Stage.MEDIATING


@pytest.mark.parametrize(
    "outcome",
    [MediationOutcome.AGREEMENT, MediationOutcome.SETTLED, MediationOutcome.WITHDRAWN],
    ids=lambda o: o.value,
)
def test_only_a_termination_carries_a_termination_reason(outcome: MediationOutcome) -> None:
    h = domain.accepted()
    with pytest.raises(InvalidInput) as raised:
        h.do(
            HANDLER,
            c.EndMediation(
                outcome,
                termination_reason=TerminationReason.TIME_LIMIT_REACHED,
                agreement="协议",
            ),
        )
    assert raised.value.field == "termination_reason"
    assert _complaint(h).stage is Stage.MEDIATING


@pytest.mark.parametrize("agreement", ["", "   "])
def test_an_agreement_states_its_terms(agreement: str) -> None:
    h = domain.accepted()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.EndMediation(MediationOutcome.AGREEMENT, agreement=agreement))
    assert raised.value.field == "agreement"


def test_money_recovered_cannot_be_negative() -> None:
    h = domain.accepted()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=-1))
    assert raised.value.field == "amount_recovered_fen"


def test_mediation_does_not_end_before_acceptance() -> None:
    h = domain.routed()
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.EndMediation(MediationOutcome.SETTLED))


def test_mediation_ends_once() -> None:
    h = domain.mediation_ended()
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.EndMediation(MediationOutcome.WITHDRAWN))
    assert _complaint(h).mediation_outcome is MediationOutcome.SETTLED


def test_mediation_can_end_while_paused_for_testing() -> None:
    h = domain.accepted()
    h.do(HANDLER, c.PauseMediation("送检"))
    h.do(
        HANDLER,
        c.EndMediation(
            MediationOutcome.TERMINATED,
            termination_reason=TerminationReason.NO_AGREEMENT_ON_TESTING,
        ),
    )
    complaint = _complaint(h)
    assert complaint.stage is Stage.MEDIATION_ENDED
    assert complaint.paused_since_hlc == 0


def test_pausing_needs_a_reason() -> None:
    h = domain.accepted()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.PauseMediation(" "))
    assert raised.value.field == "reason"
