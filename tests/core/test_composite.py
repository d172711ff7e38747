"""A composite ticket (投诉举报复合件): two procedures, each on its own track (DOMAIN.md §3, §5)."""

from __future__ import annotations

import pytest

from core.errors import StepNotAllowed
from core.ticket import commands as c
from core.ticket.state import Stage, TicketStatus
from core.ticket.vocabulary import (
    Finding,
    MediationOutcome,
    RefusalGround,
    Satisfaction,
    TicketKind,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HEAD, HUB, History


def _composite() -> History:
    return domain.routed(domain.draft(TicketKind.COMPOSITE, incident_region="620102"))


def _stage(h: History, track: Track) -> Stage:
    ts = h.state.track(track)
    assert ts is not None
    return ts.stage


def _close_complaint(h: History) -> None:
    h.do(HANDLER, c.AcceptComplaint())
    h.do(HANDLER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=50_000))
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "和解，退款500元"))
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT))


def _close_report(h: History) -> None:
    h.do(HANDLER, c.VerifyReport(Finding.SUBSTANTIATED, "预付卡经营未备案"))
    h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕31号"))
    h.do(HANDLER, c.SubmitResult(Track.REPORT, "已立案"))
    h.do(HEAD, c.ApproveResult(Track.REPORT))


def test_composite_ticket_follows_a_complaint_and_a_report_track() -> None:
    state = _composite().state
    assert sorted(t.track.value for t in state.tracks) == ["complaint", "report"]
    assert all(t.stage is Stage.AWAITING_DECISION for t in state.tracks)
    assert state.status is TicketStatus.ROUTED


def test_ending_mediation_does_not_end_verification() -> None:
    h = _composite()
    h.do(HANDLER, c.AcceptComplaint())
    h.do(HANDLER, c.EndMediation(MediationOutcome.AGREEMENT, agreement="退款并赔偿"))
    assert _stage(h, Track.COMPLAINT) is Stage.MEDIATION_ENDED
    assert _stage(h, Track.REPORT) is Stage.AWAITING_DECISION
    state = h.do(HANDLER, c.VerifyReport(Finding.SUBSTANTIATED, "经营者虚假宣传"))
    assert state.track(Track.REPORT).finding is Finding.SUBSTANTIATED  # type: ignore[union-attr]


def test_report_can_be_verified_before_the_complaint_is_accepted() -> None:
    h = _composite()
    h.do(HANDLER, c.VerifyReport(Finding.SUBSTANTIATED, "现场检查"))
    assert _stage(h, Track.REPORT) is Stage.VERIFIED
    assert _stage(h, Track.COMPLAINT) is Stage.AWAITING_DECISION
    assert h.state.status is TicketStatus.IN_HANDLING


def test_closing_the_complaint_part_leaves_the_ticket_open() -> None:
    h = _composite()
    _close_complaint(h)
    state = h.state
    assert _stage(h, Track.COMPLAINT) is Stage.CLOSED
    assert _stage(h, Track.REPORT) is Stage.AWAITING_DECISION
    assert state.status is TicketStatus.IN_HANDLING
    assert not state.awaiting_callback
    with pytest.raises(StepNotAllowed):
        h.do(HUB, c.RecordCallback(Satisfaction.SATISFIED))


@pytest.mark.parametrize("complaint_first", [True, False], ids=["complaint-first", "report-first"])
def test_composite_closes_only_when_both_tracks_are_closed(complaint_first: bool) -> None:
    h = _composite()
    first, second = (_close_complaint, _close_report)[:: 1 if complaint_first else -1]
    first(h)
    assert h.state.status is TicketStatus.IN_HANDLING
    second(h)
    state = h.state
    assert state.status is TicketStatus.CLOSED
    assert state.awaiting_callback
    assert state.closed_hlc == h.events[-1].meta.hlc


def test_refusing_the_complaint_part_does_not_refuse_the_report() -> None:
    h = _composite()
    h.do(HANDLER, c.RefuseComplaint(RefusalGround.HANDLED_ELSEWHERE, "已由法院受理"))
    assert _stage(h, Track.COMPLAINT) is Stage.REFUSED
    assert h.state.status is TicketStatus.IN_HANDLING
    _close_report(h)
    assert h.state.status is TicketStatus.CLOSED  # type: ignore[comparison-overlap]


def test_approving_one_track_does_not_approve_the_other() -> None:
    h = _composite()
    h.do(HANDLER, c.AcceptComplaint())
    h.do(HANDLER, c.EndMediation(MediationOutcome.WITHDRAWN))
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "消费者撤回投诉"))
    with pytest.raises(StepNotAllowed):
        h.do(HEAD, c.ApproveResult(Track.REPORT))
    assert _stage(h, Track.COMPLAINT) is Stage.RESULT_SUBMITTED


def test_withdrawing_the_complaint_does_not_replace_the_penalty() -> None:
    # 杜绝以调代罚: mediation outcome on the complaint leaves the report's case untouched.
    h = _composite()
    h.do(HANDLER, c.AcceptComplaint())
    h.do(HANDLER, c.VerifyReport(Finding.SUBSTANTIATED, "无照经营"))
    h.do(HANDLER, c.EndMediation(MediationOutcome.WITHDRAWN))
    state = h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕32号"))
    assert state.track(Track.REPORT).case_number == "兰城市监立〔2026〕32号"  # type: ignore[union-attr]


def test_dissatisfied_callback_reopens_both_parts() -> None:
    h = _composite()
    _close_complaint(h)
    _close_report(h)
    state = h.do(HUB, c.RecordCallback(Satisfaction.DISSATISFIED))
    assert state.status is TicketStatus.IN_HANDLING
    assert _stage(h, Track.COMPLAINT) is Stage.MEDIATING
    assert _stage(h, Track.REPORT) is Stage.AWAITING_DECISION
