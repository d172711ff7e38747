"""A battery of malformed requests on every RPC of the client port: each is refused with the
right code, names what is wrong, and writes nothing.

Two kinds of cases. Every method of IntakeService, CaseworkService, AdminService,
SupervisionService and RulesService (walked from the descriptors, so a new RPC is in the
battery without a word) gets bytes that are not a message, protobuf groups nested past the
parser's depth limit, a request one byte over its method's size and one over its port's. Then
field by field: texts over their limits, enum numbers no value has, broken ID numbers, credit
codes and phones, bad attachments, ids and prefixes no id can be; for every casework step these
are made from its request type, so a new field is tried too. After each case every table of
the node's database holds as many rows as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from sqlalchemy import func, select

from core.limits import MAX_ATTACHMENTS, MAX_TAGS, TEXT_LIMITS, limit_of
from core.officers import Role
from core.ticket.vocabulary import Attachment
from node.devnet.samples import demo_tickets
from node.edge.channels import client_channel
from node.edge.client import token_metadata
from node.edge.limits import port_limit, request_limit
from node.storage import tables
from proto.hotline.v1 import (
    admin_pb2,
    casework_pb2,
    intake_pb2,
    rules_pb2,
    supervision_pb2,
    sync_pb2,
)
from sync import schema
from sync.codec import enum_number, to_message
from tests.helpers.world import InProcessNode, World, spec

OFFICER = "620000-99"
SERVICES = (
    intake_pb2.DESCRIPTOR.services_by_name["IntakeService"],
    casework_pb2.DESCRIPTOR.services_by_name["CaseworkService"],
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"],
    supervision_pb2.DESCRIPTOR.services_by_name["SupervisionService"],
    rules_pb2.DESCRIPTOR.services_by_name["RulesService"],
)
METHODS = [m for s in SERVICES for m in s.methods]
GYM = dict(demo_tickets())["gym"]
DIGEST = "ab" * 32


def path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def over(field: str) -> str:
    return "字" * (limit_of(field) + 1)


def nested_groups(depth: int) -> bytes:
    """An unknown field 11 holding a group inside a group ... ``depth`` deep."""
    return b"\x5b" * depth + b"\x5c" * depth


def unknown_field_of(size: int) -> bytes:
    """A message of ``size`` bytes: one unknown length-delimited field (number 15)."""
    body = size - 1 - 5
    length = bytearray()
    value = body
    for _ in range(4):
        length.append((value & 0x7F) | 0x80)
        value >>= 7
    length.append(value)
    return b"\x7a" + bytes(length) + b"x" * body


# The node and its database ------------------------------------------------------------------


def row_counts(node: InProcessNode) -> dict[str, int]:
    """How many rows each table of the node's database holds."""
    counts = {}
    with node.node.db.read() as conn:
        for metadata in (schema.metadata, tables.metadata):
            for table in metadata.sorted_tables:
                counts[table.name] = conn.execute(
                    select(func.count()).select_from(table)
                ).scalar_one()
    return counts


class Battery:
    """Calls one node with raw bytes as an officer with every ticket role (or the administrator
    an administrative method asks for); checks nothing is written."""

    def __init__(self, node: InProcessNode, token: str) -> None:
        self.node = node
        self.token = token
        self.admin_tokens = {
            **dict.fromkeys(
                ("RegisterOfficer", "PushOfficer", "RevokeOfficer", "ListOfficerAccounts"),
                node.signins.token(node.security_admin),
            ),
            **dict.fromkeys(
                ("RegisterUnit", "PublishTrust", "ReleaseQuarantine", "SyncNow"),
                node.signins.token(node.system_admin),
            ),
        }
        """The administrators who may call the administrative methods (三权分立)."""
        self.channel = client_channel(
            node.target, node.root, options=[("grpc.max_send_message_length", -1)]
        )

    def call(self, method: str, payload: bytes) -> grpc.RpcError | None:
        rpc = self.channel.unary_unary(method)
        try:
            token = self.admin_tokens.get(method.rsplit("/", 1)[1], self.token)
            rpc(payload, timeout=15, metadata=token_metadata(token))
        except grpc.RpcError as error:
            return error
        return None

    def refused(self, method: str, payload: bytes, code: str, field: str) -> None:
        before = row_counts(self.node)
        error = self.call(method, payload)
        assert error is not None, f"{method} took it"
        details = error.details() or ""  # type: ignore[attr-defined]
        assert error.code().name == code, details  # type: ignore[attr-defined]
        if field:
            assert details.split(":", 1)[0] == field, details
        assert len(details) <= 1000
        assert row_counts(self.node) == before, "something was written"


@pytest.fixture
def battery(world: World) -> Iterator[tuple[Battery, str]]:
    """The province (every client service, the rule book's issuer), an officer with every
    role, and one registered complaint."""
    province = world.start(spec("province"))
    province.add_officer(OFFICER, "全能", [r for r in Role if 1 <= enum_number(r) <= 6])
    with province.client(OFFICER) as officer:
        ticket_id = officer.register(
            "battery-0001", to_message(GYM, intake_pb2.NewTicket)
        ).ticket_id
        token = officer.token
    battery = Battery(province, token)
    try:
        yield battery, ticket_id
    finally:
        battery.channel.close()


# Every method: bytes that are no message, too deep, too big --------------------------------


def test_every_method_refuses_bytes_that_are_not_its_message(
    battery: tuple[Battery, str], subtests: pytest.Subtests
) -> None:
    calls, _ = battery
    client_port = port_limit([s.full_name for s in SERVICES])
    for method in METHODS:
        name = path(method)
        limit = request_limit(name)
        with subtests.test(f"{method.name}: garbage"):
            calls.refused(name, b"\xff\xff\xff\xff\x0f", "INVALID_ARGUMENT", "request")
        with subtests.test(f"{method.name}: truncated"):
            calls.refused(name, b"\x0a\x10abc", "INVALID_ARGUMENT", "request")
        with subtests.test(f"{method.name}: nested 1,000 deep"):
            calls.refused(name, nested_groups(1000), "INVALID_ARGUMENT", "request")
        with subtests.test(f"{method.name}: one byte over its size"):
            if limit < client_port:
                calls.refused(name, unknown_field_of(limit + 1), "INVALID_ARGUMENT", "request")
            else:  # the port's largest method: gRPC itself refuses what is larger
                calls.refused(name, unknown_field_of(limit + 1), "RESOURCE_EXHAUSTED", "")
        with subtests.test(f"{method.name}: over the port's size"):
            calls.refused(name, unknown_field_of(client_port + 1), "RESOURCE_EXHAUSTED", "")


def test_a_request_of_exactly_its_size_is_not_refused_for_it(battery: tuple[Battery, str]) -> None:
    calls, _ = battery
    method = "/hotline.v1.AdminService/Ping"
    assert calls.call(method, unknown_field_of(request_limit(method))) is None


# Field by field -----------------------------------------------------------------------------


def registration(**changes: Any) -> bytes:
    ticket = to_message(replace(GYM, **changes), intake_pb2.NewTicket)
    return intake_pb2.RegisterTicketRequest(
        request_id="battery-0002", ticket=ticket
    ).SerializeToString()


def odd_enum(field: str) -> bytes:
    ticket = to_message(GYM, intake_pb2.NewTicket)
    target: Any = ticket
    *parents, last = field.split(".")
    for parent in parents:
        target = getattr(target, parent)
    setattr(target, last, 99)
    return intake_pb2.RegisterTicketRequest(
        request_id="battery-0003", ticket=ticket
    ).SerializeToString()


def attachment(**changes: Any) -> Attachment:
    return replace(Attachment("发票.jpg", DIGEST, 1024), **changes)


REGISTER = "/hotline.v1.IntakeService/RegisterTicket"


def who(**changes: Any) -> bytes:
    """A registration whose filer has ``changes``."""
    return registration(consumer=replace(GYM.consumer, **changes))


def biz(**changes: Any) -> bytes:
    """A registration whose business has ``changes``."""
    return registration(respondent=replace(GYM.respondent, **changes))


def files(*attachments: Attachment) -> bytes:
    """A registration with ``attachments``."""
    return registration(attachments=attachments)


NEW_TICKET = to_message(GYM, intake_pb2.NewTicket)
SHORT_ID = intake_pb2.RegisterTicketRequest(request_id="short", ticket=NEW_TICKET)

REGISTRATION_CASES: list[tuple[str, bytes, str]] = [
    ("name", who(name=over("consumer.name")), "consumer.name"),
    ("address", who(address=over("consumer.address")), "consumer.address"),
    ("ID check character", who(id_number="620102199001011234"), "consumer.id_number"),
    ("ID of 17", who(id_number="62010219900101123"), "consumer.id_number"),
    ("ID with a letter", who(id_number="6201021990O101123X"), "consumer.id_number"),
    ("phone", who(phone="12345"), "consumer.phone"),
    ("business name", biz(name=over("respondent.name")), "respondent.name"),
    ("business address", biz(address=over("respondent.address")), "respondent.address"),
    ("shop name", biz(shop_name=over("respondent.shop_name")), "respondent.shop_name"),
    ("platform", biz(platform_name=over("respondent.platform_name")), "respondent.platform_name"),
    ("credit code", biz(credit_code="91620102MA71ABCDE0"), "respondent.credit_code"),
    ("region", biz(operating_region="62x102"), "respondent.operating_region"),
    ("category", registration(category=over("category")), "category"),
    ("facts", registration(facts=over("facts")), "facts"),
    ("request", registration(request=over("request")), "request"),
    ("amount", registration(amount_fen=10**13), "amount_fen"),
    ("incident region", registration(incident_region="abcdef"), "incident_region"),
    ("too many tags", registration(tags=tuple(f"t{n}" for n in range(MAX_TAGS + 1))), "tags"),
    ("long tag", registration(tags=(over("tags"),)), "tags[0]"),
    ("digest", files(attachment(sha256="not-a-sha256")), "attachments[0].sha256"),
    ("negative size", files(attachment(size_bytes=-5)), "attachments[0].size_bytes"),
    ("huge size", files(attachment(size_bytes=1 << 40)), "attachments[0].size_bytes"),
    ("file name", files(attachment(name=over("attachments.name"))), "attachments[0].name"),
    ("21 attachments", files(*[attachment()] * (MAX_ATTACHMENTS + 1)), "attachments"),
    ("kind", odd_enum("kind"), "kind"),
    ("channel", odd_enum("channel"), "channel"),
    ("source line", odd_enum("source_line"), "source_line"),
    ("business form", odd_enum("respondent.form"), "respondent.form"),
]
"""(case, request, the field of ``ticket`` it names)."""


@pytest.mark.parametrize("label", [case[0] for case in REGISTRATION_CASES])
def test_a_malformed_registration_is_refused_naming_the_field(
    battery: tuple[Battery, str], label: str
) -> None:
    calls, _ = battery
    _, payload, field = next(case for case in REGISTRATION_CASES if case[0] == label)
    calls.refused(REGISTER, payload, "INVALID_ARGUMENT", f"ticket.{field}")


def test_ten_thousand_attachments_are_refused_for_the_size_before_they_are_read(
    battery: tuple[Battery, str],
) -> None:
    calls, _ = battery
    calls.refused(REGISTER, files(*[attachment()] * 10_000), "INVALID_ARGUMENT", "request")


def test_a_request_id_that_makes_no_retry_safe_is_refused(battery: tuple[Battery, str]) -> None:
    calls, _ = battery
    calls.refused(REGISTER, SHORT_ID.SerializeToString(), "INVALID_ARGUMENT", "request_id")


def other_cases(ticket_id: str) -> list[tuple[str, Message, str]]:
    """(method, request, field) for every method besides registration and the steps."""
    campaign = rules_pb2.Campaign(campaign_id="c1", name="预付卡专项", tags=["预付卡"])
    long_name = rules_pb2.Campaign()
    long_name.CopyFrom(campaign)
    long_name.name = over("campaign.name")
    many_terms = rules_pb2.Campaign()
    many_terms.CopyFrom(campaign)
    many_terms.keywords.extend(f"k{n}" for n in range(100))
    policy = rules_pb2.PolicyTable(
        version=over("policy.version"),
        limits=[rules_pb2.TimeLimitRow(duty=1, kind=2, days=7, max_extension_days=-1)],
    )
    odd_duty = rules_pb2.PolicyTable(
        version="2027", limits=[rules_pb2.TimeLimitRow(duty=99, kind=2, days=7)]
    )
    intake, admin = "/hotline.v1.IntakeService/", "/hotline.v1.AdminService/"
    queue, rules = "/hotline.v1.SupervisionService/GetQueue", "/hotline.v1.RulesService/AmendRules"
    officer = admin_pb2.OfficerRecord(officer_id="620000-50", name="王五", unit_code="620000")
    push = admin_pb2.PushOfficerRequest(
        officer_id="620102-50", name="王五", unit_code="620102", roles=[3]
    )
    revoke = partial(changed, admin_pb2.RevokeOfficerRequest(officer_id="620102-50", reason="调离"))
    station = admin_pb2.UnitRecord(code="620102009", name="新所", level=5, parent_code="620102")
    amend = rules_pb2.RuleAmendment
    listing, bundle = intake_pb2.ListTicketsRequest, sync_pb2.TrustBundle
    reveal = partial(
        changed,
        intake_pb2.RevealPersonalDataRequest(ticket_id=ticket_id, field=2, purpose="回访核实"),
    )
    return [
        (intake + "GetTicket", intake_pb2.GetTicketRequest(ticket_id="t" * 65), "ticket_id"),
        (intake + "GetTicket", intake_pb2.GetTicketRequest(ticket_id="620000 1"), "ticket_id"),
        (intake + "GetTicketHistory", intake_pb2.GetTicketHistoryRequest(), "ticket_id"),
        (intake + "GetTicketDeadlines", intake_pb2.GetTicketDeadlinesRequest(), "ticket_id"),
        (intake + "RevealPersonalData", reveal(ticket_id="620000 1"), "ticket_id"),
        (intake + "RevealPersonalData", reveal(field=0), "field"),
        (intake + "RevealPersonalData", reveal(field=99), "field"),
        (intake + "RevealPersonalData", reveal(purpose=""), "purpose"),
        (intake + "RevealPersonalData", reveal(purpose="为" * 201), "purpose"),
        (intake + "ListTickets", listing(holder_prefix="62a"), "holder_prefix"),
        (intake + "ListTickets", listing(holder_prefix="6" * 10), "holder_prefix"),
        (intake + "ListTickets", listing(status=99), "status"),
        (intake + "ListTickets", listing(page_token="p" * 201), "page_token"),
        (intake + "ListTickets", listing(page_token="%%%"), "page_token"),
        (admin + "RegisterOfficer", changed(officer, name=over("officer.name"), roles=[1]), "name"),
        (admin + "RegisterOfficer", changed(officer, officer_id="o" * 33, roles=[1]), "officer_id"),
        (admin + "RegisterOfficer", changed(officer, roles=[99]), "roles"),
        (admin + "RegisterOfficer", changed(officer, unit_code="x" * 500, roles=[1]), "unit_code"),
        (admin + "RegisterUnit", changed(station, name=over("unit.name")), "name"),
        (admin + "RegisterUnit", changed(station, level=99), "level"),
        (admin + "RegisterUnit", changed(station, code="62a102009"), "code"),
        (admin + "ListUnits", admin_pb2.ListUnitsRequest(prefix="x"), "prefix"),
        (admin + "PushOfficer", changed(push, name=over("officer.name")), "name"),
        (admin + "PushOfficer", changed(push, officer_id="o" * 33), "officer_id"),
        (admin + "PushOfficer", changed(push, roles=[99]), "roles"),
        (admin + "PushOfficer", changed(push, unit_code="x" * 500), "unit_code"),
        (admin + "PushOfficer", changed(push, note=over("note")), "note"),
        (admin + "RevokeOfficer", revoke(officer_id="o" * 33), "officer_id"),
        (admin + "RevokeOfficer", revoke(reason=over("reason")), "reason"),
        (admin + "RevokeOfficer", revoke(unit_code="62a"), "unit_code"),
        (admin + "ListOfficerAccounts", admin_pb2.ListOfficerAccountsRequest(prefix="x"), "prefix"),
        (admin + "ReleaseQuarantine", release(origin_node="o" * 65), "origin_node"),
        (admin + "ReleaseQuarantine", release(note=over("release.note")), "note"),
        (admin + "PublishTrust", bundle(authorities=[b"x"] * 101), "trust.authorities"),
        (admin + "PublishTrust", bundle(revocation_lists=[b"x"] * 101), "trust.revocation_lists"),
        (admin + "PublishTrust", bundle(authorities=[b"not DER"]), "trust.authorities[0]"),
        # A unit the province would cover but nobody registered (one outside it is refused
        # at the door, PERMISSION_DENIED: tests/node/test_permissions.py).
        (queue, supervision_pb2.GetQueueRequest(unit_code="629999"), "unit_code"),
        (queue, supervision_pb2.GetQueueRequest(unit_code="62x"), "unit_code"),
        (queue, supervision_pb2.GetQueueRequest(due_within_days=1000), "due_within_days"),
        (rules, amend(start_campaign=long_name), "campaign.name"),
        (rules, amend(start_campaign=many_terms), "campaign.terms"),
        (rules, amend(policy=policy), "policy.version"),
        (rules, amend(policy=odd_duty), "policy.limits[0].duty"),
        (rules, amend(), "change"),
    ]  # fmt: skip


def changed(message: Message, **fields: Any) -> Message:
    """A copy of ``message`` with ``fields`` set (lists extended)."""
    copy = type(message)()
    copy.CopyFrom(message)
    for name, value in fields.items():
        if isinstance(value, list):
            getattr(copy, name).extend(value)
        else:
            setattr(copy, name, value)
    return copy


def release(**fields: Any) -> Message:
    """A quarantine release, well formed but for ``fields``."""
    return changed(admin_pb2.ReleaseQuarantineRequest(origin_node="620102-abcdef"), **fields)


def test_malformed_reads_roster_trust_queue_and_rule_changes_are_refused_naming_the_field(
    battery: tuple[Battery, str], subtests: pytest.Subtests
) -> None:
    calls, ticket_id = battery
    for method, request, field in other_cases(ticket_id):
        with subtests.test(f"{method.rsplit('/', 1)[1]}: {field}"):
            calls.refused(method, request.SerializeToString(), "INVALID_ARGUMENT", field)


PLAIN = {"to_unit": "", "station_code": "620102001", "order_id": "o-1", "case_number": "立案1"}
"""Valid values of the steps' fields that are codes or ids, not free text."""

BAD_CODES = {"to_unit": "62a102", "station_code": "abc"}
"""Values of the steps' code fields that no unit has."""


def valid_step(message_class: type[Message], ticket_id: str) -> Message:
    """A step request whose every field is well formed (the state may still refuse it)."""
    request = message_class()
    for field in request.DESCRIPTOR.fields:
        if field.name == "ticket_id":
            setattr(request, field.name, ticket_id)
        elif field.type == FieldDescriptor.TYPE_STRING:
            setattr(request, field.name, PLAIN.get(field.name, "说明"))
        elif field.type == FieldDescriptor.TYPE_ENUM and field.name != "termination_reason":
            setattr(request, field.name, 1)  # a termination reason only with outcome terminated
        elif field.type in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_INT64):
            setattr(request, field.name, 5)
    return request


def step_cases(ticket_id: str) -> Iterator[tuple[str, str, Callable[[Message], None]]]:
    """(method, field, how to break it) for every field of every casework step."""
    for method in SERVICES[1].methods:
        for field in method.input_type.fields:
            name = field.name
            if name == "ticket_id":
                yield path(method), name, lambda r: setattr(r, "ticket_id", "t" * 65)
            elif field.type == FieldDescriptor.TYPE_STRING and name in TEXT_LIMITS:
                yield path(method), name, lambda r, n=name: setattr(r, n, over(n))  # type: ignore[misc]
            elif field.type == FieldDescriptor.TYPE_STRING and name in BAD_CODES:
                yield path(method), name, lambda r, n=name: setattr(r, n, BAD_CODES[n])  # type: ignore[misc]
            elif field.type == FieldDescriptor.TYPE_ENUM:
                yield path(method), name, lambda r, n=name: setattr(r, n, 99)  # type: ignore[misc]


def test_every_field_of_every_handling_step_is_checked(
    battery: tuple[Battery, str], subtests: pytest.Subtests
) -> None:
    calls, ticket_id = battery
    tried: set[str] = set()
    for method, field, breaking in step_cases(ticket_id):
        pool = descriptor_pool.Default()
        name = method.strip("/").replace("/", ".")
        message_class = getattr(casework_pb2, pool.FindMethodByName(name).input_type.name)
        request = valid_step(message_class, ticket_id)
        breaking(request)
        with subtests.test(f"{method.rsplit('/', 1)[1]}.{field}"):
            calls.refused(method, request.SerializeToString(), "INVALID_ARGUMENT", field)
        tried.add(method)
    assert tried == {path(m) for m in SERVICES[1].methods}


def test_the_officer_asked_for_is_refused_before_a_malformed_read_is_looked_at(
    battery: tuple[Battery, str],
) -> None:
    calls, _ = battery
    rpc = calls.channel.unary_unary("/hotline.v1.IntakeService/GetTicket")
    with pytest.raises(grpc.RpcError) as refused:
        rpc(intake_pb2.GetTicketRequest(ticket_id="t" * 65).SerializeToString(), timeout=15)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]


def test_the_battery_names_every_method_with_fields(battery: tuple[Battery, str]) -> None:
    _, ticket_id = battery
    with_fields = {
        path(m)
        for m in METHODS
        if any(
            f.type
            in (
                FieldDescriptor.TYPE_STRING,
                FieldDescriptor.TYPE_ENUM,
                FieldDescriptor.TYPE_MESSAGE,
            )
            for f in m.input_type.fields
        )
    }
    covered = (
        {REGISTER}
        | {m for m, _, _ in other_cases(ticket_id)}
        | {m for m, _, _ in step_cases(ticket_id)}
    )
    assert with_fields <= covered, sorted(with_fields - covered)
