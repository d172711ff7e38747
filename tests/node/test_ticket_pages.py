"""ListTickets pages by key: tickets that arrive while an officer pages are never shown twice
and never make one of the others be skipped."""

from __future__ import annotations

import uuid
from dataclasses import replace

import grpc
import pytest

from node.devnet.samples import demo_tickets
from node.edge.client import token_metadata
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message
from tests.helpers.world import World, spec

GYM = dict(demo_tickets())["gym"]


def register(client: object, n: int) -> str:
    ticket = to_message(replace(GYM, facts=f"第{n}位会员的年卡余额无法退还"), intake_pb2.NewTicket)
    return client.register(uuid.uuid4().hex, ticket).ticket_id  # type: ignore[attr-defined, no-any-return]


def test_paging_while_tickets_arrive_shows_each_ticket_once(world: World) -> None:
    world.start(spec("province"))
    with world.officer("province") as centre:
        before = {register(centre, n) for n in range(7)}
        seen: list[str] = []
        token = ""
        arriving = 100
        while True:
            page = centre.intake.ListTickets(
                intake_pb2.ListTicketsRequest(page_size=3, page_token=token),
                metadata=token_metadata(centre.token),
            )
            seen.extend(t.ticket_id for t in page.tickets)
            register(centre, arriving)  # a call comes in between two pages
            arriving += 1
            token = page.next_page_token
            if not token:
                break
    assert len(seen) == len(set(seen)), "a ticket was shown twice"
    assert before <= set(seen), "a ticket that was there all along was skipped"


def test_a_page_token_not_from_a_page_is_refused_naming_it(world: World) -> None:
    world.start(spec("province"))
    with world.officer("province") as centre, pytest.raises(grpc.RpcError) as refused:
        centre.intake.ListTickets(
            intake_pb2.ListTicketsRequest(page_token="not-a-token"),
            metadata=token_metadata(centre.token),
        )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in (refused.value.details() or "")
