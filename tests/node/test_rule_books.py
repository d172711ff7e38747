"""The province's rule book on real nodes: issued at the province, judged by everywhere below.

Holiday years, time-limit tables and campaigns are amended at the province node by its
supervisor and reach every node of the province in the next replication round (docs/deadlines.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial
from pathlib import Path

import pytest

from core.deadlines.china_time import CHINA_TZ
from core.deadlines.rulebook import Campaign, RuleBook
from core.ticket.state import TicketState, TicketStatus
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.devnet.samples import demo_tickets
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2, rules_pb2
from sync.codec import from_message, to_message
from sync.rule_book_signing import sign_rule_book
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.tickets import entries
from tests.helpers.world import World

SUPERVISOR = 1  # 刘洋, operator and supervisor at the province
COVID = rules_pb2.Campaign(campaign_id="covid", name="新冠疫情防控", tags=["新冠疫情"], days=3)


def start_line(world: World, time: HandMovedTime) -> None:
    world.start_all("province", "city", "chengguan", clock=Clock(_real=time))


_callers = iter(range(1000, 10_000))


def register(centre: NodeClient, label: str, *tags: str) -> str:
    """A demo ticket from a new caller (not a duplicate), with ``tags``."""
    ticket = to_message(dict(demo_tickets())[label], intake_pb2.NewTicket)
    ticket.consumer.phone = f"1390931{next(_callers):04d}"
    ticket.tags.extend(tags)
    return str(centre.register(uuid.uuid4().hex, ticket).ticket_id)


def register_and_route(centre: NodeClient, label: str, *tags: str) -> str:
    """A demo ticket from a new caller, routed by the dispatcher."""
    ticket_id = register(centre, label, *tags)
    centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    return ticket_id


def state_of(client: NodeClient, ticket_id: str) -> TicketState:
    return from_message(TicketState, client.get(ticket_id))


def due_dates(world: World, node: str = "chengguan") -> dict[str, dt.date]:
    """Each ticket's last day to decide acceptance, from the unit's queue."""
    with world.officer(node) as handler:
        queue = handler.queue()
    return {
        e.ticket_id: dt.datetime.fromtimestamp(e.due_ms / 1000 - 1, CHINA_TZ).date()
        for e in entries(queue)
        if e.duty == "decide_acceptance"
    }


def test_a_campaign_routes_matching_tickets_at_once_and_compresses_their_limits_only(
    world: World,
) -> None:
    time = HandMovedTime(china("2026-12-01", 10))  # a Tuesday
    start_line(world, time)
    with world.officer("province", SUPERVISOR) as supervisor:
        view = supervisor.amend_rules(rules_pb2.RuleAmendment(start_campaign=COVID))
    assert view.rule_book.number == 1 and view.rule_book.campaigns[0].started_ms
    world.sync("city", "chengguan")
    with world.officer("province") as centre:
        tagged = register(centre, "fridge", "新冠疫情")  # routed at once, by the node itself
        plain = register(centre, "gym")
        assert state_of(centre, tagged).holder_unit == "620102"
        assert state_of(centre, plain).status is TicketStatus.REGISTERED  # waits for dispatch
        centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=plain))
    world.sync("city", "chengguan")
    # Counting from 12-02: three working days end Friday 12-04, seven end Thursday 12-10.
    assert due_dates(world) == {tagged: dt.date(2026, 12, 4), plain: dt.date(2026, 12, 10)}

    time.set(china("2026-12-02", 9))
    with world.officer("province", SUPERVISOR) as supervisor:
        supervisor.amend_rules(rules_pb2.RuleAmendment(stop_campaign="covid"))
    time.set(china("2026-12-02", 11))
    with world.officer("province") as centre:
        after = register_and_route(centre, "fridge", "新冠疫情")  # dispatched by hand again
    world.sync("city", "chengguan")
    assert due_dates(world) == {
        tagged: dt.date(2026, 12, 4),  # matched while the campaign ran: stays compressed
        plain: dt.date(2026, 12, 10),
        after: dt.date(2026, 12, 11),  # received after it ended: the normal table
    }
    with world["chengguan"].client() as county:
        assert county.rules().rule_book.number == 2

    world.take_down("chengguan")  # the rule book survives a restart of the county
    world.bring_up("chengguan")
    with world["chengguan"].client() as county:
        held = county.rules()
    assert held.rule_book.number == 2 and held.issued_by.startswith("620000")
    assert due_dates(world)[tagged] == dt.date(2026, 12, 4)


def test_holidays_loaded_at_the_province_move_a_county_deadline_at_the_next_round(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    time = HandMovedTime(china("2026-12-28", 10))  # a Monday; the package stops at 2026
    start_line(world, time)
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    # 2027 unknown: weekends only. From 12-29: 29, 30, 31, 1 (Fri), 4, 5, 6.
    assert due_dates(world) == {ticket_id: dt.date(2027, 1, 6)}
    with world["chengguan"].client() as county:
        assert 2027 in county.rules().unknown_years

    holidays = tmp_path / "2027.toml"
    holidays.write_text(
        'year = 2027\nrest_days = ["2027-01-01", "2027-01-02", "2027-01-03"]\nworkdays = []\n',
        encoding="utf-8",
    )
    assert hotline(["rules", "holidays", str(holidays), *world["province"].cli("620000-02")]) == 0
    assert "holidays 2027: 3 rest days" in capsys.readouterr().out
    world.sync("city", "chengguan")
    # New Year's Day rests: 29, 30, 31, 4, 5, 6, 7.
    assert due_dates(world) == {ticket_id: dt.date(2027, 1, 7)}
    with world["chengguan"].client() as county:
        view = county.rules()
    assert 2027 in view.calendar_years and 2027 not in view.unknown_years
    assert hotline(["rules", "show", *world["chengguan"].cli("620102-07")]) == 0
    assert "rule book of 620000 no. 1" in capsys.readouterr().out


def test_only_the_province_supervisor_or_head_amends_the_rule_book(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start_line(world, HandMovedTime(china("2026-12-01", 10)))
    change = rules_pb2.RuleAmendment(start_campaign=COVID)
    with world.officer("province") as operator, pytest.raises(CallError) as refused:
        operator.amend_rules(change)  # 王芳: operator and dispatcher
    assert refused.value.code == "PERMISSION_DENIED"
    with world.officer("chengguan", 1) as county_head, pytest.raises(CallError) as refused:
        county_head.amend_rules(change)
    assert refused.value.code == "PERMISSION_DENIED" and "province" in refused.value.message

    bad = tmp_path / "bad.toml"
    bad.write_text('year = 2027\nrest_days = ["2027-02-30"]\n', encoding="utf-8")
    args = world["province"].cli("620000-02")
    assert hotline(["rules", "holidays", str(bad), *args]) == 2
    assert "holidays.2027.rest_days[0]" in capsys.readouterr().err
    assert hotline(["campaign", "start", "--id", "x", "--name", "专项", *args]) == 2
    assert "campaign.terms" in capsys.readouterr().err
    with world["province"].client() as province:
        assert province.rules().rule_book.number == 0  # nothing half-written


def test_a_rule_book_not_issued_by_the_province_node_is_refused_and_alerted(world: World) -> None:
    start_line(world, HandMovedTime(china("2026-12-01", 10)))
    city = world["city"].node
    forged_book = RuleBook("620000", number=9, issued_ms=city.clock.wall_ms()).with_campaign(
        Campaign("fake", "伪造", city.clock.wall_ms(), tags=("x",)), city.clock.wall_ms()
    )
    assert city.identity.credentials is not None
    forged = sign_rule_book(forged_book, city.identity, city.identity.credentials.certificate)
    county = world["chengguan"].node
    reason = county.writer.call(partial(county.rules.learn, signed=forged))
    assert "only the province's own node" in reason
    assert county.rules.number == 0

    with world.officer("province", SUPERVISOR) as supervisor:
        supervisor.amend_rules(rules_pb2.RuleAmendment(start_campaign=COVID))
    genuine = world["province"].node.rules.signed
    assert genuine is not None
    tampered = rules_pb2.SignedRuleBook()
    tampered.CopyFrom(genuine)
    tampered.rule_book = tampered.rule_book.replace(b"covid", b"covie")
    reason = county.writer.call(partial(county.rules.learn, signed=tampered))
    assert "does not verify" in reason and county.rules.number == 0
    with world["chengguan"].client() as client:
        kinds = [a.kind for a in client.alerts()]
    assert kinds.count("rule-book-refused") == 2
    assert county.writer.call(partial(county.rules.learn, signed=genuine)) == ""
    assert county.rules.number == 1
