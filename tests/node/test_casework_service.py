"""CaseworkService over gRPC: steps are judged on state and authority; refusals write nothing."""

from __future__ import annotations

import uuid

import pytest

from core.ticket.state import Stage, TicketState, TicketStatus
from core.ticket.vocabulary import MediationOutcome, RefusalGround, Track
from node.devnet.samples import demo_tickets
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.codec import enum_number, from_message, to_message
from tests.helpers.world import World, spec


def register_at_county(county: NodeClient, label: str = "gym") -> str:
    ticket = to_message(dict(demo_tickets())[label], intake_pb2.NewTicket)
    return county.register(uuid.uuid4().hex, ticket).ticket_id


def refused(call: object) -> CallError:
    with pytest.raises(CallError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_a_step_that_does_not_fit_the_state_fails_precondition_and_writes_nothing(
    world: World,
) -> None:
    world.start(spec("chengguan"))
    with world.officer("chengguan", 0) as handler, world.officer("chengguan", 1) as head:
        ticket_id = register_at_county(handler)
        events = handler.info().events
        error = refused(
            lambda: head.step(
                "ApproveResult",
                cw.ApproveResultRequest(ticket_id=ticket_id, track=enum_number(Track.COMPLAINT)),
            )
        )
        assert error.code == "FAILED_PRECONDITION"
        assert "awaiting_decision" in error.message
        assert handler.info().events == events


def test_a_handler_cannot_approve_and_gets_permission_denied(world: World) -> None:
    world.start(spec("chengguan"))
    with world.officer("chengguan", 0) as handler:
        ticket_id = register_at_county(handler)
        error = refused(
            lambda: handler.step(
                "ApproveResult",
                cw.ApproveResultRequest(ticket_id=ticket_id, track=enum_number(Track.COMPLAINT)),
            )
        )
    assert error.code == "PERMISSION_DENIED"
    assert "unit_head" in error.message


def test_a_refusal_needs_its_ground_named(world: World) -> None:
    world.start(spec("chengguan"))
    with world.officer("chengguan", 0) as handler:
        ticket_id = register_at_county(handler)
        error = refused(
            lambda: handler.step(
                "RefuseComplaint",
                cw.RefuseComplaintRequest(ticket_id=ticket_id, notice="不属于本局管辖"),
            )
        )
        assert error.code == "INVALID_ARGUMENT" and "ground" in error.message
        response = handler.step(
            "RefuseComplaint",
            cw.RefuseComplaintRequest(
                ticket_id=ticket_id,
                ground=enum_number(RefusalGround.TIME_BARRED),
                notice="超过三年投诉时效",
            ),
        )
    state = from_message(TicketState, response.ticket)
    assert state.status is TicketStatus.CLOSED
    complaint = state.track(Track.COMPLAINT)
    assert complaint is not None and complaint.refusal_ground is RefusalGround.TIME_BARRED


def test_an_unknown_ticket_is_not_found(world: World) -> None:
    world.start(spec("chengguan"))
    with world.officer("chengguan", 0) as handler:
        error = refused(
            lambda: handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id="no-such"))
        )
    assert error.code == "NOT_FOUND"


def test_walk_in_complaint_is_handled_and_signed_at_the_county(world: World) -> None:
    world.start(spec("chengguan"))
    with world.officer("chengguan", 0) as handler, world.officer("chengguan", 1) as head:
        ticket_id = register_at_county(handler)
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        handler.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=ticket_id, outcome=enum_number(MediationOutcome.WITHDRAWN)
            ),
        )
        submitted = handler.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=ticket_id, track=enum_number(Track.COMPLAINT), summary="消费者撤回投诉"
            ),
        )
        assert from_message(TicketState, submitted.ticket).status is TicketStatus.IN_HANDLING
        approved = head.step(
            "ApproveResult",
            cw.ApproveResultRequest(ticket_id=ticket_id, track=enum_number(Track.COMPLAINT)),
        )
        history = handler.history(ticket_id)
    state = from_message(TicketState, approved.ticket)
    complaint = state.track(Track.COMPLAINT)
    assert state.status is TicketStatus.CLOSED and complaint is not None
    assert complaint.stage is Stage.CLOSED
    assert complaint.result is not None
    assert (complaint.result.handler_id, complaint.result.approver_id) == ("620102-07", "620102-01")
    assert [e.event_type for e in history.entries] == [
        "TicketRegistered",
        "ComplaintAccepted",
        "MediationEnded",
        "ResultSubmitted",
        "ResultApproved",
    ]
    assert all(e.signature_valid for e in history.entries)
    assert [e.officer.officer_id for e in history.entries][-1] == "620102-01"
