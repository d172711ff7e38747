"""Administrators' acts are rows of the access record: who changed the node, what, from where.

Issue 11, item 6: "Every sign-in, refusal of access and administrative act is an append-only
record". The acts served through other desks than sign-in (the roster, units, replication,
quarantine, trust) are recorded at the edge by ``node.edge.acts.ActRecorder``.
"""

from __future__ import annotations

import pytest

from core.access.record import AccessAction, AccessOutcome
from core.officers import Role
from core.units import UnitLevel
from node.edge.acts import RECORDED_ACTS
from node.edge.client import CallError
from sync.codec import enum_number
from tests.helpers.signin import access_rows
from tests.helpers.world import World, spec


def test_an_officer_put_on_the_roster_is_a_row_naming_the_security_administrator(
    world: World,
) -> None:
    node = world.start(spec("chengguan"))
    before = access_rows(node)[-1].seq
    with node.admin() as admin:
        admin.add_officer("620102-31", "赵敏", "620102", [enum_number(Role.HANDLER)])
    acts = [e for e in access_rows(node) if e.seq > before and e.action is AccessAction.ADMIN_ACT]
    assert len(acts) == 1
    act = acts[0]
    assert act.officer_id == node.security_admin
    assert act.outcome is AccessOutcome.DONE
    assert act.detail.startswith("RegisterOfficer ")
    assert "620102-31" in act.detail
    assert act.session_id and act.peer.startswith("ipv4:127.0.0.1")


def test_a_unit_added_and_a_sync_round_are_rows_of_the_system_administrator(world: World) -> None:
    node = world.start(spec("chengguan"))
    before = access_rows(node)[-1].seq
    with node.client() as system:
        station = enum_number(UnitLevel.STATION)
        system.add_unit("620102009", "城关区测试所", station, "620102")
        system.sync_now()
    acts = [e for e in access_rows(node) if e.seq > before and e.action is AccessAction.ADMIN_ACT]
    assert [a.detail.split(" ", 1)[0] for a in acts] == ["RegisterUnit", "SyncNow"]
    assert {a.officer_id for a in acts} == {node.system_admin}


def test_a_refused_act_is_the_guards_row_and_no_act_row(world: World) -> None:
    node = world.start(spec("chengguan"))
    before = access_rows(node)[-1].seq
    with node.client() as system, pytest.raises(CallError) as refused:
        system.add_officer("620102-32", "钱进", "620102", [enum_number(Role.HANDLER)])
    assert refused.value.code == "PERMISSION_DENIED"
    rows = [e for e in access_rows(node) if e.seq > before]
    assert [(r.action, r.outcome) for r in rows] == [(AccessAction.CALL, AccessOutcome.REFUSED)]


def test_every_recorded_act_is_an_administrators_method_of_the_table() -> None:
    from core.access.permissions import PERMISSIONS

    admin_roles = {Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN}
    for method in RECORDED_ACTS:
        service, name = method.strip("/").removeprefix("hotline.v1.").split("/")
        rule = PERMISSIONS[service][name]
        assert rule.roles and rule.roles <= admin_roles, method
