"""The pure rules behind the door: administrators alone, jurisdiction over a ticket and a unit.

What ``tests/node/test_permissions.py`` walks on a running node, judged here case by case on
the rules themselves (``core.officers``, ``core.ticket.authority``, ``core.access.permissions``).
"""

from __future__ import annotations

import pytest

from core.access.permissions import CallScope, Permission, permission_of, why_refused
from core.access.reasons import CallRefusal
from core.officers import ADMIN_ROLES, TICKET_ROLES, Officer, Role, why_roles_conflict
from core.ticket.authority import why_outside_ticket
from core.ticket.state import SupervisionOrder, TicketState
from core.units import UnitLevel

GET_QUEUE = "/hotline.v1.SupervisionService/GetQueue"
GET_TICKET = "/hotline.v1.IntakeService/GetTicket"


def officer(unit: str, level: UnitLevel, *roles: Role) -> Officer:
    """An officer of ``unit``."""
    return Officer(f"{unit}-01", "测试", unit, level, frozenset(roles))


CHENGGUAN_HANDLER = officer("620102", UnitLevel.COUNTY, Role.HANDLER)
QILIHE_HANDLER = officer("620103", UnitLevel.COUNTY, Role.HANDLER)
CITY_SUPERVISOR = officer("620100", UnitLevel.CITY, Role.SUPERVISOR)


def rule(method: str) -> Permission:
    """The table's row for ``method``."""
    found = permission_of(method)
    assert found is not None
    return found


@pytest.mark.parametrize("admin", sorted(ADMIN_ROLES, key=lambda r: r.value))
def test_an_administrator_may_hold_their_role_alone(admin: Role) -> None:
    assert why_roles_conflict(frozenset({admin})) is None


@pytest.mark.parametrize("admin", sorted(ADMIN_ROLES, key=lambda r: r.value))
@pytest.mark.parametrize("other", sorted(Role, key=lambda r: r.value))
def test_an_administrator_holds_no_second_role(admin: Role, other: Role) -> None:
    if other is admin:
        return
    assert why_roles_conflict(frozenset({admin, other})) is not None


def test_ticket_roles_combine_freely() -> None:
    assert why_roles_conflict(TICKET_ROLES) is None


def test_a_county_has_no_part_in_a_ticket_of_the_county_beside_it() -> None:
    state = TicketState("t1", holder_unit="620102", units_involved=("620100", "620102"))
    assert why_outside_ticket(state, CHENGGUAN_HANDLER.ref()) is None
    assert why_outside_ticket(state, CITY_SUPERVISOR.ref()) is None
    assert "620103 has no part" in (why_outside_ticket(state, QILIHE_HANDLER.ref()) or "")


def test_a_unit_ordered_to_report_has_a_part_wherever_the_ticket_is() -> None:
    order = SupervisionOrder("o1", "620100", "620103", 5, "说明情况", 1)
    state = TicketState("t1", holder_unit="620102", units_involved=("620102",))
    assert why_outside_ticket(state, QILIHE_HANDLER.ref()) is not None
    ordered = TicketState(
        "t1", holder_unit="620102", units_involved=("620102",), supervision_orders=(order,)
    )
    assert why_outside_ticket(ordered, QILIHE_HANDLER.ref()) is None


def test_a_queue_is_read_at_the_unit_or_above_it_only() -> None:
    queue = rule(GET_QUEUE)
    below = CallScope("620100", unit="620102")
    assert why_refused(GET_QUEUE, queue, CITY_SUPERVISOR, below) is None
    assert why_refused(GET_QUEUE, queue, CHENGGUAN_HANDLER, CallScope("620102")) is None
    refused = why_refused(GET_QUEUE, queue, CHENGGUAN_HANDLER, CallScope("620100"))
    assert refused is not None and refused.denial is CallRefusal.OUTSIDE_JURISDICTION
    assert "620100 (unit_code) is outside the jurisdiction of 620102" in refused.message


def test_a_missing_role_is_named_with_the_roles_held() -> None:
    admin = officer("620102", UnitLevel.COUNTY, Role.SYSTEM_ADMIN)
    refused = why_refused(GET_TICKET, rule(GET_TICKET), admin, CallScope("620102"))
    assert refused is not None and refused.denial is CallRefusal.MISSING_ROLE
    assert "officer 620102-01 holds system_admin" in refused.message


def test_a_ticket_not_held_here_is_left_to_the_method() -> None:
    scope = CallScope("620102", ticket=None)
    assert why_refused(GET_TICKET, rule(GET_TICKET), QILIHE_HANDLER, scope) is None


def test_no_method_outside_the_table_has_a_rule() -> None:
    assert permission_of("/hotline.v1.SyncService/PushEvents") is None
    assert permission_of("/hotline.v1.AdminService/DropEverything") is None
