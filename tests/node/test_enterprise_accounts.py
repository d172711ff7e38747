"""Enterprise users sign in to the county that enrolled their enterprise, and act as no officer.

Issue 11, item 5. Chengguan's security administrator adds two users of one enterprise (known
by its unified social credit code, 统一社会信用代码); each signs in with their own password and
TOTP code under the officers' rules, and their session says whose user they are. Every RPC an
officer may call is refused to them, recorded, whatever their id; malformed credit codes are
refused naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from google.protobuf import message_factory

from core.access.permissions import PERMISSIONS
from core.access.principals import PrincipalKind
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import access_pb2
from tests.helpers.signin import (
    STRONG_PASSWORD,
    HandMovedTime,
    code_at,
    make_admin,
    reasons,
    register,
    ticket_count,
)
from tests.helpers.world import InProcessNode, World, spec

ADMIN = "620102-90"
CREDIT = "91620102MA74A1B2C9"
OTHER_CREDIT = "91620102MA74CD3E5Q"
USER_PASSWORD = "Gym-owner-2027-ok"


@dataclass
class County:
    """Chengguan, its time, and its security administrator's signed-in client."""

    node: InProcessNode
    time: HandMovedTime
    admin: NodeClient

    def add(self, user_id: str, credit: str = CREDIT, name: str = "张经理") -> str:
        """Add an enterprise user; their TOTP secret."""
        added = self.admin.add_enterprise_user(
            credit, user_id, name, USER_PASSWORD, enterprise_name="兰州某健身有限公司"
        )
        return added.totp_secret

    def sign_in(self, user_id: str, secret: str, credit: str = CREDIT) -> NodeClient:
        """A client signed in as the enterprise user, with the code of now."""
        self.time.advance(seconds=31)  # a fresh TOTP step
        client = self.node.client()
        client.enterprise_sign_in(credit, user_id, USER_PASSWORD, code_at(secret, self.time.ms))
        return client

    def refused(self, call: object) -> CallError:
        with pytest.raises(CallError) as failed:
            call()  # type: ignore[operator]
        return failed.value


@pytest.fixture
def county(world: World) -> Iterator[County]:
    time = HandMovedTime()
    node = world.start(spec("chengguan"), real_ms=time)
    admin = make_admin(node, ADMIN, at_ms=time.ms)
    with node.client() as client:
        client.sign_in(ADMIN, STRONG_PASSWORD, code_at(admin.totp_secret, time.ms))
        yield County(node, time, client)


def test_several_users_of_one_enterprise_sign_in_each_as_themselves(county: County) -> None:
    zhang, li = county.add("zhang"), county.add("li", name="李会计")
    with county.sign_in("zhang", zhang) as first, county.sign_in("li", li) as second:
        for client, user, name in ((first, "zhang", "张经理"), (second, "li", "李会计")):
            session = client.who_am_i()
            assert (session.principal, session.officer_id, session.officer_name) == (
                "enterprise",
                user,
                name,
            )
            assert (session.credit_code, session.enterprise_name) == (CREDIT, "兰州某健身有限公司")
            assert not session.roles and not session.unit_code
        first.sign_out()
    assert reasons(county.node)[-2:] == ["sign-in/done/", "sign-out/done/"]


def test_adding_a_user_is_recorded_and_the_enterprise_enrolled_once(county: County) -> None:
    first = county.admin.add_enterprise_user(
        CREDIT, "zhang", "张经理", USER_PASSWORD, enterprise_name="兰州某健身有限公司"
    )
    second = county.admin.add_enterprise_user(CREDIT, "li", "李会计", USER_PASSWORD)
    assert (first.enrolled, second.enrolled) == (True, False)
    assert first.otpauth_uri.startswith("otpauth://totp/12315-620102")
    assert reasons(county.node)[-1] == "enterprise-user/done/"


def test_an_enterprise_not_enrolled_needs_its_name(county: County) -> None:
    refused = county.refused(
        lambda: county.admin.add_enterprise_user(OTHER_CREDIT, "wang", "王", USER_PASSWORD)
    )
    assert refused.code == "INVALID_ARGUMENT" and refused.message.startswith("enterprise_name")


@pytest.mark.parametrize(
    "credit", [CREDIT[:-1] + "0", CREDIT[:10], "9162O102MA74A1B2C9", ""], ids=str
)
def test_a_malformed_credit_code_is_refused_naming_the_field(county: County, credit: str) -> None:
    before = len(reasons(county.node))
    refused = county.refused(
        lambda: county.admin.add_enterprise_user(
            credit, "zhang", "张", USER_PASSWORD, enterprise_name="某"
        )
    )
    assert refused.code == "INVALID_ARGUMENT" and refused.message.startswith("credit_code")
    with county.node.client() as anonymous:
        refused = county.refused(
            lambda: anonymous.enterprise_sign_in(credit, "zhang", USER_PASSWORD, "123456")
        )
    assert refused.code == "INVALID_ARGUMENT" and refused.message.startswith("credit_code")
    assert len(reasons(county.node)) == before


def test_wrong_tries_lock_an_enterprise_user_as_they_lock_an_officer(county: County) -> None:
    secret = county.add("zhang")
    with county.node.client() as guesser:
        for _ in range(4):
            refused = county.refused(
                lambda: guesser.enterprise_sign_in(CREDIT, "zhang", "Wrong-password-1", "000000")
            )
            assert refused.code == "UNAUTHENTICATED" and "credit code" in refused.message
        locked = county.refused(
            lambda: guesser.enterprise_sign_in(CREDIT, "zhang", "Wrong-password-1", "000000")
        )
    assert locked.code == "PERMISSION_DENIED"
    assert county.refused(lambda: county.sign_in("zhang", secret)).code == "PERMISSION_DENIED"
    assert reasons(county.node)[-3:] == [
        "sign-in/refused/wrong-password",
        "lockout/done/",
        "sign-in/refused/locked",
    ]
    county.add("zhang")  # set anew: the lock is lifted
    assert reasons(county.node)[-1] == "enterprise-user/done/"


def test_an_enterprise_user_of_another_enterprise_or_node_is_not_signed_in(
    county: County, world: World
) -> None:
    secret = county.add("zhang")
    refused = county.refused(lambda: county.sign_in("zhang", secret, credit=OTHER_CREDIT))
    assert refused.code == "UNAUTHENTICATED"
    assert reasons(county.node)[-1] == "sign-in/refused/unknown-account"
    qilihe = world.start(spec("qilihe"))
    with qilihe.client() as client:
        refused = county.refused(
            lambda: client.enterprise_sign_in(
                CREDIT, "zhang", USER_PASSWORD, code_at(secret, county.time.ms)
            )
        )
    assert refused.code == "UNAUTHENTICATED"


def _every_rpc_closed_to_enterprises() -> list[tuple[str, str]]:
    return [
        (service, name)
        for service, methods in PERMISSIONS.items()
        for name, rule in methods.items()
        if not rule.open and PrincipalKind.ENTERPRISE not in rule.outsiders
    ]


def test_an_enterprise_user_passes_no_officers_row(county: County) -> None:
    """Every RPC of the table not opened to enterprise users: refused before it runs,
    PERMISSION_DENIED, recorded as a missing role, nothing written. Their id is an officer's
    id on the roster (the handler's), and still they do not act as that officer."""
    secret = county.add("620102-07")
    tickets = ticket_count(county.node)
    wrong: dict[str, str] = {}
    with county.sign_in("620102-07", secret) as enterprise:
        for service, name in _every_rpc_closed_to_enterprises():
            method = _descriptor(enterprise, service, name)
            request = message_factory.GetMessageClass(method.input_type)()
            before = len(reasons(county.node))
            try:
                enterprise.call(service, name, request)
                wrong[f"{service}.{name}"] = "answered"
                continue
            except CallError as error:
                got = (error.code, reasons(county.node)[before:])
            if got != ("PERMISSION_DENIED", ["call/refused/missing-role"]):
                wrong[f"{service}.{name}"] = str(got)
        refused = county.refused(lambda: register(enterprise))
        assert refused.code == "PERMISSION_DENIED" and "enterprise" in refused.message
    assert wrong == {}
    assert ticket_count(county.node) == tickets


def _descriptor(client: NodeClient, service: str, name: str):  # type: ignore[no-untyped-def]
    from proto.hotline.v1 import (
        admin_pb2,
        casework_pb2,
        consumer_pb2,
        enrolment_pb2,
        intake_pb2,
        rules_pb2,
        supervision_pb2,
    )

    modules = (intake_pb2, casework_pb2, supervision_pb2, rules_pb2, admin_pb2, access_pb2)
    for module in (*modules, consumer_pb2, enrolment_pb2):
        if service in module.DESCRIPTOR.services_by_name:
            return module.DESCRIPTOR.services_by_name[service].methods_by_name[name]
    raise LookupError(service)


def test_only_a_security_administrator_adds_enterprise_users(county: County, world: World) -> None:
    with county.node.unsigned() as anonymous:
        refused = county.refused(
            lambda: anonymous.add_enterprise_user(CREDIT, "zhang", "张", USER_PASSWORD)
        )
    assert refused.code == "UNAUTHENTICATED"
    secret = county.add("zhang")
    with county.sign_in("zhang", secret) as enterprise:
        refused = county.refused(
            lambda: enterprise.add_enterprise_user(CREDIT, "li", "李", USER_PASSWORD)
        )
    assert refused.code == "PERMISSION_DENIED"


def test_a_city_node_enrols_no_enterprise(world: World) -> None:
    time = HandMovedTime()
    city = world.start(spec("city"), real_ms=time)
    admin = make_admin(city, "620100-90", at_ms=time.ms)
    with city.client() as client:
        client.sign_in("620100-90", STRONG_PASSWORD, code_at(admin.totp_secret, time.ms))
        with pytest.raises(CallError) as refused:
            client.add_enterprise_user(
                CREDIT, "zhang", "张", USER_PASSWORD, enterprise_name="兰州某健身有限公司"
            )
    assert refused.value.code == "FAILED_PRECONDITION" and "county" in refused.value.message
