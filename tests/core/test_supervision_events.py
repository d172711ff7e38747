"""Reminders, escalation, extensions and supervision orders as ticket facts (DOMAIN.md §5-§6).

Sweeps record reminders (三级催办) and escalations (督办) as a system officer of their node's
unit; two levels cut off from each other may record the same escalation, and the fold must
count it once. An escalation stands in a supervision queue only while its duty is owed.
Extensions are asked for by the holding unit and decided above it; a supervision order
(跟踪督办) comes from a unit above the supervised one, which answers in writing.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import hlc
from core.errors import InvalidInput, NotPermitted, StepNotAllowed
from core.officers import Officer, Role
from core.ticket import commands as c
from core.ticket.duties import duties_done_by, duty_owners, owes
from core.ticket.events import (
    ComplaintAccepted,
    DomainEvent,
    EventMeta,
    ExtensionDecided,
    ExtensionRequested,
    RecordedEvent,
    ReminderSent,
    SupervisionReported,
    TicketEscalated,
    TicketRouted,
)
from core.ticket.fold import fold
from core.ticket.state import Stage, TicketState
from core.ticket.vocabulary import (
    Duty,
    JurisdictionBasis,
    MediationOutcome,
    ReminderLevel,
    ReturnReason,
    TicketKind,
    Track,
)
from proto.hotline.v1 import ticket_pb2
from sync.codec import from_message, to_message
from tests.helpers import domain
from tests.helpers.domain import (
    HANDLER,
    HEAD,
    HUB,
    HUB_SUPERVISOR,
    OTHER_HANDLER,
    OTHER_HEAD,
    History,
)

CITY_HEAD = domain.officer("620100-02", "钱进", "620100", Role.UNIT_HEAD, Role.SUPERVISOR)
COUNTY_SUPERVISOR = domain.officer("620102-09", "冯督", "620102", Role.SUPERVISOR)


def sweep(unit: str) -> Officer:
    """The system officer a node's sweep records as (no roles: sweeps give no commands)."""
    return domain.officer(f"{unit}-sweep", "催办督办系统", unit)


COUNTY_SWEEP, CITY_SWEEP, PROVINCE_SWEEP = sweep("620102"), sweep("620100"), sweep("620000")
DUE_MS = int(domain.NOW.timestamp() * 1000) + 9 * 86_400_000


def escalated(level: int, *, duty: Duty = Duty.DECIDE_ACCEPTANCE) -> TicketEscalated:
    """Chengguan's overdue ``duty`` escalated ``level`` levels up (city, then province)."""
    return TicketEscalated(duty, "620102", {1: "620100", 2: "620000"}[level], level, DUE_MS)


def reminded(level: ReminderLevel, duty: Duty = Duty.DECIDE_ACCEPTANCE) -> ReminderSent:
    return ReminderSent(duty, level, "620102", DUE_MS)


def concurrently(h: History, *steps: tuple[Officer, DomainEvent]) -> list[RecordedEvent]:
    """Record ``steps`` on their officers' nodes, none having seen the others (same version)."""
    recorded = [h.envelope(officer, event) for officer, event in steps]
    h.events.extend(recorded)
    return recorded


def test_an_escalation_recorded_twice_by_two_levels_counts_once() -> None:
    # Chengguan is cut off from the city while its acceptance deadline passes: both nodes'
    # sweeps escalate the duty to the city's queue. When they meet, it stands there once.
    h = domain.routed()
    county, city = concurrently(h, (COUNTY_SWEEP, escalated(1)), (CITY_SWEEP, escalated(1)))
    assert county.meta.ticket_version == city.meta.ticket_version

    state = h.state

    assert state == fold(h.ticket_id, reversed(h.events))
    (escalation,) = state.escalations
    assert (escalation.duty, escalation.level) == (Duty.DECIDE_ACCEPTANCE, 1)
    assert (escalation.from_unit, escalation.to_unit) == ("620102", "620100")
    # The city's step is folded first (higher level): it is the one remembered.
    assert escalation.origin_node == "node-620100"
    assert state.conflicts == ()
    assert state.version == len(h.events)

    # Still overdue: the province adds level 2, and a second copy of it changes nothing.
    h.record(PROVINCE_SWEEP, escalated(2))
    once = h.state
    h.record(COUNTY_SWEEP, escalated(2))
    twice = h.state
    assert [(e.level, e.to_unit) for e in twice.escalations] == [(1, "620100"), (2, "620000")]
    assert twice.escalations == once.escalations and twice.conflicts == ()
    assert (twice.version, twice.last_hlc) != (once.version, once.last_hlc)


def test_reminders_are_counted_once_per_level_and_deadline() -> None:
    h = domain.routed()
    concurrently(
        h,
        (COUNTY_SWEEP, reminded(ReminderLevel.HANDLER)),
        (CITY_SWEEP, reminded(ReminderLevel.HANDLER)),
    )
    h.record(COUNTY_SWEEP, reminded(ReminderLevel.UNIT_HEAD))
    h.record(COUNTY_SWEEP, ReminderSent(Duty.DECIDE_ACCEPTANCE, ReminderLevel.HANDLER, "620102", 1))
    state = h.state
    assert [(r.level, r.due_ms) for r in state.reminders_sent] == [
        (ReminderLevel.HANDLER, DUE_MS),
        (ReminderLevel.UNIT_HEAD, DUE_MS),
        (ReminderLevel.HANDLER, 1),
    ]
    assert state.conflicts == ()


def test_escalations_end_when_the_complaint_is_accepted() -> None:
    h = domain.routed()
    h.record(COUNTY_SWEEP, reminded(ReminderLevel.SUPERVISING_UNIT))
    h.record(COUNTY_SWEEP, escalated(1))
    h.record(PROVINCE_SWEEP, escalated(2))
    assert len(h.state.escalations) == 2

    state = h.do(HANDLER, c.AcceptComplaint("逾期受理"))

    assert state.escalations == ()
    assert len(state.reminders_sent) == 1  # reminders stay as history
    # A sweep that had not heard of the acceptance escalates once more: harmless history,
    # not a conflict, and the ticket stays out of the queue.
    h.record(CITY_SWEEP, escalated(1))
    late = h.state
    assert late.escalations == () and late.conflicts == ()
    assert late.version == len(h.events)
    # Mediation is now the duty owed; escalating it works as before.
    assert duty_owners(late, Duty.END_MEDIATION) == {"620102"}
    h.record(COUNTY_SWEEP, escalated(1, duty=Duty.END_MEDIATION))
    assert [e.duty for e in h.state.escalations] == [Duty.END_MEDIATION]


@pytest.mark.parametrize(
    ("event", "ends"),
    [
        (ComplaintAccepted(), {Duty.DECIDE_ACCEPTANCE}),
        (
            TicketRouted("620103", JurisdictionBasis.DISPATCHER_DECISION),
            {Duty.DECIDE_ACCEPTANCE, Duty.END_MEDIATION, Duty.VERIFY_REPORT},
        ),
        (SupervisionReported("DB-1", "已办结"), {Duty.SUPERVISION_REPORT}),
        (escalated(1), set()),
    ],
)
def test_which_step_ends_which_duty(event: DomainEvent, ends: set[Duty]) -> None:
    assert duties_done_by(event) == ends


def test_held_since_moves_when_the_ticket_is_routed_again() -> None:
    h = History.registered(HUB)
    assert h.state.held_since_hlc == h.state.registered_hlc == h.events[-1].meta.hlc
    h.advance(minutes=5)
    h.do(HUB, c.RouteTicket())
    routed_at = h.events[-1].meta.hlc
    assert h.state.held_since_hlc == routed_at > h.state.registered_hlc

    h.advance(days=9)
    h.record(COUNTY_SWEEP, escalated(1))
    h.advance(minutes=30)
    returned = h.do(HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本局管辖"))
    assert returned.held_since_hlc == h.events[-1].meta.hlc > routed_at
    assert returned.escalations == ()  # Chengguan no longer owes the decision

    h.advance(minutes=30)
    again = h.do(HUB, c.RouteTicket(to_unit="620103"))
    assert again.holder_unit == "620103"
    assert again.held_since_hlc == h.events[-1].meta.hlc
    # Chengguan's sweep, not yet told, escalates its old deadline: nothing changes.
    h.record(COUNTY_SWEEP, escalated(1))
    assert h.state.escalations == () and h.state.conflicts == ()
    assert h.state.held_since_hlc == again.held_since_hlc


def test_an_extension_is_requested_by_the_holder_and_decided_above_it() -> None:
    h = domain.routed(domain.draft(TicketKind.REPORT, incident_region="620102"))
    h.record(COUNTY_SWEEP, escalated(1, duty=Duty.VERIFY_REPORT))
    with pytest.raises(NotPermitted):  # not the holder
        h.do(OTHER_HANDLER, c.RequestExtension(Duty.VERIFY_REPORT, 15, "需调取外地证据"))
    with pytest.raises(StepNotAllowed):  # not a duty this ticket owes
        h.do(HANDLER, c.RequestExtension(Duty.DECIDE_ACCEPTANCE, 5, "人手不足"))
    with pytest.raises(InvalidInput, match="days"):
        h.do(HANDLER, c.RequestExtension(Duty.VERIFY_REPORT, 0, "需调取外地证据"))

    asked = h.do(HANDLER, c.RequestExtension(Duty.VERIFY_REPORT, 15, "需调取外地证据"))
    pending = asked.pending_extension(Duty.VERIFY_REPORT)
    assert pending is not None
    assert (pending.requested_days, pending.requested_unit) == (15, "620102")
    with pytest.raises(StepNotAllowed, match="already awaits"):
        h.do(HEAD, c.RequestExtension(Duty.VERIFY_REPORT, 10, "再延"))
    with pytest.raises(InvalidInput, match="days"):
        h.do(CITY_HEAD, c.DecideExtension(Duty.VERIFY_REPORT, approved=True, days=20))

    decided = h.do(CITY_HEAD, c.DecideExtension(Duty.VERIFY_REPORT, approved=True))

    (extension,) = decided.extensions
    assert extension.approved and extension.days == 15
    assert (extension.decided_unit, extension.decided_hlc) == ("620100", h.events[-1].meta.hlc)
    assert decided.pending_extension(Duty.VERIFY_REPORT) is None
    assert decided.escalations == ()  # the deadline moved: no longer overdue
    with pytest.raises(StepNotAllowed, match="awaits a decision"):
        h.do(CITY_HEAD, c.DecideExtension(Duty.VERIFY_REPORT, approved=False, note="不同意"))

    # A second request may follow; a denial grants nothing and needs its reason.
    h.do(HANDLER, c.RequestExtension(Duty.VERIFY_REPORT, 5, "鉴定未出"))
    with pytest.raises(InvalidInput, match="note"):
        h.do(HUB_SUPERVISOR, c.DecideExtension(Duty.VERIFY_REPORT, approved=False))
    denied = h.do(HUB_SUPERVISOR, c.DecideExtension(Duty.VERIFY_REPORT, False, note="理由不足"))
    assert [(x.approved, x.days) for x in denied.extensions] == [(True, 15), (False, 0)]


def test_a_county_cannot_decide_its_own_extension() -> None:
    h = domain.accepted()
    h.do(HANDLER, c.RequestExtension(Duty.END_MEDIATION, 10, "等待检测报告"))
    with pytest.raises(NotPermitted, match="its own extension"):
        h.do(HEAD, c.DecideExtension(Duty.END_MEDIATION, approved=True))
    with pytest.raises(NotPermitted):  # a neighbour county is not above it either
        h.do(OTHER_HEAD, c.DecideExtension(Duty.END_MEDIATION, approved=True))

    # Recorded anyway (a tampered or misconfigured node), it is a conflict, not a decision.
    h.record(HEAD, ExtensionDecided(Duty.END_MEDIATION, True, 10))
    state = h.state
    assert [x.event_type for x in state.conflicts] == ["ExtensionDecided"]
    assert state.pending_extension(Duty.END_MEDIATION) is not None


def test_a_pending_extension_lapses_when_its_duty_ends_first() -> None:
    h = domain.accepted()
    h.do(HANDLER, c.RequestExtension(Duty.END_MEDIATION, 10, "等待检测报告"))
    h.do(HANDLER, c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=100))
    lapsed = h.state
    (request,) = lapsed.extensions
    assert request.lapsed_hlc == h.events[-1].meta.hlc and not request.pending
    with pytest.raises(StepNotAllowed, match="awaits a decision"):
        h.do(CITY_HEAD, c.DecideExtension(Duty.END_MEDIATION, approved=True))
    # A decision that arrives all the same (the city decided on what it held) is harmless.
    h.record(CITY_HEAD, ExtensionDecided(Duty.END_MEDIATION, True, 10))
    state = h.state
    assert state.extensions == lapsed.extensions and state.conflicts == ()
    assert state.version == len(h.events)


def test_a_supervision_order_needs_a_unit_above_and_a_report_from_the_unit() -> None:
    h = domain.routed()
    with pytest.raises(NotPermitted, match="not above"):  # a county cannot supervise itself
        h.do(COUNTY_SUPERVISOR, c.OrderSupervision("DB-0", "620102", 5, "加快办理"))
    with pytest.raises(NotPermitted):  # the role: a unit head is not a supervisor
        h.do(HEAD, c.OrderSupervision("DB-0", "620102", 5, "加快办理"))
    with pytest.raises(InvalidInput, match="to_unit"):  # Qilihe has nothing to do with it
        h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-0", "620103", 5, "加快办理"))

    ordered = h.do(
        HUB_SUPERVISOR, c.OrderSupervision("DB-1", "620102", 5, "群众反映强烈，限期回复")
    )
    (order,) = ordered.supervision_orders
    assert (order.from_unit, order.to_unit, order.days) == ("620000", "620102", 5)
    assert not order.reported
    assert duty_owners(ordered, Duty.SUPERVISION_REPORT) == {"620102"}
    with pytest.raises(StepNotAllowed, match="already issued"):
        h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-1", "620102", 5, "重复"))

    h.record(CITY_SWEEP, escalated(1, duty=Duty.SUPERVISION_REPORT))
    assert len(h.state.escalations) == 1
    with pytest.raises(NotPermitted, match="only 620102"):
        h.do(CITY_HEAD, c.ReportSupervision("DB-1", "已督促"))
    with pytest.raises(StepNotAllowed, match="no supervision order"):
        h.do(HEAD, c.ReportSupervision("DB-9", "已办理"))

    reported = h.do(HEAD, c.ReportSupervision("DB-1", "已联系商家，正在调解"))

    assert reported.supervision_orders[0].report == "已联系商家，正在调解"
    assert reported.supervision_orders[0].reported_hlc == h.events[-1].meta.hlc
    assert reported.escalations == ()
    with pytest.raises(StepNotAllowed, match="already reported"):
        h.do(HEAD, c.ReportSupervision("DB-1", "再次回复"))


def test_the_new_state_travels_in_the_ticket_message() -> None:
    h = domain.routed()
    h.record(COUNTY_SWEEP, reminded(ReminderLevel.HANDLER))
    h.record(COUNTY_SWEEP, escalated(1))
    h.do(HANDLER, c.RequestExtension(Duty.DECIDE_ACCEPTANCE, 3, "当事人联系不上"))
    h.do(HUB_SUPERVISOR, c.OrderSupervision("DB-1", "620102", 5, "限期回复"))
    state = h.state
    assert state.escalations and state.reminders_sent and state.extensions
    message = to_message(state, ticket_pb2.Ticket)
    assert message.held_since_hlc == state.held_since_hlc
    assert from_message(TicketState, message) == state


# Any delivery order ------------------------------------------------------------------------

SWEEP_STEPS: list[tuple[Officer, DomainEvent]] = [
    (COUNTY_SWEEP, escalated(1)),
    (CITY_SWEEP, escalated(1)),
    (COUNTY_SWEEP, escalated(2)),
    (PROVINCE_SWEEP, escalated(2)),
    (COUNTY_SWEEP, reminded(ReminderLevel.UNIT_HEAD)),
    (CITY_SWEEP, reminded(ReminderLevel.UNIT_HEAD)),
    (PROVINCE_SWEEP, reminded(ReminderLevel.SUPERVISING_UNIT)),
    (HANDLER, ExtensionRequested(Duty.DECIDE_ACCEPTANCE, 3, "当事人联系不上")),
    (CITY_HEAD, ExtensionDecided(Duty.DECIDE_ACCEPTANCE, True, 3)),
    (HANDLER, ComplaintAccepted("予以受理")),
]


@st.composite
def sweep_histories(draw: st.DrawFn) -> tuple[str, list[RecordedEvent]]:
    """A routed complaint, then some of ``SWEEP_STEPS`` from several nodes: each step either
    saw every step before it or was taken concurrently with them (two levels cut off)."""
    h = domain.routed()
    base = len(h.events)
    chosen = draw(st.lists(st.sampled_from(SWEEP_STEPS), min_size=1, max_size=8))
    for officer, event in chosen:
        h.advance(minutes=draw(st.sampled_from([0, 5, 600])))
        recorded = h.envelope(officer, event)
        if draw(st.booleans()):
            recorded = RecordedEvent(
                EventMeta(**{**recorded.meta.__dict__, "ticket_version": base}), event
            )
        h.events.append(recorded)
    return h.ticket_id, h.events


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=sweep_histories(), data=st.data())
def test_any_delivery_of_escalations_from_two_nodes_gives_the_same_state(
    history: tuple[str, list[RecordedEvent]], data: st.DataObject
) -> None:
    ticket_id, events = history
    again = data.draw(st.lists(st.sampled_from(events), max_size=5))
    arrivals = [data.draw(st.permutations([*events, *again])) for _ in range(3)]

    states = [fold(ticket_id, arrived) for arrived in arrivals]

    first = states[0]
    assert all(s == first for s in states)
    assert first.version == len(events)
    keys = Counter((e.duty, e.from_unit, e.level) for e in first.escalations)
    assert all(n == 1 for n in keys.values())
    reminders = Counter((r.duty, r.level, r.unit_code, r.due_ms) for r in first.reminders_sent)
    assert all(n == 1 for n in reminders.values())
    # Sweeps' facts are never conflicts: at worst harmless history.
    sweep_types = {"TicketEscalated", "ReminderSent"}
    assert not [x for x in first.conflicts if x.event_type in sweep_types]
    # Only duties still owed stand in a queue or wait for more time.
    assert all(owes(first, e.duty, e.from_unit) for e in first.escalations)
    assert all(owes(first, x.duty, x.requested_unit) for x in first.extensions if x.pending)
    if first.track(Track.COMPLAINT).stage is not Stage.AWAITING_DECISION:  # type: ignore[union-attr]
        assert first.escalations == ()  # accepted: nothing stands in a queue any more


def test_a_malformed_escalation_is_a_conflict() -> None:
    h = domain.routed()
    h.record(COUNTY_SWEEP, TicketEscalated(Duty.DECIDE_ACCEPTANCE, "620102", "620103", 1, 0))
    h.record(COUNTY_SWEEP, TicketEscalated(Duty.DECIDE_ACCEPTANCE, "620102", "620100", 0, 0))
    qilihe = domain.officer("620103-sweep", "系统", "620103")
    h.record(qilihe, escalated(1))
    h.record(qilihe, TicketEscalated(Duty.DECIDE_ACCEPTANCE, "620103", "620100", 1, 0))
    state = h.state
    assert [x.reason for x in state.conflicts] == [
        "620103 is not above 620102",
        "an escalation climbs at least one level, not 0",
        "620103 is neither 620102 nor above it",
        "620103 has never held this ticket nor been ordered to report on it",
    ]
    assert state.escalations == ()
    assert hlc.to_millis(state.last_hlc) >= hlc.to_millis(state.held_since_hlc)
