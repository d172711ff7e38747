"""What officers do in many tests: register sample tickets and route them, read them back.

The tickets are the demo's samples (``node.devnet.samples``), registered at a province's
node by its centre operator, who is also a dispatcher.
"""

from __future__ import annotations

import random
import uuid

from core.ticket.state import TicketState
from node.devnet.samples import demo_tickets, random_ticket
from node.edge.client import NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2, supervision_pb2
from sync.codec import from_message, to_message


def register_and_route(centre: NodeClient, label: str) -> str:
    """Register the demo ticket ``label`` ("gym", "fridge", ...) and route it; its id."""
    ticket = to_message(dict(demo_tickets())[label], intake_pb2.NewTicket)
    ticket_id = centre.register(uuid.uuid4().hex, ticket).ticket_id
    centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    return ticket_id


def register_many(centre: NodeClient, count: int, seed: int = 7) -> list[str]:
    """Register and route ``count`` random tickets (the same ones for the same ``seed``)."""
    rng = random.Random(seed)
    ids = []
    for _ in range(count):
        ticket = to_message(random_ticket(rng), intake_pb2.NewTicket)
        ticket_id = centre.register(uuid.uuid4().hex, ticket).ticket_id
        centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
        ids.append(ticket_id)
    return ids


def ticket_state(client: NodeClient, ticket_id: str) -> TicketState:
    """The ticket as the client's node holds it, as the domain's state."""
    return from_message(TicketState, client.get(ticket_id))


def entries(queue: supervision_pb2.Queue) -> list[supervision_pb2.QueueEntry]:
    """Every duty a unit owes, whatever section of its queue it is in."""
    return [*queue.overdue, *queue.due_soon, *queue.later]
