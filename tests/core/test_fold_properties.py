"""The fold (core.ticket.fold): the same events give the same state, whatever their order.

DESIGN.md rule 1 and 2: events reach nodes in any order, duplicated, from nodes that were
offline; every node must compute the same state, and an event that no longer fits is kept as a
conflict for a supervisor, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from core.officers import Officer
from core.ticket import commands as c
from core.ticket.decisions import decide
from core.ticket.events import EventMeta, RecordedEvent
from core.ticket.fold import fold, precedence
from core.ticket.state import Stage, TicketStatus
from core.ticket.vocabulary import (
    Finding,
    MediationOutcome,
    RefusalGround,
    ReturnReason,
    Satisfaction,
    TerminationReason,
    TicketKind,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import (
    HANDLER,
    HEAD,
    HUB,
    HUB_SUPERVISOR,
    OTHER_HANDLER,
    OTHER_HEAD,
    STATION_OFFICER,
    History,
)

GAP = st.integers(1, 3)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MOVES: list[tuple[Officer, c.TicketCommand]] = [
    (HUB, c.RouteTicket()),
    (HUB, c.RouteTicket(to_unit="620103")),
    (HANDLER, c.ReturnTicket(ReturnReason.ADDRESS_UNCLEAR, "地址不详")),
    (OTHER_HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本职")),
    (HANDLER, c.AcceptComplaint()),
    (OTHER_HANDLER, c.AcceptComplaint()),
    (HANDLER, c.RefuseComplaint(RefusalGround.TIME_BARRED, "超过三年")),
    (HANDLER, c.AssignToStation("620102001")),
    (STATION_OFFICER, c.PauseMediation("送检")),
    (HANDLER, c.ResumeMediation()),
    (OTHER_HANDLER, c.PauseMediation("鉴定")),
    (OTHER_HANDLER, c.ResumeMediation()),
    (STATION_OFFICER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=9_900)),
    (HANDLER, c.EndMediation(MediationOutcome.AGREEMENT, agreement="退款")),
    (
        OTHER_HANDLER,
        c.EndMediation(
            MediationOutcome.TERMINATED,
            termination_reason=TerminationReason.PARTY_ABSENT_OR_REFUSES,
        ),
    ),
    (HANDLER, c.VerifyReport(Finding.SUBSTANTIATED, "现场检查")),
    (OTHER_HANDLER, c.VerifyReport(Finding.NOT_SUBSTANTIATED, "未发现问题")),
    (HANDLER, c.OpenCase("立〔2026〕1号")),
    (HANDLER, c.SubmitResult(Track.COMPLAINT, "已调解")),
    (STATION_OFFICER, c.SubmitResult(Track.REPORT, "已核查")),
    (OTHER_HANDLER, c.SubmitResult(Track.COMPLAINT, "已调解")),
    (OTHER_HANDLER, c.SubmitResult(Track.REPORT, "已核查")),
    (HEAD, c.ApproveResult(Track.COMPLAINT)),
    (HEAD, c.ApproveResult(Track.REPORT)),
    (OTHER_HEAD, c.ApproveResult(Track.COMPLAINT)),
    (OTHER_HEAD, c.ApproveResult(Track.REPORT)),
    (HEAD, c.RejectResult(Track.COMPLAINT, "材料不全")),
    (OTHER_HEAD, c.RejectResult(Track.REPORT, "材料不全")),
    (HUB, c.AnswerInquiry("已答复")),
    (HUB, c.RecordCallback(Satisfaction.DISSATISFIED)),
    (HUB_SUPERVISOR, c.RecordCallback(Satisfaction.SATISFIED)),
]


def _allowed(h: History) -> list[tuple[Officer, c.TicketCommand]]:
    state = h.state
    allowed = []
    for officer, command in MOVES:
        try:
            decide(state, command, officer, h.ctx)
        except DomainError:
            continue
        allowed.append((officer, command))
    return allowed


@st.composite
def histories(draw: st.DrawFn) -> History:
    """A valid history: a registration, then a walk through moves that ``decide`` allows.

    Registered at the province hub, or walked in at Qilihe and forwarded to Chengguan, the
    competent county, by Qilihe's node at once (转办).
    """
    kind = draw(st.sampled_from(list(TicketKind)))
    command = domain.draft(kind, incident_region="620102")
    if draw(st.booleans()):
        h = History.registered(HUB, command)
    else:
        h = domain.walked_in(command, by=OTHER_HANDLER)
    for _ in range(draw(st.integers(0, 30))):
        allowed = _allowed(h)
        if not allowed:
            break
        # Re-routing is nearly always allowed; take it rarely so walks get to the later steps.
        onward = [m for m in allowed if not isinstance(m[1], c.RouteTicket)]
        skip_routes: bool = draw(st.integers(0, 5)) > 0
        pool = onward if onward and skip_routes else allowed
        officer, command = draw(st.sampled_from(pool))
        h.advance(minutes=draw(st.sampled_from([0, 1, 60 * 24])))
        h.do(officer, command)
    return h


FIXED: dict[str, Callable[[], History]] = {
    "closed-complaint": domain.closed_complaint,
    "report": domain.verified_report,
}


def _reopened_and_closed_twice() -> History:
    h = domain.closed_complaint()
    h.do(HUB, c.RecordCallback(Satisfaction.DISSATISFIED))
    h.do(HANDLER, c.AssignToStation("620102001"))
    h.do(STATION_OFFICER, c.PauseMediation("送检"))
    h.advance(days=2)
    h.do(STATION_OFFICER, c.ResumeMediation())
    h.do(STATION_OFFICER, c.EndMediation(MediationOutcome.AGREEMENT, agreement="全额退款"))
    h.do(STATION_OFFICER, c.SubmitResult(Track.COMPLAINT, "重办"))
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    h.do(HUB, c.RecordCallback(Satisfaction.VERY_SATISFIED))
    return h


def _returned_composite() -> History:
    h = domain.routed(domain.draft(TicketKind.COMPOSITE, incident_region="620102"))
    h.do(HANDLER, c.ReturnTicket(ReturnReason.WRONG_TYPE, "类型有误"))
    h.do(HUB, c.RouteTicket(to_unit="620103"))
    h.do(OTHER_HANDLER, c.AcceptComplaint())
    h.do(OTHER_HANDLER, c.VerifyReport(Finding.SUBSTANTIATED, "属实"))
    h.do(OTHER_HANDLER, c.EndMediation(MediationOutcome.WITHDRAWN))
    return h


def _walk_in_returned() -> History:
    h = domain.walked_in(domain.draft(TicketKind.COMPOSITE, incident_region="620102"))
    h.do(HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本职"))
    h.do(HUB, c.RouteTicket(to_unit="620102"))
    h.do(HANDLER, c.AcceptComplaint())
    return h


FIXED["reopened-and-closed-twice"] = _reopened_and_closed_twice
FIXED["returned-composite"] = _returned_composite
FIXED["walk-in-forwarded-returned-and-routed-again"] = _walk_in_returned


@PROPERTY
@given(h=histories())
def test_every_decided_event_fits_when_folded(h: History) -> None:
    state = h.state
    assert state.conflicts == ()
    assert state.version == len(h.events)
    assert state.last_hlc == h.events[-1].meta.hlc
    assert state.registration is not None


@PROPERTY
@given(h=histories(), data=st.data())
def test_any_delivery_order_gives_the_same_state(h: History, data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(h.events))
    assert fold(h.ticket_id, shuffled) == fold(h.ticket_id, h.events)


@PROPERTY
@given(h=histories(), data=st.data())
def test_duplicated_events_are_folded_once(h: History, data: st.DataObject) -> None:
    again = data.draw(st.lists(st.sampled_from(h.events), max_size=len(h.events) * 2))
    shuffled = data.draw(st.permutations(h.events + again))
    assert fold(h.ticket_id, shuffled) == fold(h.ticket_id, h.events)


@pytest.mark.parametrize("build", FIXED.values(), ids=FIXED.keys())
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_fixed_lifecycles_fold_alike_in_any_order_with_duplicates(
    build: Callable[[], History], data: st.DataObject
) -> None:
    h = build()
    expected = h.state
    assert expected.conflicts == ()
    again = data.draw(st.lists(st.sampled_from(h.events), max_size=5))
    assert fold(h.ticket_id, data.draw(st.permutations(h.events + again))) == expected


# Concurrent, incompatible steps from two nodes -------------------------------------------


@dataclass(frozen=True)
class Race:
    """Two steps taken on two nodes from the same base, neither having seen the other."""

    base: Callable[[], History]
    first: tuple[Officer, c.TicketCommand]
    second: tuple[Officer, c.TicketCommand]


def _assigned() -> History:
    h = domain.accepted()
    h.do(HANDLER, c.AssignToStation("620102001"))
    return h


RACES = {
    "both-accept": Race(domain.routed, (HANDLER, c.AcceptComplaint()), (HEAD, c.AcceptComplaint())),
    "return-vs-accept": Race(
        domain.routed,
        (HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本职")),
        (HEAD, c.AcceptComplaint()),
    ),
    "accept-vs-refuse": Race(
        domain.routed,
        (HANDLER, c.AcceptComplaint()),
        (HEAD, c.RefuseComplaint(RefusalGround.MISSING_FACTS, "要素缺失")),
    ),
    "station-vs-county-ending": Race(
        _assigned,
        (STATION_OFFICER, c.EndMediation(MediationOutcome.SETTLED)),
        (HANDLER, c.EndMediation(MediationOutcome.WITHDRAWN)),
    ),
    "approve-vs-reject": Race(
        domain.result_submitted,
        (HEAD, c.ApproveResult(Track.COMPLAINT)),
        (HEAD, c.RejectResult(Track.COMPLAINT, "退回补正")),
    ),
    "two-callbacks": Race(
        domain.closed_complaint,
        (HUB, c.RecordCallback(Satisfaction.SATISFIED)),
        (HUB_SUPERVISOR, c.RecordCallback(Satisfaction.NEUTRAL)),
    ),
}


def _offline(
    h: History, officer: Officer, command: c.TicketCommand, node: str, at: int
) -> RecordedEvent:
    """The event ``node`` records for ``command`` from the base state, at clock value ``at``."""
    (event,) = decide(h.state, command, officer, h.ctx)
    meta = EventMeta(f"{node}-1", h.ticket_id, node, 1, at, officer.ref(), len(h.events))
    return RecordedEvent(meta, event)


@pytest.mark.parametrize("race", RACES.values(), ids=RACES.keys())
@settings(max_examples=40, deadline=None)
@given(
    gaps=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    nodes=st.sampled_from([("node-a", "node-b"), ("node-b", "node-a")]),
    data=st.data(),
)
def test_concurrent_incompatible_steps_resolve_alike_and_keep_the_misfit(
    race: Race, gaps: tuple[int, int], nodes: tuple[str, str], data: st.DataObject
) -> None:
    h = race.base()
    top = h.state.last_hlc
    one = _offline(h, *race.first, nodes[0], top + gaps[0])
    two = _offline(h, *race.second, nodes[1], top + gaps[1])
    # Concurrent (same base version): the higher level wins, then the earlier clock, then node.
    winner, loser = sorted([one, two], key=precedence)

    delivered = data.draw(
        st.permutations([*h.events, one, two, data.draw(st.sampled_from([one, two]))])
    )
    state = fold(h.ticket_id, delivered)

    assert state == fold(h.ticket_id, [*h.events, one, two])
    assert [(x.event_id, x.origin_node) for x in state.conflicts] == [
        (loser.meta.event_id, loser.meta.origin_node)
    ]
    assert state.conflicts[0].event_type == type(loser.event).__name__
    assert state.conflicts[0].reason
    assert state.in_conflict
    assert state.version == len(h.events) + 2
    assert state.last_hlc == max(one.meta.hlc, two.meta.hlc)
    alone = fold(h.ticket_id, [*h.events, winner])
    assert replace(state, conflicts=(), version=alone.version, last_hlc=alone.last_hlc) == alone


def _branch(
    h: History, move: tuple[Officer, c.TicketCommand], node: str, first_hlc: int
) -> list[RecordedEvent]:
    """What an offline node records for ``move`` from the base state, clocks from ``first_hlc``."""
    officer, command = move
    events = decide(h.state, command, officer, h.ctx)
    return [
        RecordedEvent(
            EventMeta(
                f"{node}-{i}",
                h.ticket_id,
                node,
                i,
                first_hlc + i,
                officer.ref(),
                ticket_version=len(h.events) + i - 1,  # the node held the base, then its own
            ),
            event,
        )
        for i, event in enumerate(events, start=1)
    ]


@PROPERTY
@given(h=histories(), data=st.data())
def test_two_offline_steps_from_any_state_resolve_alike_and_nothing_is_lost(
    h: History, data: st.DataObject
) -> None:
    allowed = _allowed(h)
    assume(allowed)
    top = h.state.last_hlc
    one = _branch(h, data.draw(st.sampled_from(allowed)), "node-x", top + data.draw(GAP))
    two = _branch(h, data.draw(st.sampled_from(allowed)), "node-y", top + data.draw(GAP))
    everything = [*h.events, *one, *two]
    expected = fold(h.ticket_id, everything)
    again = data.draw(st.lists(st.sampled_from(everything), max_size=4))
    assert fold(h.ticket_id, data.draw(st.permutations(everything + again))) == expected
    assert expected.version == len(everything)
    branch_ids = {r.meta.event_id for r in one + two}
    assert {x.event_id for x in expected.conflicts} <= branch_ids
    assert expected.last_hlc == max(r.meta.hlc for r in everything)


def test_a_clock_tie_is_broken_by_origin_node() -> None:
    h = domain.routed()
    at = h.state.last_hlc + 1
    accept = _offline(h, HANDLER, c.AcceptComplaint(), "node-b", at)
    refuse = _offline(h, HEAD, c.RefuseComplaint(RefusalGround.MISSING_FACTS, "缺失"), "node-a", at)
    state = fold(h.ticket_id, [accept, *h.events, refuse])
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None and complaint.stage is Stage.REFUSED
    assert [x.origin_node for x in state.conflicts] == ["node-b"]


def test_acceptance_by_a_unit_that_no_longer_holds_the_ticket_is_a_conflict() -> None:
    # The province re-routes to Qilihe while Chengguan, offline, accepts what it still saw.
    # The higher level's decision stands (DESIGN.md rule 2); the stale acceptance is kept aside.
    h = domain.routed()
    top = h.state.last_hlc
    reroute = _offline(h, HUB, c.RouteTicket(to_unit="620103"), "node-620000", top + 1)
    stale = _offline(h, HANDLER, c.AcceptComplaint(), "node-620102", top + 2)
    state = fold(h.ticket_id, [*h.events, stale, reroute])
    assert state.holder_unit == "620103"
    assert state.track(Track.COMPLAINT).stage is Stage.AWAITING_DECISION  # type: ignore[union-attr]
    assert state.status is TicketStatus.ROUTED
    assert [x.event_id for x in state.conflicts] == [stale.meta.event_id]
