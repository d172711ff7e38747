"""Who may call what: the whole table, walked against a running node (issue 11, item 3).

The city node of the sample world, with an officer of every role of its own unit, officers of
Qilihe (a county of another unit) put on its roster as a moved officer would be, one ticket,
and its security administrator; every officer signed in for real. For every RPC of the table:
an officer holding a role it names gets past the door (the method may still refuse the dummy
request on its merits: NOT_FOUND, INVALID_ARGUMENT, a domain rule), an officer without such a
role is refused PERMISSION_DENIED, an officer of Qilihe is refused PERMISSION_DENIED where a
jurisdiction rule applies, and a call without a session token is refused UNAUTHENTICATED. Each
refusal is a row of the access record with its reason. A new RPC without a row fails
``test_the_table_covers_every_method_of_every_client_port_service``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from sqlalchemy import delete, insert

from core.access.permissions import (
    EVERY_ROLE,
    PERMISSIONS,
    Jurisdiction,
    Permission,
    markdown_table,
)
from core.officers import Role
from node.edge.channels import client_channel
from node.edge.client import CallError, token_metadata
from node.storage.tables import officers
from proto.hotline.v1 import (
    access_pb2,
    admin_pb2,
    casework_pb2,
    consumer_pb2,
    enrolment_pb2,
    intake_pb2,
    odr_pb2,
    rules_pb2,
    supervision_pb2,
)
from sync.codec import enum_number
from tests.helpers.signin import HandMovedTime, reasons, register, ticket_count
from tests.helpers.world import InProcessNode, World, spec

CLIENT_PORT_SERVICES = [
    module.DESCRIPTOR.services_by_name[name]
    for module, name in (
        (intake_pb2, "IntakeService"),
        (casework_pb2, "CaseworkService"),
        (supervision_pb2, "SupervisionService"),
        (rules_pb2, "RulesService"),
        (admin_pb2, "AdminService"),
        (access_pb2, "AccessService"),
        (odr_pb2, "OdrService"),
        (consumer_pb2, "ConsumerService"),
        (enrolment_pb2, "EnrolmentService"),
    )
]
"""Every service an officer's tool calls on a node's client port."""

CITY = "620100"
QILIHE = "620103"


def own(role: Role) -> str:
    """The city officer holding only ``role``."""
    return f"{CITY}-r-{role.value}"[:32]


def other_unit(role: Role) -> str:
    """The Qilihe officer on the city's roster holding only ``role``."""
    return f"{QILIHE}-r-{role.value}"[:32]


@dataclass
class City:
    """The city node, its ticket, and a TLS channel to its client port."""

    node: InProcessNode
    ticket_id: str
    time: HandMovedTime
    channel: grpc.Channel

    def fresh_token(self, officer: str) -> str:
        """A session token of ``officer`` from a new sign-in (a walk of SignOut ends it; the
        officer is signed in again by ``signed_in_again``)."""
        self.node.signins.forget(officer)
        self.time.advance(seconds=31)  # a new TOTP step: the code of the last is spent
        return self.node.signins.token(officer)

    def signed_in_again(self, officer: str) -> None:
        """A new session kept for ``officer`` (after a walk that may have ended theirs)."""
        self.fresh_token(officer)

    def call(self, method: MethodDescriptor, *, officer: str = "", token: str = "") -> str:
        """Call ``method`` with a dummy request (naming the ticket or no unit) as ``officer``
        signed in (or with ``token``; with neither, no token at all); the status code's name,
        OK when it answered."""
        request = _request(method, self.ticket_id)
        if officer:
            token = self.node.signins.token(officer)
        metadata = token_metadata(token)
        stub = self.channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=lambda b: b,
        )
        try:
            stub(request, metadata=metadata, timeout=30)
        except grpc.RpcError as error:
            return str(error.code().name)  # type: ignore[attr-defined]
        return "OK"

    def last_row(self, after: int) -> list[str]:
        """The access record's rows after ``after`` rows."""
        return reasons(self.node)[after:]


def _request(method: MethodDescriptor, ticket_id: str) -> Message:
    cls = message_factory.GetMessageClass(method.input_type)
    request = cls()
    if "ticket_id" in method.input_type.fields_by_name:
        request.ticket_id = ticket_id
    return request


def _rule(method: MethodDescriptor) -> Permission:
    return PERMISSIONS[method.containing_service.name][method.name]


def _every_method() -> list[MethodDescriptor]:
    """Every method of the city's client port (OdrService, served on counties for enterprise
    users only, is walked by tests/node/test_odr_disputes.py)."""
    return [
        m
        for service in CLIENT_PORT_SERVICES
        for m in service.methods
        if service.name != "OdrService"
    ]


@pytest.fixture
def city(world: World) -> Iterator[City]:
    """The city node provisioned, with its officers, Qilihe's, and one ticket."""
    time = HandMovedTime()
    node = world.start(spec("city"), real_ms=time)
    for role in Role:
        node.add_officer(own(role), "测试", (role,))
    with node.node.db.write() as conn:
        for role in Role:
            conn.execute(
                insert(officers).values(
                    officer_id=other_unit(role), name="七里河", unit_code=QILIHE, roles=role.value
                )
            )
    node.node.roster.reload()
    node.signins.give_credentials(other_unit(role) for role in Role)
    for role in Role:  # signed in now, so that no test's rows are mixed with sign-ins
        node.signins.token(own(role))
        node.signins.token(other_unit(role))
    with node.client(own(Role.OPERATOR)) as operator:
        ticket_id = register(operator)
    channel = client_channel(node.target, node.root)
    try:
        yield City(node, ticket_id, time, channel)
    finally:
        channel.close()


def test_the_table_covers_every_method_of_every_client_port_service() -> None:
    served = {(s.name, m.name) for s in CLIENT_PORT_SERVICES for m in s.methods}
    table = {(service, name) for service, methods in PERMISSIONS.items() for name in methods}
    assert served - table == set(), "RPCs without a rule: add them to core.access.permissions"
    assert table - served == set(), "rules for RPCs that do not exist"


def test_every_rule_names_a_request_field_that_exists() -> None:
    for method in _every_method():
        rule = _rule(method)
        if rule.jurisdiction in (Jurisdiction.TICKET, Jurisdiction.UNIT):
            assert rule.field in method.input_type.fields_by_name, method.full_name


def test_the_documented_table_is_the_code_table() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    assert markdown_table() in doc, (
        "docs/security.md: paste core.access.permissions.markdown_table()"
    )


def _first(roles: frozenset[Role]) -> Role:
    return next(r for r in Role if r in roles)


def _walk(city: City, method: MethodDescriptor) -> list[str]:
    """What went wrong for one RPC: a role that may, one that may not, another unit, nobody."""
    rule = _rule(method)
    wrong: list[str] = []
    if rule.open:  # SignIn: the dummy sign-in is refused on its merits, not at the door
        before = len(reasons(city.node))
        code = city.call(method)
        if [r for r in city.last_row(before) if r.startswith("call/refused")]:
            wrong.append(f"open, yet refused at the door: {code} {city.last_row(before)}")
        return wrong
    if not rule.roles:  # a consumer's own page: no officer at all (tests/node/test_consumer_page)
        for role in Role:
            before = len(reasons(city.node))
            code = city.call(method, officer=own(role))
            expected = ("PERMISSION_DENIED", ["call/refused/missing-role"])
            if (code, city.last_row(before)) != expected:
                wrong.append(f"{role.value} is no consumer, yet {code} {city.last_row(before)}")
        before = len(reasons(city.node))
        code = city.call(method)
        if (code, city.last_row(before)) != ("UNAUTHENTICATED", ["call/refused/no-token"]):
            wrong.append(f"nobody: {code} {city.last_row(before)}")
        return wrong
    allowed = _first(rule.roles)
    # A role that may: not refused at the door, nothing refused recorded. The method may still
    # refuse the dummy request on its merits (NOT_FOUND, INVALID_ARGUMENT, a domain rule).
    fresh = method.containing_service.name == "AccessService"  # SignOut ends its session
    token = city.fresh_token(own(allowed)) if fresh else city.node.signins.token(own(allowed))
    before = len(reasons(city.node))
    may = city.call(method, token=token)
    refusals = [r for r in city.last_row(before) if r.startswith("call/refused")]
    if may == "UNAUTHENTICATED" or refusals:
        wrong.append(f"{allowed.value} may, yet {may} {refusals}")
    if fresh:
        city.signed_in_again(own(allowed))
    refused_roles = EVERY_ROLE - rule.roles
    if refused_roles:
        denied = _first(refused_roles)
        before = len(reasons(city.node))
        code = city.call(method, officer=own(denied))
        if (code, city.last_row(before)) != ("PERMISSION_DENIED", ["call/refused/missing-role"]):
            wrong.append(f"{denied.value} may not, yet {code} {city.last_row(before)}")
    if rule.jurisdiction is not Jurisdiction.NONE:
        before = len(reasons(city.node))
        code = city.call(method, officer=other_unit(allowed))
        expected = ("PERMISSION_DENIED", ["call/refused/outside-jurisdiction"])
        if (code, city.last_row(before)) != expected:
            wrong.append(f"Qilihe's {allowed.value}: {code} {city.last_row(before)}")
    before = len(reasons(city.node))
    code = city.call(method)
    if (code, city.last_row(before)) != ("UNAUTHENTICATED", ["call/refused/no-token"]):
        wrong.append(f"nobody: {code} {city.last_row(before)}")
    return wrong


def test_the_whole_table_holds_on_a_running_node(city: City) -> None:
    wrong = {m.full_name: w for m in _every_method() if (w := _walk(city, m))}
    assert wrong == {}


def test_an_rpc_missing_from_the_table_is_refused_whoever_calls(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(PERMISSIONS["AdminService"], "Ping")
    ping = admin_pb2.DESCRIPTOR.services_by_name["AdminService"].methods_by_name["Ping"]
    before = len(reasons(city.node))
    assert city.call(ping, officer=own(Role.SYSTEM_ADMIN)) == "PERMISSION_DENIED"
    assert city.call(ping) == "PERMISSION_DENIED"
    assert city.last_row(before) == ["call/refused/no-rule"] * 2


def test_a_token_of_an_officer_taken_off_the_roster_is_refused_unauthenticated(
    city: City,
) -> None:
    get = intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].methods_by_name["GetTicket"]
    city.node.add_officer("620100-gone", "调走", (Role.HANDLER,))
    token = city.node.signins.token("620100-gone")
    with city.node.node.db.write() as conn:
        conn.execute(delete(officers).where(officers.c.officer_id == "620100-gone"))
    city.node.node.roster.reload()
    before = len(reasons(city.node))
    assert city.call(get, token=token) == "UNAUTHENTICATED"
    assert city.last_row(before) == ["call/refused/unknown-officer"]


def test_an_officer_of_another_county_or_without_the_role_is_refused_writes_nothing_and_is_recorded(
    city: City,
) -> None:
    route = casework_pb2.RouteTicketRequest(ticket_id=city.ticket_id)
    with city.node.client(own(Role.OPERATOR)) as operator:
        version = operator.get(city.ticket_id).version
    tickets, before = ticket_count(city.node), len(reasons(city.node))
    with (
        city.node.client(other_unit(Role.DISPATCHER)) as moved,
        pytest.raises(CallError) as outside,
    ):
        moved.step("RouteTicket", route)
    assert outside.value.code == "PERMISSION_DENIED"
    assert "no part in ticket" in str(outside.value)
    with city.node.client(own(Role.HANDLER)) as handler, pytest.raises(CallError) as no_role:
        handler.step("RouteTicket", route)
    assert no_role.value.code == "PERMISSION_DENIED" and "dispatcher" in no_role.value.message
    with city.node.client(own(Role.OPERATOR)) as operator:
        assert operator.get(city.ticket_id).version == version
    assert ticket_count(city.node) == tickets
    assert city.last_row(before) == [
        "call/refused/outside-jurisdiction",
        "call/refused/missing-role",
    ]


def test_a_fresh_node_serves_nobody_until_its_security_admin_is_made_on_its_machine(
    world: World,
) -> None:
    node = world.start(spec("qilihe"), provision=False)
    with node.unsigned() as anonymous, pytest.raises(CallError) as refused:
        anonymous.add_officer("620103-80", "系统", QILIHE, [enum_number(Role.SYSTEM_ADMIN)])
    assert refused.value.code == "UNAUTHENTICATED"
    assert reasons(node) == ["call/refused/no-token"]
    node.provision()  # init-admin on its database; the administrator signs in, adds officers
    node.add_officer("620103-81", "审计", (Role.AUDIT_ADMIN,))
    with node.admin() as security, pytest.raises(CallError) as refused:
        security.sync_now()
    assert refused.value.code == "PERMISSION_DENIED" and "system_admin" in str(refused.value)
    with node.client(node.system_admin) as system:
        system.sync_now()  # past the door (its report may say the parent is down)


@pytest.mark.parametrize(
    "roles",
    [
        [Role.HANDLER, Role.SYSTEM_ADMIN],
        [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN],
        [Role.UNIT_HEAD, Role.AUDIT_ADMIN],
    ],
    ids=lambda roles: "+".join(r.value for r in roles),
)
def test_an_administrator_holds_one_role_alone(world: World, roles: list[Role]) -> None:
    node = world.start(spec("chengguan"))
    with node.admin() as security, pytest.raises(CallError) as refused:
        security.add_officer(
            f"620102-x{uuid.uuid4().hex[:6]}", "双岗", "620102", [enum_number(r) for r in roles]
        )
    assert refused.value.code == "INVALID_ARGUMENT"
    assert refused.value.message.startswith("roles")
