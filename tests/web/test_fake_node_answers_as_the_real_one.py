"""The web tests' fake node answers as the real node does, where the pages depend on it.

Why this exists: the browser tests run the front against a fake node (tests/web/fake_node.py)
because real nodes are slow to start; a fake that answered differently would let those tests
pass on behaviour no node has. So what the real node decides, the fake takes from the same
code: a standing's verdict and reason from ``core.odr.standing.judge`` put into the message by
the real edge, and a consumer's steps as ``core.ticket.consumer_progress`` selects them (the
ticket's own steps; the ODR steps only in the dispute's history). The real node itself is
driven through the same pages in test_odr_end_to_end.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.odr.standing import DEFAULT_ODR_THRESHOLDS, StandingFigures, judge
from core.ticket.consumer_progress import CONSUMER_EVENTS
from core.ticket.state import TicketStatus
from node.edge.enrolment import standing_message
from node.enrolment.supervision import UnitStanding
from proto.hotline.v1 import consumer_pb2, enrolment_pb2, odr_pb2
from tests.web.fake_node import ENTERPRISE_A, NAME_A, USER, FakeWorld, seeded_world
from tests.web.fake_servicers import FakeConsumer, FakeEnrolment, FakeOdr


class Call:
    """A call's context as the fakes read it: the bearer token of a session."""

    def __init__(self, token: str) -> None:
        self._token = token

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self._token}"),)


def signed_in(world: FakeWorld, **session: Any) -> Call:
    return Call(world.open_session(**session).token)


def as_judged(standing: odr_pb2.EnterpriseStanding) -> odr_pb2.EnterpriseStanding:
    """The standing the real node would answer for these figures (no poor period before)."""
    figures = StandingFigures(
        standing.credit_code,
        standing.period_start.ToMilliseconds(),
        standing.period_end.ToMilliseconds(),
        standing.received,
        standing.answered_in_time,
        standing.settled,
        standing.accepted,
        standing.converted,
    )
    judged = judge(figures, DEFAULT_ODR_THRESHOLDS, 0)
    return standing_message(UnitStanding(standing.enterprise_name, judged))


def test_the_fakes_verdicts_are_the_real_judgement_of_their_figures() -> None:
    world = seeded_world()
    officer = signed_in(world, principal="officer", officer_id="370102-01")
    answer = asyncio.run(
        FakeEnrolment(world).GetStandings(enrolment_pb2.GetStandingsRequest(), officer)
    )
    enterprise = signed_in(
        world,
        principal="enterprise",
        officer_id=USER,
        credit_code=ENTERPRISE_A,
        enterprise_name=NAME_A,
    )
    own = asyncio.run(FakeOdr(world).GetPerformance(odr_pb2.GetPerformanceRequest(), enterprise))
    standings = [*answer.standings, own]
    assert [s.verdict for s in standings] == [
        odr_pb2.STANDING_VERDICT_GOOD,
        odr_pb2.STANDING_VERDICT_WARNING,
        odr_pb2.STANDING_VERDICT_GOOD,
    ]
    assert standings == [as_judged(s) for s in standings]


def test_the_fake_tells_a_consumer_the_odr_steps_in_the_dispute_not_among_the_tickets() -> None:
    world = seeded_world()
    ticket_id = next(iter(world.disputes))
    consumer = signed_in(world, principal="consumer", ticket_id=ticket_id)
    progress = asyncio.run(
        FakeConsumer(world).FollowTicket(
            consumer_pb2.FollowTicketRequest(ticket_id=ticket_id), consumer
        )
    )
    told = {kind.__name__ for kind in CONSUMER_EVENTS}
    assert progress.steps and all(step.what in told for step in progress.steps)
    assert progress.status in TicketStatus.__members__
    assert [s.kind for s in progress.odr.history] == [odr_pb2.ODR_STEP_KIND_OPENED]
