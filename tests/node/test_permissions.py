"""Who may call what: the whole table, walked against a running node (issue 11, item 3).

The city node of the sample world, with an officer of every role of its own unit, officers of
Qilihe (a county of another unit) put on its roster as a moved officer would be, one ticket,
and a security administrator (so the node is past provisioning). For every RPC of the table:
an officer holding a role it names gets past the door (the method may still refuse the dummy
request on its merits: NOT_FOUND, INVALID_ARGUMENT, a domain rule), an officer without such a
role is refused PERMISSION_DENIED, an officer of Qilihe is refused PERMISSION_DENIED where a
jurisdiction rule applies, and a call naming nobody is refused UNAUTHENTICATED. Each refusal
is a row of the access record with its reason. A new RPC without a row fails
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
from sqlalchemy import insert

from core.access.permissions import (
    EVERY_ROLE,
    PERMISSIONS,
    Jurisdiction,
    Permission,
    is_loopback,
    markdown_table,
)
from core.officers import Role
from node.edge.caller import AUTHORIZATION_METADATA, BEARER, OFFICER_METADATA
from node.edge.client import CallError
from node.storage.tables import officers
from proto.hotline.v1 import (
    access_pb2,
    admin_pb2,
    casework_pb2,
    intake_pb2,
    rules_pb2,
    supervision_pb2,
)
from sync.codec import enum_number
from tests.helpers.signin import HandMovedTime, code_at, make_admin, reasons, register
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
    )
]
"""Every service an officer's tool calls on a node's client port."""

CITY = "620100"
QILIHE = "620103"
ADMIN = "620100-90"
ADMIN_PASSWORD = "Lanzhou-city-admin-1"


def own(role: Role) -> str:
    """The city officer holding only ``role``."""
    return f"{CITY}-r-{role.value}"[:32]


def other_unit(role: Role) -> str:
    """The Qilihe officer on the city's roster holding only ``role``."""
    return f"{QILIHE}-r-{role.value}"[:32]


@dataclass
class City:
    """The city node, its ticket, and its administrator's session token."""

    node: InProcessNode
    ticket_id: str
    time: HandMovedTime
    admin_secret: str
    channel: grpc.Channel

    def token(self) -> str:
        """A fresh session token of the security administrator."""
        self.time.advance(seconds=31)
        with self.node.client() as client:
            client.sign_in(ADMIN, ADMIN_PASSWORD, code_at(self.admin_secret, self.time.ms))
            return client.token

    def call(self, method: MethodDescriptor, *, officer: str = "", token: str = "") -> str:
        """Call ``method`` with a dummy request (naming the ticket or no unit); the status
        code's name, OK when it answered."""
        request = _request(method, self.ticket_id)
        metadata: list[tuple[str, str]] = []
        if officer:
            metadata.append((OFFICER_METADATA, officer))
        if token:
            metadata.append((AUTHORIZATION_METADATA, BEARER + token))
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
    return [m for service in CLIENT_PORT_SERVICES for m in service.methods]


@pytest.fixture
def city(world: World) -> Iterator[City]:
    """The city node past provisioning, with its officers, Qilihe's, and one ticket."""
    time = HandMovedTime()
    node = world.start(spec("city"), real_ms=time)
    with node.client() as provisioning:
        for role in Role:
            provisioning.add_officer(own(role), "测试", CITY, [enum_number(role)])
    with node.node.db.write() as conn:
        for role in Role:
            conn.execute(
                insert(officers).values(
                    officer_id=other_unit(role), name="七里河", unit_code=QILIHE, roles=role.value
                )
            )
    node.node.roster.reload()
    with node.client(own(Role.OPERATOR)) as operator:
        ticket_id = register(operator)
    admin = make_admin(node, ADMIN, at_ms=time.ms, password=ADMIN_PASSWORD)
    channel = grpc.insecure_channel(node.target)
    try:
        yield City(node, ticket_id, time, admin.totp_secret, channel)
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
    allowed = _first(rule.roles)
    # A role that may: not refused at the door, nothing refused recorded. The method may still
    # refuse the dummy request on its merits (NOT_FOUND, INVALID_ARGUMENT, a domain rule).
    # The security administrator's token for the AccessService methods about one's own session
    # and credentials; the others (ReadAccessRecord: audit_admin) by their role's officer.
    token = (
        city.token()
        if Role.SECURITY_ADMIN in rule.roles and method.containing_service.name == "AccessService"
        else ""
    )
    before = len(reasons(city.node))
    may = city.call(method, token=token) if token else city.call(method, officer=own(allowed))
    refusals = [r for r in city.last_row(before) if r.startswith("call/refused")]
    if may == "UNAUTHENTICATED" or refusals:
        wrong.append(f"{allowed.value} may, yet {may} {refusals}")
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


def test_an_officer_not_on_the_roster_is_refused_unauthenticated(city: City) -> None:
    get = intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].methods_by_name["GetTicket"]
    before = len(reasons(city.node))
    assert city.call(get, officer="620100-nobody") == "UNAUTHENTICATED"
    assert city.last_row(before) == ["call/refused/unknown-officer"]


def test_a_refused_step_writes_nothing(city: City) -> None:
    with city.node.client(own(Role.OPERATOR)) as operator:
        version = operator.get(city.ticket_id).version
        with pytest.raises(CallError) as refused:
            operator.as_officer(other_unit(Role.DISPATCHER)).step(
                "RouteTicket", casework_pb2.RouteTicketRequest(ticket_id=city.ticket_id)
            )
        assert refused.value.code == "PERMISSION_DENIED"
        assert "no part in ticket" in str(refused.value)
        assert operator.get(city.ticket_id).version == version


def test_a_fresh_node_serves_its_admin_rpcs_on_loopback_until_it_has_a_security_admin(
    world: World,
) -> None:
    time = HandMovedTime()
    node = world.start(spec("qilihe"), real_ms=time)
    with node.client() as anonymous:
        anonymous.add_officer("620103-80", "系统", QILIHE, [enum_number(Role.SYSTEM_ADMIN)])
        make_admin(node, "620103-90", at_ms=time.ms)
        with pytest.raises(CallError) as refused:
            anonymous.add_officer("620103-81", "审计", QILIHE, [enum_number(Role.AUDIT_ADMIN)])
        assert refused.value.code == "UNAUTHENTICATED"
        with pytest.raises(CallError) as refused:
            anonymous.as_officer("620103-80").add_officer(
                "620103-81", "审计", QILIHE, [enum_number(Role.AUDIT_ADMIN)]
            )
        assert refused.value.code == "PERMISSION_DENIED"
        assert "security_admin" in str(refused.value)
    with node.client("620103-90") as security:
        security.add_officer("620103-81", "审计", QILIHE, [enum_number(Role.AUDIT_ADMIN)])
    with node.client("620103-80") as system:
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
    with node.client() as provisioning, pytest.raises(CallError) as refused:
        provisioning.add_officer(
            f"620102-x{uuid.uuid4().hex[:6]}", "双岗", "620102", [enum_number(r) for r in roles]
        )
    assert refused.value.code == "INVALID_ARGUMENT"
    assert refused.value.message.startswith("roles")


@pytest.mark.parametrize(
    ("peer", "local"),
    [
        ("ipv4:127.0.0.1:5123", True),
        ("ipv4:127.8.0.1:5123", True),
        ("ipv6:[::1]:5123", True),
        ("ipv6:[::ffff:127.0.0.1]:5123", True),
        ("unix:/tmp/node.sock", True),
        ("ipv4:10.0.0.7:5123", False),
        ("ipv6:[fe80::1]:5123", False),
        ("ipv4:128.0.0.1:5123", False),
        ("", False),
    ],
)
def test_only_the_nodes_own_machine_counts_as_loopback(peer: str, local: bool) -> None:
    assert is_loopback(peer) is local
