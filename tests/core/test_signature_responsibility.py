"""Signature responsibility (签字负责制): a signed result, approved by the unit head, closes.

DOMAIN.md §5: a result names the handling unit and the handler and is approved by the unit head
before closure; a result without them is returned.
"""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotPermitted, StepNotAllowed
from core.officers import Officer, Role
from core.ticket import commands as c
from core.ticket import events as e
from core.ticket.state import Stage, TicketStatus, TrackState
from core.ticket.vocabulary import MediationOutcome, Satisfaction, Track
from tests.helpers import domain
from tests.helpers.domain import (
    HANDLER,
    HANDLER_AND_HEAD,
    HEAD,
    HUB,
    HUB_HEAD,
    OTHER_HEAD,
    STATION_OFFICER,
    History,
)


def _complaint(h: History) -> TrackState:
    ts = h.state.track(Track.COMPLAINT)
    assert ts is not None
    return ts


def test_result_without_approval_does_not_close() -> None:
    h = domain.result_submitted()
    state = h.state
    assert state.status is TicketStatus.IN_HANDLING
    assert _complaint(h).stage is Stage.RESULT_SUBMITTED
    assert not state.awaiting_callback
    assert state.closed_hlc == 0
    with pytest.raises(StepNotAllowed):
        h.do(HUB, c.RecordCallback(Satisfaction.SATISFIED))


def test_result_names_the_handling_unit_and_the_handler() -> None:
    h = domain.result_submitted()
    result = _complaint(h).result
    assert result is not None
    assert result.handling_unit == "620102"
    assert (result.handler_id, result.handler_name) == (HANDLER.officer_id, HANDLER.name)
    assert result.summary == "双方协商一致，商家退款"
    assert result.submitted_hlc == h.events[-1].meta.hlc
    assert result.approver_id == ""


def test_approval_by_the_unit_head_closes_and_names_the_approver() -> None:
    h = domain.result_submitted()
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT, "同意"))
    result = _complaint(h).result
    assert h.state.status is TicketStatus.CLOSED
    assert result is not None
    assert (result.approver_id, result.approver_name) == (HEAD.officer_id, HEAD.name)
    assert result.handler_id == HANDLER.officer_id


def test_the_handler_cannot_approve_their_own_result() -> None:
    h = domain.mediation_ended()
    h.do(HANDLER_AND_HEAD, c.SubmitResult(Track.COMPLAINT, "已调解"))
    with pytest.raises(StepNotAllowed) as raised:
        h.do(HANDLER_AND_HEAD, c.ApproveResult(Track.COMPLAINT))
    assert "own result" in raised.value.reason
    assert _complaint(h).stage is Stage.RESULT_SUBMITTED
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    assert h.state.status is TicketStatus.CLOSED


@pytest.mark.parametrize(
    "officer", [HANDLER, STATION_OFFICER, HUB], ids=lambda o: sorted(r.value for r in o.roles)[0]
)
def test_approval_needs_the_unit_head_role(officer: Officer) -> None:
    h = domain.result_submitted()
    with pytest.raises(NotPermitted):
        h.do(officer, c.ApproveResult(Track.COMPLAINT))
    assert _complaint(h).stage is Stage.RESULT_SUBMITTED


@pytest.mark.parametrize("head", [OTHER_HEAD, HUB_HEAD], ids=["other-county", "province"])
def test_only_the_handling_units_head_approves(head: Officer) -> None:
    h = domain.result_submitted()
    with pytest.raises(NotPermitted):
        h.do(head, c.ApproveResult(Track.COMPLAINT))
    assert _complaint(h).stage is Stage.RESULT_SUBMITTED


def test_station_result_is_approved_by_the_county_head() -> None:
    h = domain.accepted()
    h.do(HANDLER, c.AssignToStation("620102001"))
    h.do(STATION_OFFICER, c.EndMediation(MediationOutcome.WITHDRAWN))
    h.do(STATION_OFFICER, c.SubmitResult(Track.COMPLAINT, "消费者撤诉"))
    station_head = domain.officer("620102001-02", "所长", "620102001", Role.UNIT_HEAD)
    with pytest.raises(NotPermitted):
        h.do(station_head, c.ApproveResult(Track.COMPLAINT))
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    assert h.state.status is TicketStatus.CLOSED


def test_nothing_to_approve_before_a_result_is_submitted() -> None:
    h = domain.mediation_ended()
    with pytest.raises(StepNotAllowed):
        h.do(HEAD, c.ApproveResult(Track.COMPLAINT))


def test_a_result_needs_a_summary() -> None:
    h = domain.mediation_ended()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, ""))
    assert raised.value.field == "summary"


def test_a_result_cannot_be_submitted_twice_while_awaiting_approval() -> None:
    h = domain.result_submitted()
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "补充说明"))


def test_a_result_cannot_be_submitted_while_mediation_runs() -> None:
    h = domain.accepted()
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "尚在调解"))


def test_a_rejected_result_goes_back_to_the_handler() -> None:
    h = domain.result_submitted()
    h.do(HEAD, c.RejectResult(Track.COMPLAINT, "缺少调解笔录"))
    complaint = _complaint(h)
    assert complaint.stage is Stage.MEDIATION_ENDED
    assert complaint.result is None
    assert h.state.status is TicketStatus.IN_HANDLING
    with pytest.raises(StepNotAllowed):
        h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "补充调解笔录后重新提交"))
    state = h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    assert state.status is TicketStatus.CLOSED
    assert _complaint(h).result.summary == "补充调解笔录后重新提交"  # type: ignore[union-attr]


def test_rejection_needs_a_reason_and_the_unit_head_role() -> None:
    h = domain.result_submitted()
    with pytest.raises(InvalidInput) as raised:
        h.do(HEAD, c.RejectResult(Track.COMPLAINT, " "))
    assert raised.value.field == "reason"
    with pytest.raises(NotPermitted):
        h.do(HANDLER, c.RejectResult(Track.COMPLAINT, "自己退回"))
    assert _complaint(h).stage is Stage.RESULT_SUBMITTED


def test_a_result_that_does_not_name_its_handler_cannot_be_approved() -> None:
    # Such an event can only arrive by replication; it is a fact, but approval must refuse it.
    h = domain.mediation_ended()
    h.record(HANDLER, e.ResultSubmitted(Track.COMPLAINT, "620102", "", "", "已处理"))
    assert _complaint(h).stage is Stage.RESULT_SUBMITTED
    with pytest.raises(StepNotAllowed) as raised:
        h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    assert "handler" in raised.value.reason
    assert h.state.status is TicketStatus.IN_HANDLING


def test_a_replicated_approval_of_an_unsigned_result_is_kept_as_a_conflict() -> None:
    h = domain.mediation_ended()
    h.record(HANDLER, e.ResultSubmitted(Track.COMPLAINT, "620102", "", "", "已处理"))
    h.record(HEAD, e.ResultApproved(Track.COMPLAINT))
    state = h.state
    assert state.status is TicketStatus.IN_HANDLING
    assert [x.event_type for x in state.conflicts] == ["ResultApproved"]
    assert state.conflicts[0].event_id == h.events[-1].meta.event_id


def test_a_replicated_result_in_another_units_name_is_kept_as_a_conflict() -> None:
    h = domain.mediation_ended()
    h.record(HANDLER, e.ResultSubmitted(Track.COMPLAINT, "620103", HANDLER.officer_id, "李娜", "x"))
    state = h.state
    assert _complaint(h).stage is Stage.MEDIATION_ENDED
    assert [x.event_type for x in state.conflicts] == ["ResultSubmitted"]
