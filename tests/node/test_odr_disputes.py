"""An ODR dispute from the centre's phone to the enterprise's portal and back (issue 13, item 2).

The province's centre registers a complaint against a Chengguan gym enrolled in the ODR green
channel; the consumer chooses the channel, so the ticket goes straight to Chengguan's node,
where the gym's staff sign in and work it through OdrService. The consumer answers on the node
that registered the ticket (ConsumerService calls ``OdrDesk.answer_proposal``; here the desk is
called directly). Settled, the ticket is closed at every level; rejected or left unanswered on
the drill clock, it becomes a complaint at the competent county with its ODR history. Another
enterprise asking for the gym's dispute is refused and recorded.
"""

from __future__ import annotations

import time as real_time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from core.access.principals import CONSUMER_PRINCIPAL, Principal, PrincipalKind
from core.errors import NotPermitted, StepNotAllowed
from core.odr.dispute import ConversionReason, DisputeStatus, OdrStepKind
from core.odr.roster import ApplicantKind, OdrRoster, RosterEntry, Standing
from core.odr.standing import DisputeOutcome
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import Duty, PersonalField, Track
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.desks.odr import OdrCaller
from node.devnet.samples import GYM, demo_tickets
from node.edge.client import CallError, NodeClient
from node.views.odr import dispute_message
from proto.hotline.v1 import consumer_pb2 as cp
from proto.hotline.v1 import intake_pb2, odr_pb2
from sync.codec import from_message, to_message
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.signin import code_at, reasons
from tests.helpers.world import World, spec, sweep

OTHER_CREDIT = "91620102MA74CD3E5Q"
PASSWORD = "Gym-owner-2027-ok"
ROSTER = OdrRoster.of(
    1,
    [
        RosterEntry(
            GYM.credit_code, GYM.name, ApplicantKind.ENTERPRISE, "620102", Standing.ENROLLED, 0
        ),
        RosterEntry(
            OTHER_CREDIT, "兰州某商场", ApplicantKind.MALL_DESK, "620102", Standing.ENROLLED, 0
        ),
    ],
)


@dataclass
class Channel:
    """The line province-city-Chengguan-Qilihe on a hand-moved clock, the roster in force."""

    world: World
    time: HandMovedTime

    def register(self, *, green: bool = True, operating: str = "620102") -> str:
        command = dict(demo_tickets())["gym"]
        command = replace(command, respondent=replace(GYM, operating_region=operating))
        ticket = to_message(command, intake_pb2.NewTicket)
        ticket.odr_green_channel = green
        with self.world.officer("province") as centre:
            return centre.register(uuid.uuid4().hex, ticket).ticket_id

    def enterprise(self, credit: str, user: str) -> NodeClient:
        """A client of Chengguan signed in as a new user of the enterprise ``credit``."""
        node = self.world["chengguan"]
        with node.admin() as admin:
            added = admin.add_enterprise_user(
                credit, user, "张经理", PASSWORD, enterprise_name="兰州某企业"
            )
        client = node.client()
        now_ms = int(real_time.time() * 1000)
        client.enterprise_sign_in(credit, user, PASSWORD, code_at(added.totp_secret, now_ms))
        return client

    def answer(self, ticket_id: str, accept: bool, reason: str = "") -> odr_pb2.Dispute:
        """The consumer's answer on the province's node, as ConsumerService gives it."""
        node = self.world["province"]
        caller = OdrCaller(Principal(PrincipalKind.CONSUMER, CONSUMER_PRINCIPAL, ticket_id))
        answered = node.run(node.node.odr.answer_proposal(caller, ticket_id, accept, reason))
        assert isinstance(answered, odr_pb2.Dispute)
        return answered

    def state(self, name: str, ticket_id: str) -> TicketState:
        with self.world.officer(name) as officer:
            return from_message(TicketState, officer.get(ticket_id))


@pytest.fixture
def channel(world: World) -> Iterator[Channel]:
    time = HandMovedTime(china("2026-12-01", 10))  # a Tuesday
    for name in ("province", "city", "chengguan", "qilihe"):
        world.start(spec(name), clock=Clock(_real=time))
        world[name].node.intake.odr_roster = lambda conn: ROSTER
    yield Channel(world, time)


def _stamp(hour: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(china("2026-12-01", hour))
    return stamp


def _negotiate(gym: NodeClient, ticket_id: str) -> None:
    gym.call(
        "OdrService",
        "RecordContact",
        odr_pb2.RecordContactRequest(
            ticket_id=ticket_id,
            method=odr_pb2.CONTACT_METHOD_PHONE,
            contacted_at=_stamp(9),
            result="已电话联系消费者，同意协商退款",
        ),
    )
    gym.call(
        "OdrService",
        "ProposeSettlement",
        odr_pb2.ProposeSettlementRequest(
            ticket_id=ticket_id, terms="退还余额2800元", amount_fen=280_000
        ),
    )


def odr(client: NodeClient, method: str, request: Message) -> Any:
    """Call OdrService's ``method`` as the client's session."""
    return client.call("OdrService", method, request)


def test_a_settled_dispute_is_closed_at_every_level(channel: Channel) -> None:
    ticket_id = channel.register()
    channel.world.sync("city", "chengguan")
    with channel.enterprise(GYM.credit_code, "desk1") as gym:
        listed = odr(gym, "ListDisputes", odr_pb2.ListDisputesRequest())
        assert [d.ticket_id for d in listed.disputes] == [ticket_id]
        assert listed.disputes[0].working_days_left == 10
        shown = odr(gym, "GetDispute", odr_pb2.GetDisputeRequest(ticket_id=ticket_id))
        assert (shown.consumer_phone, shown.contact_masked) == ("13909310001", False)
        _negotiate(gym, ticket_id)
    held = channel.state("chengguan", ticket_id)
    assert held.dispute is not None
    signed_by = [(s.by, s.by_name) for s in held.dispute.steps if s.kind is OdrStepKind.CONTACT]
    assert signed_by == [(f"enterprise:{GYM.credit_code}:desk1", "张经理")]  # as signed in
    looks = held.reveals
    assert {(r.field, r.officer_id) for r in looks} == {
        (PersonalField.NAME, f"enterprise:{GYM.credit_code}:desk1"),
        (PersonalField.PHONE, f"enterprise:{GYM.credit_code}:desk1"),
    }
    channel.world.sync("chengguan", "city")
    assert channel.answer(ticket_id, True).status == odr_pb2.DISPUTE_STATUS_SETTLED
    channel.world.sync("city", "chengguan")
    for name in ("province", "city", "chengguan"):
        state = channel.state(name, ticket_id)
        assert state.status is TicketStatus.CLOSED, name
        assert state.dispute is not None and state.dispute.status is DisputeStatus.SETTLED, name
        assert not state.in_conflict, name
    with channel.enterprise(GYM.credit_code, "boss") as gym:
        figures = odr(gym, "GetPerformance", odr_pb2.GetPerformanceRequest())
        shown = odr(gym, "GetDispute", odr_pb2.GetDisputeRequest(ticket_id=ticket_id))
    assert (figures.received, figures.answered_in_time, figures.settled) == (1, 1, 1)
    assert (figures.accepted, figures.converted) == (1, 0)
    assert shown.contact_masked and shown.consumer_phone == "139****0001"  # ended: masked
    (facts,) = channel.world["chengguan"].node.odr.disputes_opened(0, 2**62)
    assert (facts.ticket_id, facts.outcome, facts.accepted) == (
        ticket_id,
        DisputeOutcome.SETTLED,
        True,
    )
    assert 0 < facts.opened_ms <= facts.answered_ms <= facts.due_ms  # the clock stands still


def test_a_rejected_proposal_becomes_a_complaint_at_the_competent_county_with_its_history(
    channel: Channel,
) -> None:
    ticket_id = channel.register(operating="620103")  # its Qilihe shop; enrolled at Chengguan
    channel.world.sync("city", "chengguan")
    with channel.enterprise(GYM.credit_code, "desk2") as gym:
        _negotiate(gym, ticket_id)
    channel.world.sync("chengguan", "city")
    answered = channel.answer(ticket_id, False, "金额不足，要求全额退款")
    assert answered.status == odr_pb2.DISPUTE_STATUS_CONVERTED
    assert answered.converted_to_unit == "620103"
    channel.world.sync("city", "qilihe")
    state = channel.state("qilihe", ticket_id)
    assert state.holder_unit == "620103" and state.status is TicketStatus.ROUTED
    assert state.dispute is not None
    assert state.dispute.conversion is ConversionReason.REJECTED
    kinds = [s.kind.value for s in state.dispute.steps]
    assert kinds == ["opened", "contact", "proposal", "answer", "converted"]
    with channel.world.officer("qilihe") as handler:
        owed = handler.deadlines(ticket_id).deadlines
    assert [(d.duty, d.unit_code) for d in owed] == [(Duty.DECIDE_ACCEPTANCE.value, "620103")]


def test_a_dispute_left_unsettled_past_the_limit_is_converted_by_the_county_sweep(
    channel: Channel,
) -> None:
    ticket_id = channel.register()
    channel.world.sync("city", "chengguan")
    county = channel.world["chengguan"]
    with channel.world.officer("chengguan") as handler:
        queue = handler.queue(due_within_days=10)
    queued = [(e.ticket_id, e.duty) for e in [*queue.due_soon, *queue.later]]
    assert queued == [(ticket_id, Duty.ODR_ANSWER.value)]
    # Opened Tuesday 12-01: ten working days end with Tuesday 12-15.
    channel.time.set(china("2026-12-15", 23))
    sweep(county)
    assert channel.state("chengguan", ticket_id).dispute.open  # type: ignore[union-attr]
    channel.time.set(china("2026-12-16", 1))
    assert sweep(county) == 1
    state = channel.state("chengguan", ticket_id)
    assert state.dispute is not None
    assert state.dispute.conversion is ConversionReason.NO_ANSWER_IN_TIME
    assert state.holder_unit == "620102" and state.status is TicketStatus.ROUTED
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None
    with channel.world.officer("chengguan") as handler:
        owed = handler.deadlines(ticket_id).deadlines
    assert [d.duty for d in owed] == [Duty.DECIDE_ACCEPTANCE.value]
    assert owed[0].started_ms // 1000 == int(china("2026-12-16", 1).timestamp())


def test_an_enterprise_asking_for_another_enterprises_dispute_is_refused_and_recorded(
    channel: Channel,
) -> None:
    ticket_id = channel.register()
    channel.world.sync("city", "chengguan")
    county = channel.world["chengguan"]
    version = channel.state("chengguan", ticket_id).version
    with channel.enterprise(OTHER_CREDIT, "mall1") as other:
        asks: list[tuple[str, Message]] = [
            ("GetDispute", odr_pb2.GetDisputeRequest(ticket_id=ticket_id)),
            (
                "ProposeSettlement",
                odr_pb2.ProposeSettlementRequest(ticket_id=ticket_id, terms="退款", amount_fen=1),
            ),
        ]
        for method, request in asks:
            with pytest.raises(CallError) as refused:
                odr(other, method, request)
            assert refused.value.code == "PERMISSION_DENIED"
            assert reasons(county)[-1] == "call/refused/outside-jurisdiction"
        assert list(odr(other, "ListDisputes", odr_pb2.ListDisputesRequest()).disputes) == []
    assert channel.state("chengguan", ticket_id).version == version


def test_an_officer_cannot_call_the_enterprise_service(channel: Channel) -> None:
    county = channel.world["chengguan"]
    with channel.world.officer("chengguan") as handler, pytest.raises(CallError) as refused:
        odr(handler, "ListDisputes", odr_pb2.ListDisputesRequest())
    assert refused.value.code == "PERMISSION_DENIED"
    assert reasons(county)[-1] == "call/refused/missing-role"


def test_the_green_channel_is_refused_for_an_enterprise_not_on_the_roster(channel: Channel) -> None:
    channel.world["province"].node.intake.odr_roster = lambda conn: OdrRoster()
    with pytest.raises(CallError) as refused:
        channel.register()
    assert refused.value.code == "INVALID_ARGUMENT"
    assert refused.value.message.startswith("ticket.odr_green_channel")


def test_bad_input_is_refused_naming_the_field_and_writes_nothing(channel: Channel) -> None:
    ticket_id = channel.register()
    channel.world.sync("city", "chengguan")
    version = channel.state("chengguan", ticket_id).version
    with channel.enterprise(GYM.credit_code, "desk3") as gym:
        future = Timestamp()
        future.FromDatetime(china("2026-12-02", 9))
        bad = [
            odr_pb2.ProposeSettlementRequest(ticket_id=ticket_id, terms="  ", amount_fen=100),
            odr_pb2.RecordContactRequest(
                ticket_id=ticket_id,
                method=odr_pb2.CONTACT_METHOD_PHONE,
                contacted_at=future,
                result="约好明天见面",
            ),
            odr_pb2.CloseDisputeRequest(ticket_id=ticket_id, note="撤回"),
        ]
        fields = []
        for request in bad:
            method = type(request).__name__.removesuffix("Request")
            with pytest.raises(CallError) as refused:
                odr(gym, method, request)
            assert refused.value.code == "INVALID_ARGUMENT"
            fields.append(refused.value.message.split(":")[0])
        assert fields == ["terms", "contacted_at", "reason"]
        later, earlier = Timestamp(), Timestamp()
        later.FromDatetime(china("2026-12-01", 9))
        earlier.FromDatetime(china("2026-11-01", 9))
        asks: list[tuple[str, Message, str]] = [
            ("ListDisputes", odr_pb2.ListDisputesRequest(page_size=500), "page_size"),
            ("ListDisputes", odr_pb2.ListDisputesRequest(page_token="?"), "page_token"),
            ("GetDispute", odr_pb2.GetDisputeRequest(ticket_id=""), "ticket_id"),
            (
                "GetPerformance",
                odr_pb2.GetPerformanceRequest(period_start=later, period_end=earlier),
                "period_start",
            ),
        ]
        for method, request, field in asks:
            with pytest.raises(CallError) as refused:
                odr(gym, method, request)
            assert refused.value.code == "INVALID_ARGUMENT", method
            assert refused.value.message.startswith(field), refused.value.message
    assert channel.state("chengguan", ticket_id).version == version


def test_the_consumer_answers_only_their_own_ticket_and_only_a_pending_proposal(
    channel: Channel,
) -> None:
    ticket_id = channel.register()
    other_id = channel.register()
    node = channel.world["province"]
    stranger = OdrCaller(Principal(PrincipalKind.CONSUMER, CONSUMER_PRINCIPAL, other_id))
    before = len(reasons(node))
    with pytest.raises(NotPermitted):
        node.run(node.node.odr.answer_proposal(stranger, ticket_id, True, ""))
    assert reasons(node, 0)[before:] == ["call/refused/outside-jurisdiction"]
    with pytest.raises(StepNotAllowed, match="no settlement awaits"):
        channel.answer(ticket_id, True)  # nothing proposed yet
    assert channel.state("province", ticket_id).dispute.steps[-1].kind.value == "opened"  # type: ignore[union-attr]


def test_the_consumer_sees_the_dispute_as_the_enterprise_left_it_with_the_contact_masked(
    channel: Channel,
) -> None:
    ticket_id = channel.register()
    channel.world.sync("city", "chengguan")
    with channel.enterprise(GYM.credit_code, "desk4") as gym:
        _negotiate(gym, ticket_id)
    channel.world.sync("chengguan", "city")
    state = channel.state("province", ticket_id)
    shown = dispute_message(state, now_ms=int(china("2026-12-01", 12).timestamp() * 1000))
    assert shown.status == odr_pb2.DISPUTE_STATUS_PROPOSED
    assert (shown.proposal_terms, shown.proposal_amount_fen) == ("退还余额2800元", 280_000)
    assert shown.contact_masked and not shown.consumer_phone
    assert [s.kind for s in shown.history] == [
        odr_pb2.ODR_STEP_KIND_OPENED,
        odr_pb2.ODR_STEP_KIND_CONTACT,
        odr_pb2.ODR_STEP_KIND_PROPOSAL,
    ]


def test_officers_follow_the_counties_disputes_on_the_command_line(
    channel: Channel, capsys: pytest.CaptureFixture[str]
) -> None:
    ticket_id = channel.register()
    channel.world.sync("city", "chengguan")
    with channel.enterprise(GYM.credit_code, "desk5") as gym:
        _negotiate(gym, ticket_id)
    flags = channel.world["chengguan"].cli("620102-07")
    capsys.readouterr()
    assert hotline(["odr", "disputes", *flags]) == 0
    listed = capsys.readouterr().out
    assert "ODR disputes (在线消费纠纷): 1" in listed
    assert ticket_id in listed and "proposed 待消费者确认" in listed and "2026-12-15" in listed
    assert hotline(["odr", "dispute", ticket_id, *flags]) == 0
    shown = capsys.readouterr().out
    assert "proposal 和解方案: 退还余额2800元" in shown
    assert "contact 协商联系  by 张经理  phone 电话" in shown


def test_the_consumer_follows_and_accepts_on_their_page(channel: Channel) -> None:
    command = dict(demo_tickets())["gym"]
    ticket = to_message(command, intake_pb2.NewTicket)
    ticket.odr_green_channel = True
    with channel.world.officer("province") as centre:
        registered = centre.register(uuid.uuid4().hex, ticket)
    ticket_id, code = registered.ticket_id, registered.consumer_code
    channel.world.sync("city", "chengguan")
    with channel.enterprise(GYM.credit_code, "desk6") as gym:
        _negotiate(gym, ticket_id)
    channel.world.sync("chengguan", "city")
    with channel.world["province"].client() as page:
        page.consumer_sign_in(ticket_id, code)
        follow = cp.FollowTicketRequest(ticket_id=ticket_id)
        progress = page.call("ConsumerService", "FollowTicket", follow)
        assert progress.can_answer_proposal
        assert progress.odr.status == odr_pb2.DISPUTE_STATUS_PROPOSED
        assert progress.odr.proposal_terms == "退还余额2800元"
        assert progress.odr.working_days_left == 10
        answer = cp.AnswerProposalRequest(ticket_id=ticket_id, accept=True)
        after = page.call("ConsumerService", "AnswerProposal", answer)
    assert after.odr.status == odr_pb2.DISPUTE_STATUS_SETTLED and not after.can_answer_proposal
    assert channel.state("province", ticket_id).status is TicketStatus.CLOSED
