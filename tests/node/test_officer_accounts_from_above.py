"""Officer accounts made at the city reach the county that signs the officer in (issue 11, item 4).

Lanzhou's security administrator makes, moves and revokes the accounts of Chengguan's and
Qilihe's officers; the signed records travel down at the counties' next sync. Credentials stay
per node: Chengguan's own security administrator sets them. A revocation ends the officer's open
sessions there and says so in the access record; a forged record, or one a county signed for a
unit outside it, is refused; any delivery order of the same records gives the same roster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Row, insert, select

from core.errors import InvalidInput
from core.officer_accounts import AccountStatus, OfficerAccount
from core.officers import Role
from node.app.blocking import BlockingPool
from node.cli.main import main
from node.desks.officer_accounts import OfficerAccounts
from node.desks.roster import Roster
from node.edge.client import CallError, NodeClient
from node.storage.database import Database
from node.storage.tables import officer_accounts, officers
from proto.hotline.v1 import accounts_pb2
from sync import schema
from sync.codec import enum_number
from sync.officer_account_signing import account_message, sign_account
from tests.helpers.signin import (
    STRONG_PASSWORD,
    HandMovedTime,
    code_at,
    make_admin,
    reasons,
    register,
)
from tests.helpers.world import InProcessNode, World, spec

CITY_ADMIN = "620100-90"
COUNTY_ADMIN = "620102-90"
QILIHE_ADMIN = "620103-90"
MOVED = "620102-30"
"""The officer the city provisions (王磊, a handler at Chengguan)."""
MOVED_PASSWORD = "Chengguan-handler-27"
HANDLER = [enum_number(Role.HANDLER)]


@dataclass
class Line:
    """Province, city, Chengguan and Qilihe, each node with its security administrator."""

    world: World
    time: HandMovedTime
    secrets: dict[str, str]

    def node(self, name: str) -> InProcessNode:
        return self.world[name]

    def signed_in(self, name: str, officer: str, password: str = STRONG_PASSWORD) -> NodeClient:
        """A client of node ``name`` signed in as ``officer`` with the code of now (time is
        moved half a minute first, so no code is spent twice)."""
        self.time.advance(seconds=31)
        client = self.node(name).client()
        client.sign_in(officer, password, code_at(self.secrets[officer], self.time.ms))
        return client

    def sync(self, *names: str) -> None:
        """One replication round for each named node (its administrators are past
        provisioning, so the round is run on the node itself rather than by SyncNow)."""
        for name in names:
            node = self.node(name)
            assert node.node.link is not None
            node.run(node.node.link.sync_once())

    def roster(self, name: str) -> dict[str, tuple[str, str]]:
        """Officer id -> (unit, roles) on the node's roster."""
        with self.node(name).node.db.read() as conn:
            return {r.officer_id: (r.unit_code, r.roles) for r in conn.execute(select(officers))}


@pytest.fixture
def line(world: World) -> Iterator[Line]:
    time = HandMovedTime()
    for name in ("province", "city", "chengguan", "qilihe"):
        world.start(spec(name), real_ms=time)
    secrets = {
        officer: make_admin(world[name], officer, at_ms=time.ms).totp_secret
        for name, officer in (
            ("city", CITY_ADMIN),
            ("chengguan", COUNTY_ADMIN),
            ("qilihe", QILIHE_ADMIN),
        )
    }
    yield Line(world, time, secrets)


def _push_and_sign_in(line: Line) -> NodeClient:
    """The city makes 王磊's account at Chengguan; Chengguan syncs and sets his credentials; he
    signs in there. Returns his signed-in client."""
    with line.signed_in("city", CITY_ADMIN) as city:
        view = city.push_officer(MOVED, "王磊", "620102", HANDLER)
    assert (view.version, view.issuer_unit, view.source, view.on_roster) == (
        1,
        "620100",
        "here",
        False,
    )
    with line.signed_in("chengguan", COUNTY_ADMIN) as admin:
        with pytest.raises(CallError) as before_sync:
            admin.set_credentials(MOVED, MOVED_PASSWORD)
        assert before_sync.value.code == "NOT_FOUND", "not on Chengguan's roster before its sync"
    line.sync("chengguan")
    with line.signed_in("chengguan", COUNTY_ADMIN) as admin:
        line.secrets[MOVED] = admin.set_credentials(MOVED, MOVED_PASSWORD).totp_secret
    return line.signed_in("chengguan", MOVED, MOVED_PASSWORD)


def test_an_officer_made_at_the_city_signs_in_at_chengguan_once_the_county_sets_credentials(
    line: Line,
) -> None:
    with _push_and_sign_in(line) as officer:
        who = officer.who_am_i()
        assert (who.officer_id, who.officer_name, who.unit_code) == (MOVED, "王磊", "620102")
        assert register(officer)
    with line.signed_in("chengguan", COUNTY_ADMIN) as admin:
        [held] = [a for a in admin.officer_accounts() if a.officer_id == MOVED]
    assert (held.source, held.issuer_unit, held.on_roster) == ("above", "620100", True)
    assert line.roster("chengguan")[MOVED] == ("620102", "handler")
    assert "officer-account/done/" in reasons(line.node("chengguan"))
    assert MOVED not in line.roster("city"), "the city keeps the record, not a roster entry"


def test_a_revocation_at_the_city_ends_the_officers_session_at_chengguan_at_its_next_sync(
    line: Line,
) -> None:
    officer = _push_and_sign_in(line)
    with line.signed_in("city", CITY_ADMIN) as city:
        view = city.revoke_officer(MOVED, "调离执法岗位")
    assert (view.version, view.status) == (2, accounts_pb2.ACCOUNT_STATUS_REVOKED)
    assert officer.who_am_i().officer_id == MOVED, "the county has not synced yet"

    line.sync("chengguan")
    with officer, pytest.raises(CallError) as refused:
        officer.who_am_i()
    assert refused.value.code == "UNAUTHENTICATED"
    assert "revoked or moved" in refused.value.message
    assert MOVED not in line.roster("chengguan")
    rows = reasons(line.node("chengguan"))
    assert rows[-2:] == ["officer-account/done/", "call/refused/account-ended"]
    with pytest.raises(CallError) as again:
        line.signed_in("chengguan", MOVED, MOVED_PASSWORD)
    assert again.value.code == "UNAUTHENTICATED"

    # The county cannot undo it: neither by its old command nor by a record of its own.
    with line.signed_in("chengguan", COUNTY_ADMIN) as admin:
        for attempt in (
            lambda: admin.add_officer(MOVED, "王磊", "620102", HANDLER),
            lambda: admin.push_officer(MOVED, "王磊", "620102", HANDLER),
        ):
            with pytest.raises(CallError) as blocked:
                attempt()
            assert blocked.value.code == "PERMISSION_DENIED"
            assert "620100" in blocked.value.message
    with pytest.raises(InvalidInput, match="account record"):  # nor on the node's machine
        make_admin(line.node("chengguan"), MOVED, at_ms=line.time.ms)
    assert MOVED not in line.roster("chengguan")


def test_an_officer_moved_to_qilihe_keeps_the_id_and_signs_in_there_only(line: Line) -> None:
    officer = _push_and_sign_in(line)
    with line.signed_in("city", CITY_ADMIN) as city:
        view = city.push_officer(MOVED, "王磊", "620103", HANDLER, note="调往七里河区局")
    assert (view.version, view.unit_code) == (2, "620103")
    line.sync("chengguan", "qilihe")
    with officer, pytest.raises(CallError) as refused:
        officer.who_am_i()
    assert refused.value.code == "UNAUTHENTICATED"
    assert MOVED not in line.roster("chengguan")
    assert line.roster("qilihe")[MOVED] == ("620103", "handler")
    with line.signed_in("qilihe", QILIHE_ADMIN) as admin:
        line.secrets[MOVED] = admin.set_credentials(MOVED, MOVED_PASSWORD).totp_secret
    with line.signed_in("qilihe", MOVED, MOVED_PASSWORD) as moved:
        assert moved.who_am_i().unit_code == "620103"


def test_a_county_cannot_push_an_account_for_a_unit_outside_it(line: Line) -> None:
    with line.signed_in("chengguan", COUNTY_ADMIN) as admin:
        with pytest.raises(CallError) as refused:
            admin.push_officer("620103-44", "钱进", "620103", HANDLER)
        assert refused.value.code == "PERMISSION_DENIED"
        own = admin.push_officer("620102-44", "钱进", "620102", HANDLER)
    assert (own.source, own.on_roster) == ("here", True)
    line.sync("chengguan")
    with line.signed_in("city", CITY_ADMIN) as city:
        [held] = [a for a in city.officer_accounts("620102") if a.officer_id == "620102-44"]
    assert held.source == "below", "a county's own records go up, so the city knows"


def _signed_by(node: InProcessNode, account: OfficerAccount) -> accounts_pb2.SignedOfficerAccount:
    identity = node.node.identity
    assert identity.credentials is not None
    signed, _ = sign_account(account, identity, identity.credentials.certificate)
    return signed


def _account(issuer: InProcessNode, version: int, **changes: object) -> OfficerAccount:
    base = OfficerAccount(
        officer_id=MOVED,
        name="王磊",
        unit_code="620102",
        roles=frozenset({Role.HANDLER}),
        status=AccountStatus.ACTIVE,
        version=version,
        issuer_unit=issuer.node.identity.unit_code,
        issuer_node=issuer.node.identity.node_id,
        issued_ms=issuer.node.clock.wall_ms(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_forged_and_foreign_signed_records_are_refused(line: Line) -> None:
    qilihe, city, chengguan = line.node("qilihe"), line.node("city"), line.node("chengguan")
    # Qilihe signs an account for a Chengguan unit: outside its jurisdiction.
    foreign = _signed_by(qilihe, _account(qilihe, 1))
    # The city's genuine record, altered after signing (a unit_head made of a handler).
    genuine = _signed_by(city, _account(city, 1))
    msg = accounts_pb2.OfficerAccount()
    msg.ParseFromString(genuine.account)
    msg.roles[:] = [enum_number(Role.UNIT_HEAD)]
    altered = accounts_pb2.SignedOfficerAccount(
        account=msg.SerializeToString(deterministic=True),
        signature=genuine.signature,
        certificate=genuine.certificate,
    )
    # Both slipped into the city's store as if its database had been tampered with.
    with city.node.db.write() as conn:
        for n, bad in enumerate((foreign, altered)):
            conn.execute(
                insert(officer_accounts).values(
                    officer_id=MOVED,
                    version=1,
                    unit_code="620102",
                    status="active",
                    issuer_unit="620100",
                    issuer_node="x",
                    digest=bytes([n]) * 32,
                    signed=bad.SerializeToString(),
                    received_ms=0,
                    received_from="",
                )
            )
    line.sync("chengguan")
    assert MOVED not in line.roster("chengguan")
    with chengguan.node.db.read() as conn:
        assert conn.execute(select(officer_accounts)).all() == []
    alerts = [a for a in _alerts(chengguan) if a.kind == "account-refused"]
    details = " ".join(a.detail for a in alerts)
    assert "outside its jurisdiction" in details and "does not verify" in details


def _alerts(node: InProcessNode) -> list[Row[Any]]:
    """The node's alerts, read from its database (its administrators are past provisioning,
    and reading alerts is the system administrator's, not in this story)."""
    with node.node.db.read() as conn:
        return list(conn.execute(select(schema.alerts)).all())


def _records(line: Line) -> list[accounts_pb2.SignedOfficerAccount]:
    """Six records of one officer from the province, the city and Chengguan: made, changed,
    moved, revoked, and a county's attempt to re-activate after the city's revocation."""
    province, city, county = line.node("province"), line.node("city"), line.node("chengguan")
    head = frozenset({Role.UNIT_HEAD})
    return [
        _signed_by(county, _account(county, 1)),
        _signed_by(city, _account(city, 1, roles=head)),
        _signed_by(county, _account(county, 2, name="王磊磊")),
        _signed_by(city, _account(city, 2, status=AccountStatus.REVOKED, reason="调离")),
        _signed_by(county, _account(county, 3)),
        _signed_by(province, _account(province, 2, unit_code="620103")),
    ]


def _delivered(line: Line, records: list[accounts_pb2.SignedOfficerAccount], url: str) -> object:
    """The roster row and standing record of a fresh Chengguan database that took
    ``records`` in that order, one page each, from the city."""
    chengguan = line.node("chengguan").node
    db = Database.open(url)
    blocking = BlockingPool(1)
    try:
        roster = Roster(db, "620102", blocking)
        desk = OfficerAccounts(
            db, chengguan.identity, roster, blocking, chengguan.trust, lambda: 0, lambda: 0
        )
        for n, item in enumerate(records, 1):
            desk.take_from_parent("city", accounts_pb2.AccountBatch(accounts=[item], cursor=n))
        with db.read() as conn:
            rows = conn.execute(select(officers)).all()
        top = desk.standing_of(MOVED)
        assert top is not None
        return [tuple(r) for r in rows], account_message(top)
    finally:
        blocking.close()
        db.close()


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(range(6)))
def test_any_delivery_order_of_the_same_records_gives_the_same_roster(
    line: Line, order: list[int]
) -> None:
    records = _records(line)
    expected = _delivered(line, records, line.world.db_urls())
    got = _delivered(line, [records[i] for i in order], line.world.db_urls())
    assert got == expected
    # The province's move stands (the city's revocation is below the province's version 2
    # record's signer): Chengguan's roster does not hold the officer either way.
    rows, top = got  # type: ignore[misc]
    assert rows == [] and top.unit_code == "620103"


def test_the_command_line_pushes_revokes_and_lists_with_source_and_status(
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    world.start_all("province", "city", "chengguan")
    # Each node's security administrator, signed in (``--node`` and ``--token-file``).
    city, county, province = (
        world[name].cli(world[name].security_admin) for name in ("city", "chengguan", "province")
    )

    def hotline(*argv: str) -> str:
        capsys.readouterr()
        status = main(list(argv))
        out, err = capsys.readouterr()
        assert status == 0, err
        return out

    pushed = hotline(
        "officers", "push", *city, "--id", MOVED, "--name", "王磊", "--unit", "620102",
        "--role", "handler",
    )  # fmt: skip
    assert "active 在用, handler 承办人; v1 by 620100 (here 本级" in pushed
    assert "reaches unit 620102's node at its next sync" in pushed
    world.sync("chengguan")
    listed = hotline("officers", "list", *county)
    assert f"{MOVED} 王磊 at 620102: active 在用" in listed
    assert "(from above 上级下发" in listed and "signs in here" in listed
    revoked = hotline("officers", "revoke", *city, "--id", MOVED, "--reason", "调离")
    assert "revoked 已注销" in revoked and "v2" in revoked
    world.sync("chengguan")
    assert "revoked 已注销" in hotline("officers", "list", *county, "--prefix", "620102")
    assert "signs in here" not in hotline("officers", "list", *county)
    world.sync("city")  # and up: the province knows what the city did
    above = hotline("officers", "list", *province)
    assert f"{MOVED} 王磊 at 620102: revoked 已注销" in above and "(from below 下级上报" in above
