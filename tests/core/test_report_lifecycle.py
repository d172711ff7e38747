"""A report (举报): verification, the case decision and the signed result (DOMAIN.md §5)."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotPermitted, StepNotAllowed
from core.officers import Role
from core.ticket import commands as c
from core.ticket.state import Stage, TicketStatus
from core.ticket.vocabulary import Consumer, Finding, JurisdictionBasis, TicketKind, Track
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HEAD, HUB, STATION_OFFICER, History


def _report(**changes: object) -> History:
    return domain.routed(domain.draft(TicketKind.REPORT, **changes))


def test_report_goes_to_the_county_where_the_conduct_happened() -> None:
    h = _report(incident_region="620103")
    state = h.state
    assert state.holder_unit == "620103"
    assert h.events[-1].event.basis is JurisdictionBasis.CONDUCT_LOCATION  # type: ignore[union-attr]
    assert [t.track for t in state.tracks] == [Track.REPORT]


def test_report_without_a_conduct_location_goes_where_the_business_operates() -> None:
    h = _report()
    assert h.state.holder_unit == "620102"
    assert h.events[-1].event.basis is JurisdictionBasis.OPERATING_ADDRESS  # type: ignore[union-attr]


def test_a_reporter_need_not_leave_a_phone_number() -> None:
    h = _report(consumer=Consumer("", ""), incident_region="620102")
    assert h.state.status is TicketStatus.ROUTED


def test_substantiated_report_is_verified_with_its_evidence() -> None:
    h = domain.verified_report(Finding.SUBSTANTIATED, "抽检不合格报告")
    report = h.state.track(Track.REPORT)
    assert report is not None
    assert report.stage is Stage.VERIFIED
    assert report.finding is Finding.SUBSTANTIATED
    assert report.evidence == "抽检不合格报告"
    assert h.state.status is TicketStatus.IN_HANDLING


@pytest.mark.parametrize("evidence", ["", "   "])
def test_not_substantiated_requires_evidence(evidence: str) -> None:
    h = _report(incident_region="620102")
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.VerifyReport(Finding.NOT_SUBSTANTIATED, evidence))
    assert raised.value.field == "evidence"
    assert h.state.track(Track.REPORT).stage is Stage.AWAITING_DECISION  # type: ignore[union-attr]


def test_not_substantiated_with_evidence_is_recorded() -> None:
    h = domain.verified_report(Finding.NOT_SUBSTANTIATED, "现场检查未发现违法行为，笔录附后")
    report = h.state.track(Track.REPORT)
    assert report is not None
    assert report.finding is Finding.NOT_SUBSTANTIATED
    assert report.evidence == "现场检查未发现违法行为，笔录附后"


def test_substantiated_report_opens_an_enforcement_case() -> None:
    h = domain.verified_report()
    state = h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕15号", "诉转案"))
    report = state.track(Track.REPORT)
    assert report is not None
    assert report.case_number == "兰城市监立〔2026〕15号"
    assert report.stage is Stage.VERIFIED


def test_a_case_cannot_be_opened_on_a_not_substantiated_report() -> None:
    h = domain.verified_report(Finding.NOT_SUBSTANTIATED, "未发现违法行为")
    with pytest.raises(StepNotAllowed) as raised:
        h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕16号"))
    assert "substantiated" in raised.value.reason
    assert h.state.track(Track.REPORT).case_number == ""  # type: ignore[union-attr]


def test_a_case_cannot_be_opened_before_verification() -> None:
    h = _report(incident_region="620102")
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕17号"))


def test_a_case_is_opened_once() -> None:
    h = domain.verified_report()
    h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕18号"))
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕19号"))
    assert h.state.track(Track.REPORT).case_number == "兰城市监立〔2026〕18号"  # type: ignore[union-attr]


def test_a_case_needs_a_case_number() -> None:
    h = domain.verified_report()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.OpenCase("  "))
    assert raised.value.field == "case_number"


def test_a_station_officer_verifies_but_does_not_open_cases() -> None:
    h = _report(incident_region="620102")
    h.do(HANDLER, c.AssignToStation("620102001"))
    h.do(STATION_OFFICER, c.VerifyReport(Finding.SUBSTANTIATED, "现场检查"))
    with pytest.raises(NotPermitted):
        h.do(STATION_OFFICER, c.OpenCase("兰城市监立〔2026〕20号"))


def test_report_result_approved_closes_the_report() -> None:
    h = domain.verified_report()
    h.do(HANDLER, c.OpenCase("兰城市监立〔2026〕21号"))
    h.do(HANDLER, c.SubmitResult(Track.REPORT, "已立案查处"))
    assert h.state.status is TicketStatus.IN_HANDLING
    state = h.do(HEAD, c.ApproveResult(Track.REPORT))
    report = state.track(Track.REPORT)
    assert state.status is TicketStatus.CLOSED
    assert report is not None and report.stage is Stage.CLOSED
    assert report.finding is Finding.SUBSTANTIATED
    assert report.case_number == "兰城市监立〔2026〕21号"
    assert report.result is not None and report.result.approver_id == HEAD.officer_id


def test_report_result_cannot_precede_verification() -> None:
    h = _report(incident_region="620102")
    with pytest.raises(StepNotAllowed):
        h.do(HANDLER, c.SubmitResult(Track.REPORT, "已处理"))


def test_rejected_report_result_goes_back_to_verified() -> None:
    h = domain.verified_report()
    h.do(HANDLER, c.SubmitResult(Track.REPORT, "已处理"))
    state = h.do(HEAD, c.RejectResult(Track.REPORT, "未写明处理依据"))
    report = state.track(Track.REPORT)
    assert report is not None
    assert report.stage is Stage.VERIFIED
    assert report.result is None
    assert report.finding is Finding.SUBSTANTIATED


@pytest.mark.parametrize(
    "command",
    [c.AcceptComplaint(), c.PauseMediation("送检"), c.SubmitResult(Track.COMPLAINT, "结果")],
    ids=lambda command: type(command).__name__,
)
def test_a_report_has_no_complaint_procedure(command: c.TicketCommand) -> None:
    h = domain.verified_report()
    with pytest.raises(StepNotAllowed) as raised:
        h.do(HANDLER, command)
    assert "no complaint part" in raised.value.reason


def test_a_report_cannot_be_verified_at_the_hub_before_dispatch() -> None:
    hub_handler = domain.officer("620000-09", "钱进", "620000", Role.HANDLER)
    h = History.registered(HUB, domain.draft(TicketKind.REPORT, incident_region="620102"))
    with pytest.raises(StepNotAllowed) as raised:
        h.do(hub_handler, c.VerifyReport(Finding.SUBSTANTIATED, "现场检查"))
    assert "not at a handling unit" in raised.value.reason
    assert h.state.track(Track.REPORT).stage is Stage.AWAITING_DECISION  # type: ignore[union-attr]
