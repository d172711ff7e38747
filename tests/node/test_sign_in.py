"""Officers sign in to their node, and the door refuses every token that does not hold.

Issue 11, items 1 and 2. A county node provisioned as the world does it (its first security
administrator made on its database, who signs in and gives officers credentials); here the
administrator sets the handler's password, and the handler signs in with password and TOTP code
and acts by the token alone. A call without a token acts as nobody. Each refusal answers its
status code, writes nothing but a row of the access record, and names its reason there.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from core.access.record import first_break
from core.access.sessions import SessionClaims
from core.errors import DomainError, InvalidInput
from core.officers import Role
from node.access import record
from node.access.tokens import sign_token
from node.devnet.officers import DEVNET_PASSWORD
from node.edge.channels import client_channel
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import intake_pb2
from sync.codec import enum_number
from sync.identity import NodeIdentity
from tests.helpers.signin import (
    STRONG_PASSWORD,
    HandMovedTime,
    access_rows,
    code_at,
    gym_walk_in,
    make_admin,
    reasons,
    register,
    registered_by,
    ticket_count,
)
from tests.helpers.world import InProcessNode, World, spec

ADMIN = "620102-90"
HANDLER = "620102-07"
HEAD = "620102-01"
NEWCOMER = "620102-08"
"""On the roster, without credentials yet."""
HANDLER_PASSWORD = "Lanzhou-handler-2027"


@dataclass
class County:
    """Chengguan's node, its hand-moved real time, and the TOTP secrets set on it."""

    node: InProcessNode
    time: HandMovedTime
    admin_secret: str
    handler_secret: str
    world: World
    start: int
    """The last row of the access record once the fixture is set."""

    def sign_in(self, officer: str = HANDLER, password: str = "") -> NodeClient:
        """A client signed in as ``officer`` with the code of now (the administrator with the
        world's password unless another is given)."""
        secret = self.admin_secret if officer == ADMIN else self.handler_secret
        password = password or (DEVNET_PASSWORD if officer == ADMIN else HANDLER_PASSWORD)
        client = self.node.unsigned()
        client.sign_in(officer, password, code_at(secret, self.time.ms))
        return client

    def last_seq(self) -> int:
        """The seq of the access record's last row."""
        return access_rows(self.node)[-1].seq

    def refused(self, call: object) -> CallError:
        """The error a call raised."""
        with pytest.raises(CallError) as failed:
            call()  # type: ignore[operator]
        return failed.value

    def last_reason(self) -> str:
        """``action/outcome/reason`` of the access record's last row."""
        return reasons(self.node)[-1]


@pytest.fixture
def county(world: World) -> Iterator[County]:
    """Chengguan, its parent unreachable, provisioned, with the handler's credentials set anew
    by its security administrator (already signed in by the world) and a newcomer without
    any."""
    time = HandMovedTime()
    node = world.start(spec("chengguan"), real_ms=time)
    assert node.security_admin == ADMIN
    with node.admin() as admin:
        handler = admin.set_credentials(HANDLER, HANDLER_PASSWORD)
        admin.add_officer(NEWCOMER, "新来的", "620102", [enum_number(Role.HANDLER)])
    county = County(node, time, node.signins.secrets[ADMIN], handler.totp_secret, world, 0)
    county.start = county.last_seq()
    yield county


def test_a_signed_in_officer_acts_by_the_token_alone(county: County) -> None:
    with county.sign_in() as handler:
        assert handler.officer_id == HANDLER and handler.token.startswith("hs1.")
        ticket_id = register(handler)
        assert registered_by(handler, ticket_id) == HANDLER
        who = handler.who_am_i()
    assert (who.officer_id, who.officer_name, who.unit_code) == (HANDLER, "李强", "620102")
    assert who.node_id == county.node.node.identity.node_id
    assert who.expires_ms == county.time.ms + 8 * 60 * 60_000
    provisioned = reasons(county.node)
    assert provisioned[:4] == [
        "init-admin/done/",
        "sign-in/done/",
        "admin-act/done/",  # RegisterOfficer
        "set-credentials/done/",
    ]
    assert reasons(county.node, after=county.start) == ["sign-in/done/"]
    last = access_rows(county.node)[-1]
    assert last.officer_id == HANDLER and last.peer.startswith("ipv4:127.0.0.1:")
    assert last.session_id == who.session_id


def test_an_unsigned_call_acts_as_nobody_refused_writes_nothing_and_is_recorded(
    county: County,
) -> None:
    """The officer metadata of old names nobody any more: without a token, a call that needs an
    officer is refused at the door, whatever it names."""
    tickets, before = ticket_count(county.node), county.last_seq()
    request = intake_pb2.RegisterTicketRequest(request_id="unsigned-1", ticket=gym_walk_in())
    with client_channel(county.node.target, county.node.root) as channel:
        rpc = channel.unary_unary(
            "/hotline.v1.IntakeService/RegisterTicket",
            request_serializer=intake_pb2.RegisterTicketRequest.SerializeToString,
            response_deserializer=intake_pb2.RegisterTicketResponse.FromString,
        )
        with pytest.raises(grpc.RpcError) as refused:
            rpc(request, metadata=(("x-hotline-officer", HANDLER),), timeout=15)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "sign in" in (refused.value.details() or "")
    with county.node.unsigned() as nobody:
        failed = county.refused(nobody.who_am_i)
    assert failed.code == "UNAUTHENTICATED"
    assert ticket_count(county.node) == tickets
    assert reasons(county.node, after=before) == ["call/refused/no-token"] * 2
    rows = access_rows(county.node)[-2:]
    assert [r.officer_id for r in rows] == ["", ""]
    assert "RegisterTicket" in rows[0].detail and "WhoAmI" in rows[1].detail


def _forged(county: County) -> str:
    """A good token with its officer changed, the signature kept."""
    with county.sign_in() as handler:
        good = handler.token
    prefix, claims, signature = good.split(".")
    data = base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4))
    changed = SessionClaims.from_bytes(data)
    changed = dataclasses.replace(changed, officer_id=HEAD)
    body = base64.urlsafe_b64encode(changed.to_bytes()).decode().rstrip("=")
    return f"{prefix}.{body}.{signature}"


def _signed_by_a_stranger(county: County) -> str:
    """This node's claims, signed by a key that is not this node's."""
    own = county.node.node.identity
    stranger = NodeIdentity(own.node_id, own.unit_code, own.level, Ed25519PrivateKey.generate())
    claims = SessionClaims("cd" * 16, stranger.node_id, HANDLER, county.time.ms, county.time.ms + 1)
    return sign_token(stranger, claims)


def _other_node(county: County) -> str:
    """The token of a real sign-in at another county's node (Qilihe's administrator)."""
    qilihe = county.world.start(spec("qilihe"), real_ms=county.time)
    with qilihe.client("620103-05") as handler:  # signed in there, for real
        return handler.token


def _idle(county: County) -> str:
    with county.sign_in() as handler:
        token = handler.token
    county.time.advance(minutes=30)
    return token


def _expired(county: County) -> str:
    with county.sign_in() as handler:
        for _ in range(8 * 60 // 25):  # busy all shift long: never idle
            county.time.advance(minutes=25)
            handler.who_am_i()
        county.time.advance(minutes=25)
        return handler.token


def _signed_out(county: County) -> str:
    with county.sign_in() as handler:
        token = handler.token
        handler.sign_out()
    return token


@pytest.mark.parametrize(
    ("make", "reason", "says"),
    [
        (lambda c: "not-a-token", "malformed-token", "not one this node issues"),
        (_forged, "forged-token", "does not verify"),
        (_signed_by_a_stranger, "forged-token", "does not verify"),
        (_other_node, "other-node", "issued by another node"),
        (_idle, "idle", "time without calls"),
        (_expired, "expired", "reached its lifetime"),
        (_signed_out, "signed-out", "signed out"),
    ],
    ids=["malformed", "forged", "foreign-key", "other-node", "idle", "expired", "signed-out"],
)
def test_a_token_that_does_not_hold_is_refused_unauthenticated_writes_nothing_and_is_recorded(
    county: County, make: object, reason: str, says: str
) -> None:
    token = make(county)  # type: ignore[operator]
    tickets = ticket_count(county.node)
    with county.node.unsigned().with_token(token) as bearer:
        failed = county.refused(lambda: register(bearer))
    assert failed.code == "UNAUTHENTICATED"
    assert says in failed.message and "sign in again" in failed.message
    assert ticket_count(county.node) == tickets
    assert county.last_reason() == f"call/refused/{reason}"
    assert "RegisterTicket" in access_rows(county.node)[-1].detail


def test_the_fifth_wrong_password_locks_the_account_for_the_lockout_period(
    county: County,
) -> None:
    code = code_at(county.handler_secret, county.time.ms)
    client = county.node.unsigned()
    for _ in range(4):
        failed = county.refused(lambda: client.sign_in(HANDLER, "Wrong-password-1", code))
        assert failed.code == "UNAUTHENTICATED"
    fifth = county.refused(lambda: client.sign_in(HANDLER, "Wrong-password-1", code))
    assert fifth.code == "PERMISSION_DENIED" and "locked until" in fifth.message
    county.time.advance(minutes=14, seconds=59)
    right = code_at(county.handler_secret, county.time.ms)
    locked = county.refused(lambda: client.sign_in(HANDLER, HANDLER_PASSWORD, right))
    assert locked.code == "PERMISSION_DENIED"
    assert reasons(county.node, after=county.start) == [
        *["sign-in/refused/wrong-password"] * 5,
        "lockout/done/",
        "sign-in/refused/locked",
    ]
    county.time.advance(seconds=1)
    with county.sign_in() as handler:
        assert handler.who_am_i().officer_id == HANDLER
    client.close()


def test_wrong_and_spent_codes_count_toward_the_lockout(county: County) -> None:
    with county.sign_in():
        pass
    client = county.node.unsigned()
    spent = code_at(county.handler_secret, county.time.ms)
    failed = county.refused(lambda: client.sign_in(HANDLER, HANDLER_PASSWORD, spent))
    assert failed.code == "UNAUTHENTICATED"
    wrong = "000000" if spent != "000000" else "111111"
    county.time.advance(seconds=30)
    county.refused(lambda: client.sign_in(HANDLER, HANDLER_PASSWORD, wrong))
    assert reasons(county.node)[-2:] == ["sign-in/refused/spent-code", "sign-in/refused/wrong-code"]
    client.close()


def test_an_unknown_officer_and_one_without_credentials_hear_the_same(county: County) -> None:
    client = county.node.unsigned()
    code = code_at(county.handler_secret, county.time.ms)
    stranger = county.refused(lambda: client.sign_in("620102-99", HANDLER_PASSWORD, code))
    head = county.refused(lambda: client.sign_in(NEWCOMER, HANDLER_PASSWORD, code))
    assert (stranger.code, stranger.message) == (head.code, head.message)
    assert stranger.code == "UNAUTHENTICATED"
    assert reasons(county.node)[-2:] == [
        "sign-in/refused/unknown-officer",
        "sign-in/refused/no-credentials",
    ]
    client.close()


def test_only_a_signed_in_security_administrator_sets_credentials(county: County) -> None:
    with county.sign_in() as handler:
        denied = county.refused(lambda: handler.set_credentials(HEAD, HANDLER_PASSWORD))
    assert denied.code == "PERMISSION_DENIED"
    assert county.last_reason() == "call/refused/missing-role"  # at the door, before the desk
    with county.node.unsigned() as nobody:
        unsigned = county.refused(lambda: nobody.set_credentials(HEAD, HANDLER_PASSWORD))
    assert unsigned.code == "UNAUTHENTICATED"
    assert county.last_reason() == "call/refused/no-token"
    county.time.advance(seconds=30)
    with county.sign_in(ADMIN) as admin:
        weak = county.refused(lambda: admin.set_credentials(HEAD, "short"))
        assert weak.code == "INVALID_ARGUMENT" and weak.message.startswith("password:")
        nobody = county.refused(lambda: admin.set_credentials("620102-99", HANDLER_PASSWORD))
        assert nobody.code == "NOT_FOUND"
        head = admin.set_credentials(HEAD, HANDLER_PASSWORD)
    assert head.otpauth_uri.startswith("otpauth://totp/12315-620102%3A620102-01?secret=")


def test_new_credentials_end_the_officer_s_sessions_and_lift_a_lock(county: County) -> None:
    handler = county.sign_in()
    code = code_at(county.handler_secret, county.time.ms)
    for _ in range(5):
        with pytest.raises(CallError):
            county.node.unsigned().sign_in(HANDLER, "Wrong-password-1", code)
    county.time.advance(seconds=30)
    with county.sign_in(ADMIN) as admin:
        county.handler_secret = admin.set_credentials(HANDLER, HANDLER_PASSWORD).totp_secret
    ended = county.refused(handler.who_am_i)
    assert ended.code == "UNAUTHENTICATED" and "signed out" in ended.message
    with county.sign_in() as again:
        assert again.who_am_i().officer_id == HANDLER
    handler.close()


def test_the_access_record_is_a_signed_chain_and_an_edited_row_breaks_it(county: County) -> None:
    with county.sign_in() as handler:
        handler.sign_out()
    with county.node.unsigned().with_token("hs1.x.y") as bearer:
        county.refused(lambda: register(bearer))
    refusal = county.last_seq()
    db, identity = county.node.node.db, county.node.node.identity
    with db.read() as conn:
        rows = list(record.read(conn))
        assert first_break(rows) is None
        assert all(
            record.signature_holds(conn, r.entry.seq, identity.public.public_key) for r in rows
        )
    with db.write() as conn:  # someone with the database makes a refusal look like a success
        conn.execute(
            text("UPDATE access_record SET outcome = 'done', reason = '' WHERE seq = :seq"),
            {"seq": refusal},
        )
    with db.read() as conn:
        assert first_break(record.read(conn)) == refusal


def test_the_first_security_administrator_is_made_once(county: County) -> None:
    with pytest.raises(DomainError, match="already has a security administrator"):
        make_admin(county.node, "620102-91", at_ms=county.time.ms)
    with pytest.raises(DomainError, match="--reset"):
        make_admin(county.node, ADMIN, at_ms=county.time.ms, renew_provisioned=False)
    renewed = make_admin(county.node, ADMIN, at_ms=county.time.ms, reset=True)
    assert renewed.totp_secret != county.admin_secret
    assert county.last_reason() == "init-admin/done/"
    county.admin_secret = renewed.totp_secret
    county.time.advance(seconds=30)
    with county.sign_in(ADMIN, STRONG_PASSWORD) as admin:
        assert admin.who_am_i().officer_id == ADMIN


def test_an_officer_with_another_role_is_not_made_security_administrator(world: World) -> None:
    node = world.start(spec("chengguan"), provision=False)
    node.node.roster.save_officer(HANDLER, "李强", "620102", frozenset({Role.HANDLER}))
    with pytest.raises(InvalidInput, match="roster id of their own"):
        make_admin(node, HANDLER, at_ms=HandMovedTime().ms)
    assert access_rows(node) == []
