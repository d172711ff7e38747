"""IntakeService over real gRPC: registration is checked, idempotent, and never half-written."""

from __future__ import annotations

import uuid
from copy import copy
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from core.officers import Role
from core.ticket.state import TicketState, TicketStatus
from node.app.levels import profile_of
from node.app.wiring import build_node
from node.devnet.samples import demo_tickets
from node.edge.channels import client_channel
from node.edge.client import CallError
from proto.hotline.v1 import intake_pb2
from sync.codec import from_message, to_message
from tests.helpers.signin import ticket_count
from tests.helpers.world import InProcessNode, World, spec

GYM = dict(demo_tickets())["gym"]


def new_ticket(**changes: object) -> intake_pb2.NewTicket:
    return to_message(replace(GYM, **changes), intake_pb2.NewTicket)  # type: ignore[arg-type]


def request_id() -> str:
    return uuid.uuid4().hex


def assert_refused(call: object, code: str, field: str) -> None:
    with pytest.raises(CallError) as refused:
        call()  # type: ignore[operator]
    assert refused.value.code == code
    assert field in refused.value.message


def test_registered_ticket_is_held_at_the_registering_unit(world: World) -> None:
    world.start(spec("province"))
    with world.officer("province") as centre:
        response = centre.register(request_id(), new_ticket())
        state = from_message(TicketState, centre.get(response.ticket_id))
    assert state.status is TicketStatus.REGISTERED
    assert state.holder_unit == "620000"
    assert state.registration is not None
    assert state.registration.respondent.name == GYM.respondent.name


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"respondent": replace(GYM.respondent, credit_code="91620102MA71ABCDE0")},
            "respondent.credit_code",
        ),
        (
            {"respondent": replace(GYM.respondent, operating_region="629999")},
            "respondent.operating_region",
        ),
        ({"facts": "   "}, "facts"),
        ({"consumer": replace(GYM.consumer, phone="12345")}, "consumer.phone"),
        ({"amount_fen": -5}, "amount_fen"),
        ({"incident_region": "62010"}, "incident_region"),
    ],
    ids=[
        "broken-credit-code",
        "unknown-region",
        "empty-facts",
        "bad-phone",
        "negative-amount",
        "malformed-region",
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    world: World, changes: dict[str, object], field: str
) -> None:
    world.start(spec("province"))
    with world.officer("province") as centre:
        events_before = centre.info().events
        assert_refused(
            lambda: centre.register(request_id(), new_ticket(**changes)), "INVALID_ARGUMENT", field
        )
        assert centre.info().events == events_before
        assert centre.list_tickets() == []


def test_unset_kind_is_refused_naming_the_field(world: World) -> None:
    world.start(spec("province"))
    ticket = new_ticket()
    ticket.kind = 0  # type: ignore[assignment]
    with world.officer("province") as centre:
        assert_refused(
            lambda: centre.register(request_id(), ticket), "INVALID_ARGUMENT", "ticket.kind"
        )


def test_a_retried_request_returns_the_first_ticket_and_writes_nothing_more(world: World) -> None:
    world.start(spec("province"))
    rid = request_id()
    with world.officer("province") as centre:
        first = centre.register(rid, new_ticket())
        events = centre.info().events
        again = centre.register(rid, new_ticket())
        assert again.ticket_id == first.ticket_id
        assert again.replayed and not first.replayed
        assert centre.info().events == events
        assert len(centre.list_tickets()) == 1


def test_the_same_matter_filed_twice_is_linked_not_handled_twice(world: World) -> None:
    world.start(spec("province"))
    with world.officer("province") as centre:
        first = centre.register(request_id(), new_ticket())
        second = centre.register(request_id(), new_ticket())
        state = from_message(TicketState, centre.get(second.ticket_id))
    assert second.ticket_id != first.ticket_id
    assert state.status is TicketStatus.DUPLICATE
    assert state.registration is not None
    assert state.registration.duplicate_of == first.ticket_id


def test_an_unsigned_call_or_an_officer_not_on_the_roster_cannot_register(world: World) -> None:
    node = world.start(spec("province"))
    with node.unsigned() as stranger:
        assert_refused(
            lambda: stranger.register(request_id(), new_ticket()), "UNAUTHENTICATED", "sign in"
        )
        assert_refused(
            lambda: stranger.sign_in("nobody", "Gansu-12315-guess", "000000"),
            "UNAUTHENTICATED",
            "sign-in refused",
        )
    assert ticket_count(node) == 0


def test_every_server_answers_health_and_reflection_sync_only_over_mutual_tls(
    world: World,
) -> None:
    node = world.start(spec("province"))
    # Health and reflection need no token, over the client port's TLS.
    with client_channel(node.target, node.root) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "hotline.v1.IntakeService", "hotline.v1.SyncService"):
            status = health.Check(health_pb2.HealthCheckRequest(service=service)).status
            assert status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = {s.name for reply in replies for s in reply.list_services_response.service}
    assert {
        "hotline.v1.IntakeService",
        "hotline.v1.CaseworkService",
        "hotline.v1.AdminService",
        "grpc.health.v1.Health",
    } <= names
    assert "hotline.v1.SyncService" not in names  # it lives on the peer port only
    with (
        client_channel(node.peer_target, node.root) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        # Refused at the TLS handshake (no client certificate), at once; the deadline is only
        # there so that a port that hung would fail the test, and is generous so that a busy
        # machine does not.
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=15)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


def test_two_hub_processes_on_one_database_share_the_roster_and_the_chain(world: World) -> None:
    first = world.start(spec("province"))
    settings = replace(world.settings["province"], port=0)
    # The same officers and sessions (one database, one key): tokens hold on both processes.
    second = InProcessNode(build_node(settings, profile_of(settings.level)), copy(first.signins))
    try:
        second.add_officer("620000-09", "新来的", (Role.OPERATOR,))
        with first.client("620000-09") as one, second.client("620000-09") as two:
            ids = [
                c.register(request_id(), new_ticket(facts=f"事实{i}")).ticket_id
                for i, c in enumerate([one, two, one, two])
            ]
            assert len(set(ids)) == 4
            assert {t.ticket_id for t in one.list_tickets()} == set(ids)
            assert one.info().events == 4
    finally:
        second.stop()
