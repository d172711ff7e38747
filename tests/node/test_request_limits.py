"""Every method a node serves has a request size, and the largest valid request fits it.

The sizes are in ``node.edge.limits``; a method of a mounted service without one would fail
at its first call, so this walks every profile's services. The largest valid requests are
built from the field limits (``core.limits``) in four-byte characters.
"""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from core.limits import (
    TEXT_LIMITS,
)
from core.officers import Role
from core.ticket.decisions import register_ticket
from node.app.levels import PROFILES
from node.edge.limits import REGISTRATION, REQUEST_LIMITS, port_limit, request_limit
from proto.hotline.v1 import casework_pb2, events_pb2, intake_pb2
from sync.batch_limits import BATCH_BYTES, BATCH_MESSAGE_LIMIT
from sync.codec import to_message
from tests.helpers import domain
from tests.helpers.heavy import WIDE, heaviest_registration

REFERENCE = 64
"""Longest id a request may name (ticket ids, order ids)."""


def mounted_methods() -> set[str]:
    pool = descriptor_pool.Default()
    return {
        f"/{name}/{method.name}"
        for profile in PROFILES.values()
        for name in (mount.name for mount in profile.services)
        for method in pool.FindServiceByName(name).methods
    }


def test_every_method_a_level_serves_has_its_request_size() -> None:
    missing = mounted_methods() - set(REQUEST_LIMITS)
    assert not missing, f"no request size in node.edge.limits for {sorted(missing)}"


def test_each_port_takes_no_more_than_its_largest_method() -> None:
    for profile in PROFILES.values():
        client = port_limit([m.name for m in profile.client_services])
        assert client == 1 << 20  # PublishTrust: the largest request of the client port
        if profile.peer_services:
            assert port_limit([m.name for m in profile.peer_services]) == BATCH_MESSAGE_LIMIT


def test_the_largest_valid_registration_fits_its_request_size_and_a_batch() -> None:
    command = heaviest_registration()
    officer = domain.officer("620000-99", "全能", "620000", Role.OPERATOR)
    event = register_ticket(command, officer, domain.context(), ticket_id="620000-abcdef-000001")
    request = intake_pb2.RegisterTicketRequest(
        request_id="r" * 64, ticket=to_message(command, intake_pb2.NewTicket)
    )
    size = request.ByteSize()
    stored = to_message(event, events_pb2.TicketRegistered).ByteSize()
    print(f"largest registration: request {size} bytes, event payload {stored} bytes")
    assert 70_000 < size <= REGISTRATION
    assert stored + 2_000 < BATCH_BYTES // 40  # forty of the heaviest events fit a batch


def fill_to_the_limits(message: Message) -> Message:
    """Every string field at its limit in four-byte characters, numbers at their largest."""
    for field in message.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            most = TEXT_LIMITS.get(field.name, REFERENCE)
            setattr(message, field.name, WIDE * most)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            setattr(message, field.name, max(v.number for v in field.enum_type.values))
        elif field.type in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_INT64):
            setattr(message, field.name, 365)
        elif field.type == FieldDescriptor.TYPE_BOOL:
            setattr(message, field.name, True)
    return message


@pytest.mark.parametrize(
    "method",
    list(casework_pb2.DESCRIPTOR.services_by_name["CaseworkService"].methods),
    ids=lambda m: m.name,
)
def test_the_largest_valid_handling_step_fits_its_request_size(method: object) -> None:
    descriptor = method.input_type  # type: ignore[attr-defined]
    message_class = getattr(casework_pb2, descriptor.name)
    request = fill_to_the_limits(message_class())
    service = method.containing_service.full_name  # type: ignore[attr-defined]
    name = method.name  # type: ignore[attr-defined]
    assert request.ByteSize() <= request_limit(f"/{service}/{name}")
