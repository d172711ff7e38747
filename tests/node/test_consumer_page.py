"""The consumer's page over gRPC (issue 13, item 4): file online, follow the ticket, rate it.

A consumer files a complaint on the province's web channel without any session and gets the
ticket's id and its verification code once; signed in with them on that node, they follow the
ticket down to the county that handles it (as replication brings its steps back), read what was
done and the step awaited with its due time, and rate the handling once it is closed. Nothing
of another ticket is reachable, no officer's call is theirs, bad input writes nothing, and a
burst of filings from one address is held back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from google.protobuf import text_format

from core.ticket.state import TicketStatus
from core.ticket.vocabulary import (
    Channel,
    Duty,
    MediationOutcome,
    RefusalGround,
    Satisfaction,
    Track,
)
from node.devnet.samples import demo_tickets
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import consumer_pb2 as cp
from sync.codec import enum_number
from tests.helpers.filings import gym_filing
from tests.helpers.signin import access_rows, reasons
from tests.helpers.world import InProcessNode, World, spec

COUNTY_NAME = "兰州市城关区市场监督管理局"


def file(node: InProcessNode, request: cp.FileComplaintRequest) -> cp.FileComplaintResponse:
    """File online, as a browser's web front does: no session."""
    with node.unsigned() as page:
        answer: cp.FileComplaintResponse = page.call("ConsumerService", "FileComplaint", request)
        return answer


def consumer(node: InProcessNode, ticket_id: str, code: str) -> NodeClient:
    """A client signed in on ``node`` as the consumer of ``ticket_id``."""
    client = node.client()
    client.consumer_sign_in(ticket_id, code)
    return client


def follow(client: NodeClient, ticket_id: str) -> cp.TicketProgress:
    progress: cp.TicketProgress = client.call(
        "ConsumerService", "FollowTicket", cp.FollowTicketRequest(ticket_id=ticket_id)
    )
    return progress


def rate(
    client: NodeClient, ticket_id: str, rating: Satisfaction, comment: str = ""
) -> cp.TicketProgress:
    progress: cp.TicketProgress = client.call(
        "ConsumerService",
        "RateHandling",
        cp.RateHandlingRequest(ticket_id=ticket_id, rating=enum_number(rating), comment=comment),
    )
    return progress


def refused(call: object) -> CallError:
    with pytest.raises(CallError) as failed:
        call()  # type: ignore[operator]
    return failed.value


def steps(progress: cp.TicketProgress) -> list[str]:
    return [s.what for s in progress.steps]


def events_held(node: InProcessNode) -> int:
    with node.admin() as admin:
        return int(admin.info().events)


def test_a_complaint_filed_online_is_followed_down_to_the_county_and_rated_once_closed(
    world: World,
) -> None:
    world.start_line()
    province = world["province"]
    filed = file(province, gym_filing())
    assert filed.code and not filed.replayed
    with world.officer("province") as centre:
        registered = centre.history(filed.ticket_id).entries[0]
        assert centre.get(filed.ticket_id).registration.channel == enum_number(Channel.WEB)
    # Registered by the node's web channel in the province's name: no officer filed it.
    web = ("620000-web", "网上投诉平台")
    assert (registered.officer.officer_id, registered.officer.name) == web

    with consumer(province, filed.ticket_id, filed.code) as page:
        first = follow(page, filed.ticket_id)
        assert (first.status, first.holding_unit) == ("REGISTERED", "620000")
        assert steps(first) == ["TicketRegistered"] and first.steps[0].text == "已登记（网站）"

        with world.officer("province") as centre:
            centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=filed.ticket_id))
        world.sync("city", "chengguan")
        with world.officer("chengguan", 0) as handler:
            handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=filed.ticket_id))
        world.sync("chengguan", "city")
        accepted = follow(page, filed.ticket_id)
        assert accepted.status == "IN_HANDLING"
        assert (accepted.holding_unit, accepted.holding_unit_name) == ("620102", COUNTY_NAME)
        assert steps(accepted)[-1] == "ComplaintAccepted"
        assert accepted.steps[-1].unit_name == COUNTY_NAME
        assert accepted.current_duty == enum_number(Duty.END_MEDIATION)
        assert accepted.due_at.ToMilliseconds() > accepted.registered_at.ToMilliseconds()
        assert not accepted.can_rate

        with world.officer("chengguan", 0) as handler, world.officer("chengguan", 1) as head:
            handler.step(
                "EndMediation",
                cw.EndMediationRequest(
                    ticket_id=filed.ticket_id,
                    outcome=enum_number(MediationOutcome.AGREEMENT),
                    agreement="健身房退还余额3000元",
                    amount_recovered_fen=300000,
                ),
            )
            handler.step(
                "SubmitResult",
                cw.SubmitResultRequest(
                    ticket_id=filed.ticket_id,
                    track=enum_number(Track.COMPLAINT),
                    summary="经调解双方达成协议，已退款",
                ),
            )
            head.step(
                "ApproveResult",
                cw.ApproveResultRequest(
                    ticket_id=filed.ticket_id, track=enum_number(Track.COMPLAINT)
                ),
            )
        world.sync("chengguan", "city")
        closed = follow(page, filed.ticket_id)
        assert closed.status == "CLOSED" and closed.can_rate
        assert closed.current_duty == enum_number(Duty.CALLBACK)
        texts = [s.text for s in closed.steps]
        assert "调解终结（达成调解协议），为您挽回经济损失3000.00元：健身房退还余额3000元" in texts
        assert texts[-1] == "已办结：经调解双方达成协议，已退款"
        # The result is told once approved, never while it awaited the head's signature.
        assert "ResultSubmitted" not in steps(closed)
        shown = text_format.MessageToString(closed, as_utf8=True)
        for officer in ("620102-07", "620102-01", "620000-01", "李强", "赵敏", "王芳"):
            assert officer not in shown

        rated = rate(page, filed.ticket_id, Satisfaction.SATISFIED)
        assert rated.rating == enum_number(Satisfaction.SATISFIED) and not rated.can_rate
        assert rated.steps[-1].text == "回访评价：满意"
        again = refused(lambda: rate(page, filed.ticket_id, Satisfaction.VERY_SATISFIED))
        assert again.code == "FAILED_PRECONDITION" and "callback" in again.message


def test_rating_before_closure_fails_and_a_dissatisfied_rating_reopens_the_ticket(
    world: World,
) -> None:
    county = world.start(spec("chengguan"))
    filed = file(county, gym_filing())
    with consumer(county, filed.ticket_id, filed.code) as page:
        early = refused(lambda: rate(page, filed.ticket_id, Satisfaction.SATISFIED))
        assert early.code == "FAILED_PRECONDITION" and "closure" in early.message
        with world.officer("chengguan", 0) as handler:
            handler.step(
                "RefuseComplaint",
                cw.RefuseComplaintRequest(
                    ticket_id=filed.ticket_id,
                    ground=enum_number(RefusalGround.TIME_BARRED),
                    notice="您反映的问题已超过三年投诉时效",
                ),
            )
        closed = follow(page, filed.ticket_id)
        assert closed.steps[-1].text == "不予受理（超过三年）：您反映的问题已超过三年投诉时效"
        before = events_held(county)
        bare = refused(lambda: rate(page, filed.ticket_id, Satisfaction.DISSATISFIED))
        assert bare.code == "INVALID_ARGUMENT" and bare.message.startswith("comment")
        unset = refused(lambda: rate(page, filed.ticket_id, None))  # type: ignore[arg-type]
        assert unset.code == "INVALID_ARGUMENT" and unset.message.startswith("rating")
        assert events_held(county) == before
        reopened = rate(page, filed.ticket_id, Satisfaction.DISSATISFIED, "时效是从停业起算的")
    assert steps(reopened)[-2:] == ["CallbackRecorded", "TicketReopened"]
    assert reopened.status != "CLOSED" and not reopened.can_rate
    with world.officer("chengguan", 0) as handler:
        entries = handler.history(filed.ticket_id).entries
    assert [e.officer.officer_id for e in entries[-2:]] == ["620102-web"] * 2
    assert TicketStatus[reopened.status] is not TicketStatus.CLOSED


def test_a_consumer_reaches_no_other_ticket_and_the_refusal_is_recorded(world: World) -> None:
    county = world.start(spec("chengguan"))
    mine, other = file(county, gym_filing()), file(county, gym_filing(facts="另一件事"))
    with consumer(county, mine.ticket_id, mine.code) as page:
        assert follow(page, mine.ticket_id).ticket_id == mine.ticket_id
        for call in (
            lambda: follow(page, other.ticket_id),
            lambda: rate(page, other.ticket_id, Satisfaction.SATISFIED),
        ):
            denied = refused(call)
            assert denied.code == "PERMISSION_DENIED" and other.ticket_id in denied.message
            assert reasons(county)[-1] == "call/refused/outside-jurisdiction"
    with world.officer("chengguan", 0) as handler:
        officer = refused(lambda: follow(handler, mine.ticket_id))
    assert officer.code == "PERMISSION_DENIED" and "not an officer's call" in officer.message
    assert reasons(county)[-1] == "call/refused/missing-role"
    with county.unsigned() as nobody:
        assert refused(lambda: follow(nobody, mine.ticket_id)).code == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"facts": "  "}, "facts"),
        ({"consumer": replace(dict(demo_tickets())["gym"].consumer, phone="12345")}, "consumer"),
        ({"amount_fen": -1}, "amount_fen"),
        ({"category": ""}, "category"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    world: World, changed: dict[str, Any], field: str
) -> None:
    county = world.start(spec("chengguan"))
    before = events_held(county)
    error = refused(lambda: file(county, gym_filing(**changed)))
    assert error.code == "INVALID_ARGUMENT" and error.message.startswith(field), error.message
    assert events_held(county) == before


def test_a_malformed_request_id_is_refused_naming_it(world: World) -> None:
    county = world.start(spec("chengguan"))
    error = refused(lambda: file(county, gym_filing(request_id="short")))
    assert error.code == "INVALID_ARGUMENT" and error.message.startswith("request_id")


def test_a_replayed_filing_answers_the_same_ticket_and_no_new_code(world: World) -> None:
    county = world.start(spec("chengguan"))
    request = gym_filing()
    first, again = file(county, request), file(county, request)
    assert again.ticket_id == first.ticket_id and again.replayed and not first.replayed
    assert again.code == ""
    # Whoever learns the request id gets no code: the first one still opens the ticket.
    with consumer(county, first.ticket_id, first.code) as page:
        assert follow(page, first.ticket_id).ticket_id == first.ticket_id


def test_a_burst_of_filings_from_one_address_is_held_back_before_anything_is_written(
    world: World,
) -> None:
    county = world.start(spec("chengguan"))
    filed = [file(county, gym_filing(facts=f"第{n}件事")) for n in range(10)]
    assert len({f.ticket_id for f in filed}) == 10
    before = events_held(county)
    held = refused(lambda: file(county, gym_filing()))
    assert held.code == "RESOURCE_EXHAUSTED" and "too many complaints" in held.message
    assert held.retry_after_ms is not None and held.retry_after_ms > 0
    # Held back before it is looked at: bad input from the same address is not even checked.
    assert refused(lambda: file(county, gym_filing(amount_fen=-1))).code == "RESOURCE_EXHAUSTED"
    assert events_held(county) == before
    # The refused filings are one row of the access record (written when the burst ends, or
    # at the node's stop, as here).
    county.run(county.node.access.flush_bursts())
    last = access_rows(county)[-1]
    assert f"{last.action.value}/{last.outcome.value}/{last.reason}" == "call/refused/rate-limited"
    assert last.detail.startswith("2 complaints filed online refused from this address")


def test_a_proposal_is_rejected_only_with_a_reason_and_answered_only_when_pending(
    world: World,
) -> None:
    county = world.start(spec("chengguan"))
    filed = file(county, gym_filing())

    def answer(accept: bool, reason: str = "") -> cp.TicketProgress:
        request = cp.AnswerProposalRequest(ticket_id=filed.ticket_id, accept=accept, reason=reason)
        progress: cp.TicketProgress = page.call("ConsumerService", "AnswerProposal", request)
        return progress

    with consumer(county, filed.ticket_id, filed.code) as page:
        bare = refused(lambda: answer(False))
        assert bare.code == "INVALID_ARGUMENT" and bare.message.startswith("reason")
        # The ODR desk answers: no proposal is pending on a ticket that is no ODR dispute.
        pending = refused(lambda: answer(True))
    assert pending.code == "FAILED_PRECONDITION" and "no ODR dispute" in pending.message
