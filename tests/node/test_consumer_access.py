"""A consumer reads their own ticket with the verification code issued at its registration.

Issue 11, item 5. Registering a complaint answers a code once (and ``hotline register`` prints
it); the node keeps only a keyed hash of it, on the registering node. The ticket's id and the
code sign the consumer in for that ticket alone: they read it and nothing else, no other
ticket, no officer's call. Wrong codes lock the ticket's consumer access for a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select

from core.access import consumer_codes
from core.ticket.vocabulary import Channel
from node.devnet.samples import demo_tickets
from node.edge.client import CallError, NodeClient
from node.storage.tables import consumer_codes as consumer_codes_table
from proto.hotline.v1 import casework_pb2, intake_pb2
from sync.codec import to_message
from tests.helpers.signin import HandMovedTime, gym_walk_in, reasons
from tests.helpers.world import InProcessNode, World, spec


@dataclass
class Desk:
    """Chengguan's node, its hand-moved real time, and its handler registering walk-ins."""

    node: InProcessNode
    time: HandMovedTime
    world: World

    def register(
        self, ticket: intake_pb2.NewTicket | None = None, request_id: str = ""
    ) -> intake_pb2.RegisterTicketResponse:
        """Register a walk-in (the gym complaint unless told) as the county's handler."""
        with self.world.officer("chengguan", 0) as handler:
            return handler.register(request_id or uuid.uuid4().hex, ticket or gym_walk_in())

    def consumer(self, ticket_id: str, code: str) -> NodeClient:
        """A client signed in as the consumer of ``ticket_id``."""
        client = self.node.client()
        client.consumer_sign_in(ticket_id, code)
        return client

    def refused(self, call: object) -> CallError:
        with pytest.raises(CallError) as failed:
            call()  # type: ignore[operator]
        return failed.value


@pytest.fixture
def desk(world: World) -> Iterator[Desk]:
    time = HandMovedTime()
    node = world.start(spec("chengguan"), real_ms=time)
    yield Desk(node, time, world)


def test_a_complaint_registered_answers_a_code_that_reads_that_ticket(desk: Desk) -> None:
    registered = desk.register()
    code = registered.consumer_code
    assert consumer_codes.normalized(code) == code and len(code) == consumer_codes.LENGTH
    with desk.consumer(registered.ticket_id, consumer_codes.grouped(code).lower()) as consumer:
        session = consumer.who_am_i()
        assert (session.principal, session.ticket_id) == ("consumer", registered.ticket_id)
        assert session.expires_ms == desk.time.ms + 30 * 60_000
        assert consumer.get(registered.ticket_id).ticket_id == registered.ticket_id
    assert reasons(desk.node)[-1] == "sign-in/done/"


def test_the_code_is_kept_only_as_a_keyed_hash_on_the_registering_node(desk: Desk) -> None:
    registered = desk.register()
    with desk.node.node.db.read() as conn:
        row = conn.execute(
            select(consumer_codes_table).where(
                consumer_codes_table.c.ticket_id == registered.ticket_id
            )
        ).one()
    stored = " ".join(str(v) for v in row)
    assert registered.consumer_code not in stored.upper()
    assert len(row.code_hash) == 64 and int(row.code_hash, 16) >= 0
    key = desk.node.node.settings.data_dir / "consumer-code.key"
    assert key.stat().st_mode & 0o777 == 0o600
    # The hash is of the code for this ticket: the same code for another ticket hashes apart.
    keeper = desk.node.node.intake._codes
    assert keeper is not None
    assert keeper.hash(registered.ticket_id, registered.consumer_code) == row.code_hash
    assert keeper.hash(registered.ticket_id + "x", registered.consumer_code) != row.code_hash


def test_a_consumer_session_reads_no_other_ticket_and_makes_no_officers_call(desk: Desk) -> None:
    mine, other = desk.register(), desk.register()
    with desk.consumer(mine.ticket_id, mine.consumer_code) as consumer:
        refused = desk.refused(lambda: consumer.get(other.ticket_id))
        assert refused.code == "PERMISSION_DENIED" and other.ticket_id in refused.message
        assert reasons(desk.node)[-1] == "call/refused/outside-jurisdiction"
        for call in (
            lambda: consumer.history(mine.ticket_id),
            lambda: consumer.list_tickets(),
            lambda: consumer.register(uuid.uuid4().hex, gym_walk_in()),
            lambda: consumer.step(
                "AcceptComplaint", casework_pb2.AcceptComplaintRequest(ticket_id=mine.ticket_id)
            ),
            lambda: consumer.add_officer("620102-55", "冒充", "620102", [1]),
        ):
            assert desk.refused(call).code == "PERMISSION_DENIED"
            assert reasons(desk.node)[-1] == "call/refused/missing-role"


def test_a_code_opens_only_its_own_ticket(desk: Desk) -> None:
    mine, other = desk.register(), desk.register()
    refused = desk.refused(lambda: desk.consumer(other.ticket_id, mine.consumer_code))
    assert refused.code == "UNAUTHENTICATED"
    assert "wrong ticket number or verification code" in refused.message
    assert reasons(desk.node)[-1] == "sign-in/refused/wrong-code"


def test_wrong_codes_lock_the_tickets_consumer_access_for_an_hour(desk: Desk) -> None:
    registered = desk.register()
    wrong = "ABCDEFGH" if registered.consumer_code != "ABCDEFGH" else "ABCDEFGJ"
    for _ in range(4):
        assert desk.refused(lambda: desk.consumer(registered.ticket_id, wrong)).code == (
            "UNAUTHENTICATED"
        )
    locked = desk.refused(lambda: desk.consumer(registered.ticket_id, wrong))
    assert locked.code == "PERMISSION_DENIED" and "锁定" in locked.message
    # While locked, the right code is refused too, without being looked at.
    right = desk.refused(lambda: desk.consumer(registered.ticket_id, registered.consumer_code))
    assert right.code == "PERMISSION_DENIED"
    assert reasons(desk.node)[-7:] == [
        *["sign-in/refused/wrong-code"] * 5,
        "lockout/done/",
        "sign-in/refused/locked",
    ]
    desk.time.advance(minutes=60)
    with desk.consumer(registered.ticket_id, registered.consumer_code) as consumer:
        assert consumer.get(registered.ticket_id).ticket_id == registered.ticket_id


def test_a_replayed_registration_issues_a_new_code_and_the_old_one_stops_working(
    desk: Desk,
) -> None:
    request_id = uuid.uuid4().hex
    first = desk.register(request_id=request_id)
    again = desk.register(request_id=request_id)
    assert again.replayed and again.ticket_id == first.ticket_id
    assert again.consumer_code and again.consumer_code != first.consumer_code
    assert desk.refused(lambda: desk.consumer(first.ticket_id, first.consumer_code)).code == (
        "UNAUTHENTICATED"
    )
    with desk.consumer(first.ticket_id, again.consumer_code) as consumer:
        assert consumer.get(first.ticket_id).ticket_id == first.ticket_id


def test_a_consultation_gets_no_code(desk: Desk) -> None:
    question = replace(dict(demo_tickets())["refund-policy"], channel=Channel.VISIT)
    registered = desk.register(to_message(question, intake_pb2.NewTicket))
    assert registered.consumer_code == ""
    refused = desk.refused(lambda: desk.consumer(registered.ticket_id, "ABCDEFGH"))
    assert refused.code == "UNAUTHENTICATED"
    assert reasons(desk.node)[-1] == "sign-in/refused/unknown-account"


def test_a_ticket_registered_elsewhere_has_no_code_here(desk: Desk) -> None:
    registered = desk.register()
    qilihe = desk.world.start(spec("qilihe"))
    with qilihe.client() as client:
        refused = desk.refused(
            lambda: client.consumer_sign_in(registered.ticket_id, registered.consumer_code)
        )
    assert refused.code == "UNAUTHENTICATED"
    assert reasons(qilihe)[-1] == "sign-in/refused/unknown-account"


@pytest.mark.parametrize(
    ("ticket_id", "code", "field"),
    [
        ("", "ABCDEFGH", "ticket_id"),
        ("620102-x-1", "ABC", "code"),
        ("620102-x-1", "O0O0O0O0", "code"),
    ],
)
def test_a_malformed_sign_in_is_refused_naming_the_field_and_records_nothing(
    desk: Desk, ticket_id: str, code: str, field: str
) -> None:
    before = len(reasons(desk.node))
    with desk.node.client() as client:
        refused = desk.refused(lambda: client.consumer_sign_in(ticket_id, code))
    assert refused.code == "INVALID_ARGUMENT" and refused.message.startswith(field)
    assert len(reasons(desk.node)) == before
