"""Concurrent incompatible steps: who wins, and that every node agrees (DESIGN.md rule 2).

Two offline nodes can act on one ticket in ways that cannot both stand. The fold does not
re-judge signed facts and does not drop them: it puts the events in one order computed from
their content (causes first; among concurrent steps the higher level's, then the earlier
clock, then the smaller node id), applies the winner, and keeps the loser as a conflict that
puts the ticket *in conflict* for a supervisor. Every node holding the same events computes
the same state, whatever order and however often they arrived.

The property tests simulate real replicas: a shared history, then two or three nodes of
different levels acting offline with ``decide`` on whatever each holds, stamping their steps
as the log writer does, and passing events to each other now and then (whole holdings, or
one origin's chain at a time as replication streams them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import hlc
from core.errors import DomainError
from core.officers import Officer
from core.ticket import commands as c
from core.ticket.decisions import DecisionContext, decide
from core.ticket.events import EventMeta, RecordedEvent
from core.ticket.fold import (
    evolve,
    fold,
    fold_order,
    next_ticket_version,
    precedence,
    sorts_last,
)
from core.ticket.state import Stage, TicketState, TicketStatus
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
    CITY,
    HANDLER,
    HANDLER_AND_HEAD,
    HEAD,
    HUB,
    HUB_HEAD,
    HUB_SUPERVISOR,
    OTHER_HANDLER,
    OTHER_HEAD,
    STATION_OFFICER,
    History,
)

MINUTE = 60_000
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def offline(
    h: History,
    officer: Officer,
    command: c.TicketCommand,
    *,
    minutes: int,
    node: str = "",
    holding: list[RecordedEvent] | None = None,
) -> list[RecordedEvent]:
    """What a node holding ``holding`` (default: all of ``h``) records for ``command``.

    Stamped as the log writer does: version = events held (plus the ones of this command
    before it), clock ``minutes`` after the last event of ``h``. Nothing is added to ``h``.
    """
    node = node or h.node_of(officer)
    held = list(h.events if holding is None else holding)
    state = fold(h.ticket_id, held)
    seq = h.seqs.get(node, 0)
    at = max(h.last_hlc, hlc.from_millis(h.wall_ms + minutes * MINUTE))
    recorded = []
    for event in decide(state, command, officer, h.ctx):
        seq, at = seq + 1, at + 1
        meta = EventMeta(f"{node}-{seq}", h.ticket_id, node, seq, at, officer.ref(), state.version)
        one = RecordedEvent(meta, event)
        recorded.append(one)
        state = evolve(state, one)
    return recorded


def every_order(h: History, *steps: RecordedEvent) -> list[TicketState]:
    """The fold of the history plus ``steps`` in every arrival order of the steps and of
    the history's last events (the ones the steps race with)."""
    tail = h.events[-2:]
    head = h.events[:-2]
    return [fold(h.ticket_id, [*head, *order]) for order in itertools.permutations([*tail, *steps])]


def restamped(recorded: RecordedEvent, **meta: object) -> RecordedEvent:
    """The same event with some envelope facts changed (``hlc=``, ``ticket_version=``...)."""
    return RecordedEvent(replace(recorded.meta, **meta), recorded.event)  # type: ignore[arg-type]


def the_same(states: list[TicketState]) -> TicketState:
    first = states[0]
    assert all(s == first for s in states)
    return first


# The rule on examples ---------------------------------------------------------------------


@pytest.mark.parametrize("county_minutes", [5, 120], ids=["county-earlier", "county-later"])
def test_province_reroute_beats_concurrent_county_acceptance(county_minutes: int) -> None:
    # Chengguan (offline) accepts the complaint while the province, not having heard from it,
    # re-routes the same version of the ticket to Qilihe. Whoever's clock is earlier, the
    # province's decision stands; the acceptance is kept as a conflict for a supervisor.
    h = domain.routed()
    (reroute,) = offline(h, HUB, c.RouteTicket(to_unit="620103"), minutes=60)
    (accept,) = offline(h, HANDLER, c.AcceptComplaint("予以受理"), minutes=county_minutes)
    assert reroute.meta.ticket_version == accept.meta.ticket_version

    state = the_same(every_order(h, reroute, accept))

    assert state.holder_unit == "620103"
    assert state.status is TicketStatus.ROUTED
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None and complaint.stage is Stage.AWAITING_DECISION
    assert state.in_conflict
    assert [(x.event_id, x.event_type) for x in state.conflicts] == [
        (accept.meta.event_id, "ComplaintAccepted")
    ]
    assert state.conflicts[0].origin_node == "node-620102"
    assert state.version == len(h.events) + 2


@pytest.mark.parametrize("station_minutes", [5, 600], ids=["station-earlier", "station-later"])
def test_higher_level_wins_even_when_it_acted_later(station_minutes: int) -> None:
    # The station's laptop, offline in a township, ends mediation as settled; the county,
    # at the same version, records the consumer's withdrawal. The county's step stands.
    h = domain.accepted()
    h.do(HANDLER, c.AssignToStation("620102001"))
    (station,) = offline(
        h, STATION_OFFICER, c.EndMediation(MediationOutcome.SETTLED), minutes=station_minutes
    )
    (county,) = offline(h, HANDLER, c.EndMediation(MediationOutcome.WITHDRAWN), minutes=60)

    state = the_same(every_order(h, station, county))

    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None
    assert complaint.mediation_outcome is MediationOutcome.WITHDRAWN
    assert [x.event_id for x in state.conflicts] == [station.meta.event_id]


def test_equal_levels_resolved_by_clock_then_node() -> None:
    # Two nodes of the same level (here two county-level nodes of Chengguan) decide the same
    # version differently: the earlier clock wins; on equal clocks, the smaller node id.
    h = domain.routed()

    def race(accept_at: int, refuse_at: int) -> TicketState:
        (accept,) = offline(h, HANDLER, c.AcceptComplaint(), minutes=0, node="node-b")
        (refuse,) = offline(
            h,
            HEAD,
            c.RefuseComplaint(RefusalGround.MISSING_FACTS, "要素缺失"),
            minutes=0,
            node="node-a",
        )
        accept = restamped(accept, hlc=accept_at)
        refuse = restamped(refuse, hlc=refuse_at)
        return the_same(every_order(h, accept, refuse))

    top = h.last_hlc
    earlier_accept = race(top + 1, top + 2)
    assert earlier_accept.track(Track.COMPLAINT).stage is Stage.MEDIATING  # type: ignore[union-attr]
    assert [x.event_type for x in earlier_accept.conflicts] == ["ComplaintRefused"]

    earlier_refuse = race(top + 2, top + 1)
    assert earlier_refuse.track(Track.COMPLAINT).stage is Stage.REFUSED  # type: ignore[union-attr]
    assert [x.event_type for x in earlier_refuse.conflicts] == ["ComplaintAccepted"]

    tie = race(top + 1, top + 1)  # same clock: node-a (the refusal) before node-b
    assert tie.track(Track.COMPLAINT).stage is Stage.REFUSED  # type: ignore[union-attr]
    assert [x.origin_node for x in tie.conflicts] == ["node-b"]


def test_concurrency_is_recognised_by_clock_when_versions_differ() -> None:
    # The station's laptop synced (4 events) and went offline. The county then paused and
    # resumed mediation, the province saw both and re-routed the ticket to Qilihe. Two days
    # later the laptop, still offline, ends mediation at version 4. Its version is lower than
    # the county's resume, but its clock is later than everything the province built on: it
    # saw none of it. So the higher levels' steps stand and the station's is the conflict
    # (ordering by version first would have judged it before the resume and made the resume,
    # which the province had seen, the conflict).
    h = domain.accepted()
    h.do(HANDLER, c.AssignToStation("620102001"))
    laptop = list(h.events)
    h.advance(minutes=10)
    h.do(HANDLER, c.PauseMediation("送检"))
    h.advance(minutes=10)
    h.do(HANDLER, c.ResumeMediation())
    h.advance(minutes=10)
    h.do(HUB, c.RouteTicket(to_unit="620103", note="改派"))
    (ended,) = offline(
        h,
        STATION_OFFICER,
        c.EndMediation(MediationOutcome.SETTLED),
        minutes=2 * 24 * 60,
        holding=laptop,
    )
    assert ended.meta.ticket_version == 4 < h.events[-2].meta.ticket_version

    state = fold(h.ticket_id, [*h.events, ended])

    assert state == fold(h.ticket_id, [ended, *reversed(h.events)])
    assert state.holder_unit == "620103"
    assert [x.event_id for x in state.conflicts] == [ended.meta.event_id]
    assert [e.meta.event_id for e in fold_order([*h.events, ended])][-1] == ended.meta.event_id


def test_a_step_on_a_partial_history_still_follows_the_step_it_answered() -> None:
    # A child can hold only part of a ticket's history (downward replication is filtered):
    # here Chengguan holds the registration and the province's second routing (version 4),
    # not the first routing to Qilihe and Qilihe's return. It accepts, stamped at version 2
    # (it holds two events): below the routing it answered. The fold still puts the
    # acceptance after that routing, which is from a higher level and has an earlier clock.
    h = domain.routed(domain.draft())
    h.do(HUB, c.RouteTicket(to_unit="620103"))
    h.do(OTHER_HANDLER, c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本局"))
    h.do(HUB, c.RouteTicket(to_unit="620102"))
    held = [h.events[0], h.events[-1]]
    child = fold(h.ticket_id, held)
    assert child.holder_unit == "620102" and child.highest_ticket_version == 4

    (accept,) = offline(h, HANDLER, c.AcceptComplaint(), minutes=30, holding=held)
    assert accept.meta.ticket_version == 2

    # The writer may not evolve here (the step does not sort last by version): it refolds.
    assert not sorts_last(child, accept)
    for holding in (held, h.events):
        state = fold(h.ticket_id, [*holding, accept])
        assert state.conflicts == ()
        assert state.track(Track.COMPLAINT).stage is Stage.MEDIATING  # type: ignore[union-attr]

    # Stamped with next_ticket_version the same step sorts last and evolving is exact.
    assert next_ticket_version(child) == 5
    again = restamped(accept, ticket_version=next_ticket_version(child))
    assert sorts_last(child, again)
    assert evolve(child, again) == fold(h.ticket_id, [*held, again])


def test_a_fresh_step_on_the_whole_history_sorts_last_and_an_older_one_does_not() -> None:
    h = domain.accepted()
    state = h.state
    assert next_ticket_version(state) == state.version == len(h.events)
    (fresh,) = offline(h, HANDLER, c.PauseMediation("鉴定"), minutes=1)
    assert sorts_last(state, fresh)
    assert evolve(state, fresh) == fold(h.ticket_id, [*h.events, fresh])

    # A replicated step recorded before the last event held (a concurrent one) does not.
    stale = restamped(fresh, hlc=h.events[-1].meta.hlc - 1)
    assert not sorts_last(state, stale)
    # Nor does anything when the state's bookkeeping is unknown (decoded from a message).
    assert replace(state).highest_ticket_version is None
    assert not sorts_last(replace(state), fresh)


def test_a_fork_of_one_origin_sequence_is_ordered_alike_everywhere() -> None:
    # A node that equivocates signs two different events with one sequence number and one
    # clock value; both are facts here (the parent reports the fork). The order still does
    # not depend on arrival: the event id settles the last tie.
    h = domain.routed()
    (accept,) = offline(h, HANDLER, c.AcceptComplaint(), minutes=1, node="node-x")
    (refuse,) = offline(
        h,
        HANDLER,
        c.RefuseComplaint(RefusalGround.TIME_BARRED, "超过三年"),
        minutes=1,
        node="node-x",
    )
    fork = restamped(refuse, event_id="node-x-1-fork", hlc=accept.meta.hlc)
    assert fork.meta.origin_seq == accept.meta.origin_seq
    state = the_same(every_order(h, accept, fork))
    assert [x.event_id for x in state.conflicts] == ["node-x-1-fork"]


# Replicas acting offline ------------------------------------------------------------------

COMMANDS: list[c.TicketCommand] = [
    c.RouteTicket(),
    c.RouteTicket(to_unit="620103"),
    c.RouteTicket(to_unit="620102"),
    c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, "不属本职"),
    c.AcceptComplaint(),
    c.RefuseComplaint(RefusalGround.TIME_BARRED, "超过三年"),
    c.AssignToStation("620102001"),
    c.PauseMediation("送检"),
    c.ResumeMediation(),
    c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=9_900),
    c.EndMediation(
        MediationOutcome.TERMINATED, termination_reason=TerminationReason.PARTY_ABSENT_OR_REFUSES
    ),
    c.VerifyReport(Finding.SUBSTANTIATED, "现场检查"),
    c.VerifyReport(Finding.NOT_SUBSTANTIATED, "未发现问题"),
    c.OpenCase("立〔2026〕1号"),
    c.SubmitResult(Track.COMPLAINT, "已调解"),
    c.SubmitResult(Track.REPORT, "已核查"),
    c.ApproveResult(Track.COMPLAINT),
    c.ApproveResult(Track.REPORT),
    c.RejectResult(Track.COMPLAINT, "材料不全"),
    c.RejectResult(Track.REPORT, "材料不全"),
    c.AnswerInquiry("已答复"),
    c.RecordCallback(Satisfaction.DISSATISFIED),
    c.RecordCallback(Satisfaction.SATISFIED),
]

NODES: dict[str, tuple[Officer, ...]] = {
    "node-620000": (HUB, HUB_SUPERVISOR, HUB_HEAD),  # province hub
    "node-620100": (CITY,),  # Lanzhou city
    "node-620102": (HANDLER, HEAD, HANDLER_AND_HEAD),  # Chengguan county
    "node-620102001": (STATION_OFFICER,),  # a station's laptop
    "node-620103": (OTHER_HANDLER, OTHER_HEAD),  # Qilihe county
}
ALL_OFFICERS = tuple(o for officers in NODES.values() for o in officers)


def allowed(
    state: TicketState, officers: tuple[Officer, ...], ctx: DecisionContext
) -> list[tuple[Officer, c.TicketCommand]]:
    """Every (officer, command) that ``decide`` accepts on ``state``."""
    moves = []
    for officer, command in itertools.product(officers, COMMANDS):
        try:
            decide(state, command, officer, ctx)
        except DomainError:
            continue
        moves.append((officer, command))
    return moves


def pick(
    draw: Callable[..., Any], moves: list[tuple[Officer, c.TicketCommand]]
) -> tuple[Officer, c.TicketCommand]:
    """One of ``moves``; re-routing is nearly always allowed, so take it only now and then."""
    onward = [m for m in moves if not isinstance(m[1], c.RouteTicket)]
    pool = onward if onward and draw(st.integers(0, 4)) > 0 else moves
    move: tuple[Officer, c.TicketCommand] = draw(st.sampled_from(pool))
    return move


@dataclass
class Replica:
    """One node: its officers, its clock (maybe skewed) and the events it holds."""

    node: str
    officers: tuple[Officer, ...]
    skew_ms: int
    held: dict[str, RecordedEvent]
    clock: int
    seq: int


@dataclass
class Step:
    """One event recorded by a replica: the state it was recorded on and the refold after."""

    before: TicketState
    recorded: RecordedEvent
    after: TicketState


@dataclass
class Network:
    """A ticket's shared history and the replicas that went on from it."""

    ticket_id: str
    ctx: DecisionContext
    wall_ms: int
    replicas: list[Replica]
    stamp: Callable[[TicketState], int]
    saw: dict[str, frozenset[str]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    def act(self, replica: Replica, officer: Officer, command: c.TicketCommand) -> None:
        """Decide ``command`` on what the replica holds and record it as the writer does."""
        state = fold(self.ticket_id, replica.held.values())
        for event in decide(state, command, officer, self.ctx):
            replica.clock = hlc.tick(replica.clock, self.wall_ms + replica.skew_ms)
            replica.seq += 1
            meta = EventMeta(
                f"{self.ticket_id}-{replica.node}-{replica.seq}",
                self.ticket_id,
                replica.node,
                replica.seq,
                replica.clock,
                officer.ref(),
                self.stamp(state),
            )
            recorded = RecordedEvent(meta, event)
            self.saw[meta.event_id] = frozenset(replica.held)
            replica.held[meta.event_id] = recorded
            after = fold(self.ticket_id, replica.held.values())
            self.steps.append(Step(state, recorded, after))
            state = after

    def deliver(self, source: Replica, target: Replica, origin: str | None) -> None:
        """``target`` receives what ``source`` holds (only ``origin``'s chain, if given)."""
        new = [
            e
            for e in source.held.values()
            if e.meta.event_id not in target.held and origin in (None, e.meta.origin_node)
        ]
        if not new:
            return
        for e in new:
            target.held[e.meta.event_id] = e
        latest = max(e.meta.hlc for e in new)
        target.clock = hlc.observe(target.clock, latest, self.wall_ms + target.skew_ms)

    def everything(self) -> dict[str, RecordedEvent]:
        """Every event any replica holds."""
        return {k: v for r in self.replicas for k, v in r.held.items()}


def _count(state: TicketState) -> int:
    return state.version


@st.composite
def networks(
    draw: st.DrawFn,
    *,
    chains: bool = False,
    stamp: Callable[[TicketState], int] = _count,
) -> Network:
    """A shared history, then replicas acting offline and now and then passing events on.

    ``chains``: pass one origin's chain at a time (holdings need not be causally closed)
    instead of everything held. ``stamp``: how a step's ticket_version is chosen (the number
    of events held, as the writer does today, or ``next_ticket_version``).
    """
    kind = draw(st.sampled_from(list(TicketKind)))
    h = History.registered(HUB, domain.draft(kind, incident_region="620102"))
    if draw(st.integers(0, 4)) > 0:
        h.do(HUB, c.RouteTicket())  # usually the ticket is already out at Chengguan
    for _ in range(draw(st.integers(0, 5))):
        moves = allowed(h.state, ALL_OFFICERS, h.ctx)
        if not moves:
            break
        h.advance(minutes=draw(st.sampled_from([1, 60])))
        h.do(*pick(draw, moves))

    others = [n for n in NODES if n != "node-620102"]
    chosen = [
        "node-620102",
        *draw(st.lists(st.sampled_from(others), min_size=1, max_size=2, unique=True)),
    ]
    replicas = [
        Replica(
            node,
            NODES[node],
            draw(st.sampled_from([0, -90 * MINUTE, 20 * MINUTE])),
            {e.meta.event_id: e for e in h.events},
            h.last_hlc,
            h.seqs.get(node, 0),
        )
        for node in chosen
    ]
    net = Network(h.ticket_id, h.ctx, h.wall_ms, replicas, stamp)
    known: dict[tuple[str, int], list[tuple[Officer, c.TicketCommand]]] = {}

    def moves_of(r: Replica) -> list[tuple[Officer, c.TicketCommand]]:
        # A replica's holdings only grow, so their size names them.
        key = (r.node, len(r.held))
        if key not in known:
            known[key] = allowed(fold(net.ticket_id, r.held.values()), r.officers, net.ctx)
        return known[key]

    for _ in range(draw(st.integers(3, 14))):
        net.wall_ms += draw(st.sampled_from([0, MINUTE, 60 * MINUTE, 24 * 60 * MINUTE]))
        able = [(r, moves) for r in replicas if (moves := moves_of(r))]
        if able and draw(st.integers(0, 3)) > 0:
            replica, moves = draw(st.sampled_from(able))
            net.act(replica, *pick(draw, moves))
            continue
        source, target = draw(st.permutations(replicas))[:2]
        news = {e.meta.origin_node for k, e in source.held.items() if k not in target.held}
        if news:
            net.deliver(source, target, draw(st.sampled_from(sorted(news))) if chains else None)
    return net


def delivered_everything(net: Network, data: st.DataObject) -> list[list[RecordedEvent]]:
    """For each replica: what it holds, then what it lacks, with duplicates, in random order."""
    everything = list(net.everything().values())
    arrivals = []
    for replica in net.replicas:
        missing = [e for k, e in net.everything().items() if k not in replica.held]
        again = data.draw(st.lists(st.sampled_from(everything), max_size=4))
        arrivals.append(data.draw(st.permutations([*replica.held.values(), *missing, *again])))
    return arrivals


@PROPERTY
@given(net=networks(), data=st.data())
def test_replicas_holding_the_same_events_fold_the_same_state(
    net: Network, data: st.DataObject
) -> None:
    states = [fold(net.ticket_id, arrived) for arrived in delivered_everything(net, data)]
    first = states[0]
    assert all(s == first for s in states)
    assert all(s.highest_ticket_version == first.highest_ticket_version for s in states)
    assert first.version == len(net.everything())


@PROPERTY
@given(net=networks(chains=True), data=st.data())
def test_replicas_fed_chain_by_chain_also_converge(net: Network, data: st.DataObject) -> None:
    arrivals = delivered_everything(net, data)
    orders = [[e.meta.event_id for e in fold_order(arrived)] for arrived in arrivals]
    assert all(order == orders[0] for order in orders)
    states = [fold(net.ticket_id, arrived) for arrived in arrivals]
    assert all(s == states[0] for s in states)


@PROPERTY
@given(net=networks(chains=True))
def test_no_signed_event_is_dropped(net: Network) -> None:
    everything = net.everything()
    state = TicketState(net.ticket_id)
    applied: list[str] = []
    for recorded in fold_order(everything.values()):
        after = evolve(state, recorded)
        if len(after.conflicts) == len(state.conflicts):
            applied.append(recorded.meta.event_id)
        else:
            assert after.conflicts[-1].event_id == recorded.meta.event_id
        state = after
    conflicted = [x.event_id for x in state.conflicts]
    assert sorted(applied + conflicted) == sorted(everything)
    assert state == fold(net.ticket_id, everything.values())
    assert state.version == len(everything)
    assert state.in_conflict == bool(conflicted)


@pytest.mark.parametrize(
    ("chains", "stamp"),
    [(False, _count), (True, next_ticket_version)],
    ids=["whole-holdings-counted", "chains-next-ticket-version"],
)
@PROPERTY
@given(data=st.data())
def test_every_step_is_folded_after_everything_its_node_held(
    chains: bool, stamp: Callable[[TicketState], int], data: st.DataObject
) -> None:
    net = data.draw(networks(chains=chains, stamp=stamp))
    order = [e.meta.event_id for e in fold_order(net.everything().values())]
    position = {event_id: i for i, event_id in enumerate(order)}
    for event_id, held in net.saw.items():
        assert all(position[cause] < position[event_id] for cause in held)


def _evolving_is_exact_where_allowed(
    state: TicketState, recorded: RecordedEvent, refolded: TicketState
) -> bool:
    """Check the writer's shortcut; returns what ``sorts_last`` said."""
    if not sorts_last(state, recorded):
        return False
    evolved = evolve(state, recorded)
    assert evolved == refolded
    assert evolved.highest_ticket_version == refolded.highest_ticket_version
    return True


@pytest.mark.parametrize(
    ("chains", "stamp"),
    [(False, _count), (True, _count), (True, next_ticket_version)],
    ids=["whole-holdings-counted", "chains-counted", "chains-next-ticket-version"],
)
@PROPERTY
@given(data=st.data())
def test_evolving_where_sorts_last_says_so_equals_refolding(
    chains: bool, stamp: Callable[[TicketState], int], data: st.DataObject
) -> None:
    net = data.draw(networks(chains=chains, stamp=stamp))
    for step in net.steps:
        last = _evolving_is_exact_where_allowed(step.before, step.recorded, step.after)
        if stamp is next_ticket_version or not chains:
            # Stamped so (or holding whole histories), a node's own new step always sorts last.
            assert last
    # Replicated events, often concurrent with what a replica holds, one at a time.
    everything = net.everything()
    for replica in net.replicas:
        state = fold(net.ticket_id, replica.held.values())
        for event_id, recorded in everything.items():
            if event_id not in replica.held:
                refolded = fold(net.ticket_id, [*replica.held.values(), recorded])
                _evolving_is_exact_where_allowed(state, recorded, refolded)


@PROPERTY
@given(net=networks(), data=st.data())
def test_of_two_concurrent_single_steps_the_first_by_precedence_stands(
    net: Network, data: st.DataObject
) -> None:
    # Two nodes, holding the same events, each take one step without hearing of the other's.
    # The step of the higher level (then earlier clock, then smaller node id) is applied
    # first; if the two cannot both stand, it is the other one that becomes the conflict.
    everything = list(net.everything().values())
    base = fold(net.ticket_id, everything)
    able = []
    for node, officers in NODES.items():
        single = [
            m
            for m in allowed(base, officers, net.ctx)
            if not isinstance(m[1], c.RecordCallback)  # may be two events
        ]
        if single:
            able.append((node, single))
    if len(able) < 2:
        return
    steps = []
    for node, moves in data.draw(st.permutations(able))[:2]:
        officer, command = pick(data.draw, moves)
        (event,) = decide(base, command, officer, net.ctx)
        at = base.last_hlc + data.draw(st.integers(1, 3))
        meta = EventMeta(
            f"race-{node}", net.ticket_id, node, 1_000, at, officer.ref(), base.version
        )
        steps.append(RecordedEvent(meta, event))
    winner, loser = sorted(steps, key=precedence)

    state = fold(net.ticket_id, data.draw(st.permutations([*everything, *steps])))

    assert state == evolve(fold(net.ticket_id, [*everything, winner]), loser)
    new_conflicts = [x.event_id for x in state.conflicts[len(base.conflicts) :]]
    assert winner.meta.event_id not in new_conflicts
    assert new_conflicts in ([], [loser.meta.event_id])
    assert state.version == base.version + 2
