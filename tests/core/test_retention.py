"""When a ticket's personal data falls due for erasure, and which node owes it (个人信息删除).

The retention period runs from the end of the ticket (its last closure, or its registration for
a duplicate); the holder's node owes the erasure from the due instant, its province a grace
later, and nobody owes it twice.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import hlc
from core.errors import DomainError, InvalidInput
from core.officers import Officer
from core.personal import (
    DEFAULT_RETENTION_DAYS,
    effective_retention_days,
    ended_ms,
    erasure_due_ms,
    owes_erasure,
)
from core.personal.retention import DAY_MS, ERASURE_REASON
from core.ticket import commands as c
from core.ticket.decisions import decide, register_ticket
from core.ticket.events import PersonalDataErased
from core.ticket.state import TicketStatus
from core.ticket.vocabulary import (
    MediationOutcome,
    RefusalGround,
    Satisfaction,
    TicketKind,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HEAD, HUB, History, system

COUNTY = "620102"  # Chengguan, where the sample tickets are handled
CITY = "620100"
PROVINCE = "620000"
OTHER_PROVINCE = "510000"


def closed() -> History:
    """A complaint closed at Chengguan."""
    return domain.closed_complaint()


def closed_at_ms(h: History) -> int:
    return hlc.to_millis(h.state.closed_hlc)


def test_a_closed_complaint_ended_when_it_last_closed() -> None:
    h = closed()
    assert h.state.status is TicketStatus.CLOSED
    assert ended_ms(h.state) == hlc.to_millis(h.state.closed_hlc) > 0


def test_a_ticket_reopened_after_closure_has_not_ended_until_it_closes_again() -> None:
    h = closed()
    first = ended_ms(h.state)
    h.advance(days=3)
    h.do(HUB, c.RecordCallback(Satisfaction.DISSATISFIED))  # reopened (回炉重办)
    assert ended_ms(h.state) is None
    h.do(HANDLER, c.EndMediation(MediationOutcome.AGREEMENT, agreement="全额退款"))
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "重办"))
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    again = ended_ms(h.state)
    assert first is not None and again is not None and again >= first + 3 * DAY_MS


def test_an_open_ticket_has_not_ended_and_is_never_due() -> None:
    h = domain.accepted()
    assert ended_ms(h.state) is None
    assert erasure_due_ms(h.state, 0) is None
    far = h.wall_ms + 100 * 365 * DAY_MS
    assert not owes_erasure(h.state, COUNTY, far, 0)


def test_a_duplicate_ended_when_it_was_registered() -> None:
    h = History("DUP-1")
    h.record(HUB, register_ticket(domain.draft(), HUB, h.ctx, ticket_id="DUP-1", duplicate_of="T1"))
    assert h.state.status is TicketStatus.DUPLICATE
    assert ended_ms(h.state) == hlc.to_millis(h.state.registered_hlc)


def test_a_refused_complaint_has_ended() -> None:
    h = domain.routed()
    h.do(HANDLER, c.RefuseComplaint(RefusalGround.TIME_BARRED, "超过三年"))
    assert h.state.status is TicketStatus.CLOSED
    assert ended_ms(h.state) == hlc.to_millis(h.state.closed_hlc)


def test_the_data_is_kept_three_years_from_the_end_by_default() -> None:
    h = closed()
    assert DEFAULT_RETENTION_DAYS == 1095
    due = closed_at_ms(h) + 1095 * DAY_MS
    assert erasure_due_ms(h.state, 0) == due  # 0: the rule book sets none
    assert erasure_due_ms(h.state, DEFAULT_RETENTION_DAYS) == due
    assert erasure_due_ms(h.state, 30) == closed_at_ms(h) + 30 * DAY_MS


def test_a_negative_retention_is_refused_not_taken_as_erase_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        effective_retention_days(-1)
    assert refused.value.field == "retention_days"
    with pytest.raises(InvalidInput):
        owes_erasure(closed().state, COUNTY, 10**15, -5)


def test_the_holder_owes_the_erasure_from_the_due_instant_not_a_millisecond_before() -> None:
    state = closed().state
    due = erasure_due_ms(state, 0)
    assert due is not None and state.holder_unit == COUNTY
    assert not owes_erasure(state, COUNTY, due - 1, 0)
    assert owes_erasure(state, COUNTY, due, 0)


def test_the_province_of_the_holder_steps_in_only_after_the_grace() -> None:
    state = closed().state
    due = erasure_due_ms(state, 0)
    assert due is not None
    assert not owes_erasure(state, PROVINCE, due, 0)
    assert not owes_erasure(state, PROVINCE, due + 7 * DAY_MS - 1, 0)
    assert owes_erasure(state, PROVINCE, due + 7 * DAY_MS, 0)
    assert owes_erasure(state, PROVINCE, due + 2 * DAY_MS, 0, grace_days=2)


def test_a_city_above_the_holder_or_another_province_never_owes_it() -> None:
    state = closed().state
    late = (erasure_due_ms(state, 0) or 0) + 365 * DAY_MS
    assert not owes_erasure(state, CITY, late, 0)
    assert not owes_erasure(state, "620103", late, 0)  # a neighbouring county
    assert not owes_erasure(state, OTHER_PROVINCE, late, 0)


def test_an_erased_ticket_owes_nothing_more() -> None:
    h = closed()
    h.record(system(COUNTY), PersonalDataErased(ERASURE_REASON, DEFAULT_RETENTION_DAYS))
    assert h.state.personal_erased
    late = (erasure_due_ms(h.state, 0) or 0) + 365 * DAY_MS
    assert not owes_erasure(h.state, COUNTY, late, 0)
    assert not owes_erasure(h.state, PROVINCE, late, 0)


# Invariants over any walk of a ticket's life ----------------------------------------------------

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MOVES: list[tuple[Officer, c.TicketCommand]] = [
    (HANDLER, c.AcceptComplaint()),
    (HANDLER, c.RefuseComplaint(RefusalGround.TIME_BARRED, "超过三年")),
    (HANDLER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=100)),
    (HANDLER, c.EndMediation(MediationOutcome.WITHDRAWN)),
    (HANDLER, c.SubmitResult(Track.COMPLAINT, "已调解")),
    (HANDLER, c.SubmitResult(Track.REPORT, "已核查")),
    (HEAD, c.ApproveResult(Track.COMPLAINT)),
    (HEAD, c.ApproveResult(Track.REPORT)),
    (HEAD, c.RejectResult(Track.COMPLAINT, "材料不全")),
    (HUB, c.AnswerInquiry("已答复")),
    (HUB, c.RecordCallback(Satisfaction.DISSATISFIED)),
    (HUB, c.RecordCallback(Satisfaction.SATISFIED)),
]


@st.composite
def lives(draw: st.DrawFn) -> History:
    """A ticket routed to Chengguan, then any walk of the moves ``decide`` allows, with days
    to years between them."""
    kind = draw(st.sampled_from(list(TicketKind)))
    h = domain.routed(domain.draft(kind, incident_region=COUNTY))
    for _ in range(draw(st.integers(0, 12))):
        allowed = []
        for officer, command in MOVES:
            try:
                decide(h.state, command, officer, h.ctx)
            except DomainError:
                continue
            allowed.append((officer, command))
        if not allowed:
            break
        officer, command = draw(st.sampled_from(allowed))
        h.advance(days=draw(st.sampled_from([0, 1, 30, 400])))
        h.do(officer, command)
    return h


UNITS = st.sampled_from([COUNTY, CITY, PROVINCE, "620103", OTHER_PROVINCE, "100000"])


@PROPERTY
@given(
    h=lives(),
    unit=UNITS,
    later_days=st.integers(-10, 5000),
    retention=st.integers(0, 4000),
)
def test_never_due_while_open_and_never_before_the_end_plus_retention(
    h: History, unit: str, later_days: int, retention: int
) -> None:
    state = h.state
    now = h.wall_ms + later_days * DAY_MS
    owed = owes_erasure(state, unit, now, retention)
    ended = ended_ms(state)
    if state.status not in (TicketStatus.CLOSED, TicketStatus.DUPLICATE):
        assert ended is None and not owed
    if owed:
        assert ended is not None
        assert now >= ended + effective_retention_days(retention) * DAY_MS
        assert unit in (state.holder_unit, PROVINCE)


@PROPERTY
@given(h=lives(), retention=st.integers(0, 4000))
def test_a_closed_ticket_is_owed_by_its_holder_once_due_and_by_nobody_once_erased(
    h: History, retention: int
) -> None:
    due = erasure_due_ms(h.state, retention)
    if due is None:
        return
    assert owes_erasure(h.state, h.state.holder_unit, due, retention)
    h.record(system(COUNTY), PersonalDataErased(ERASURE_REASON, retention))
    for unit in (COUNTY, CITY, PROVINCE):
        assert not owes_erasure(h.state, unit, due + 10_000 * DAY_MS, retention)
