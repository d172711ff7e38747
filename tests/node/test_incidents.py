"""Group complaints, emergencies and professional claimants on real nodes (DOMAIN.md §6).

In-process nodes on a clock the test moves by hand; incident detection runs when the test says
so (``detect``: each of the node's detection jobs once), as the node's scheduler would.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from city_node.profile import group_detection
from core.ticket.commands import RegisterTicket
from core.ticket.state import TicketState
from core.ticket.vocabulary import Consumer
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.devnet.samples import APPLIANCES, GYM, NOODLES, SCHOOL, SUPERMARKET, demo_tickets
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync.codec import from_message, to_message
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.waiting import wait_until
from tests.helpers.world import InProcessNode, World, run_job

GYM_COMPLAINT = dict(demo_tickets())["gym"]


def member(n: int) -> RegisterTicket:
    """Gym member ``n`` complains: the gym closed with their prepaid card."""
    return replace(
        GYM_COMPLAINT,
        consumer=Consumer(f"会员{n}", f"1390931{n:04d}", "兰州市城关区"),
        facts=f"健身房突然停业，第{n}位会员的年卡余额无法退还。",
    )


def file(world: World, name: str, ticket: RegisterTicket, *, route: bool = True) -> str:
    """Register ``ticket`` at node ``name`` (and route it by jurisdiction); its id."""
    with world.officer(name) as client:
        ticket_id = client.register(
            uuid.uuid4().hex, to_message(ticket, intake_pb2.NewTicket)
        ).ticket_id
        if route:
            client.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    return ticket_id


def detect(node: InProcessNode) -> int:
    """One run of each of the node's detection jobs; how many events they recorded."""
    return sum(run_job(node, name) for name in node.node.jobs.jobs if name != "deadlines")


def state(world: World, name: str, ticket_id: str) -> TicketState:
    with world.officer(name) as client:
        return from_message(TicketState, client.get(ticket_id))


def cut_link(node: InProcessNode) -> None:
    """The node's link is down: once its first round is done it no longer syncs by itself
    (only when the test says, ``world.sync``)."""
    link = node.node.link
    assert link is not None
    node.node.writer.on_commit = None
    wait_until(
        "the node's first replication round has ended",
        lambda: bool(link.status.last_success_ms),
        timeout=30,
        every=0.05,
    )


def start(world: World, *names: str) -> HandMovedTime:
    clock = HandMovedTime(china("2026-12-01", 9))  # a Tuesday, within the certificates' validity
    world.start_all(*names, clock=Clock(_real=clock))
    return clock


def complaints_on(world: World, clock: HandMovedTime, days: list[str]) -> list[str]:
    """One gym member's complaint on each of ``days``, registered and routed at the province."""
    ids = []
    for n, day in enumerate(days):
        clock.set(china(day, 10))
        ids.append(file(world, "province", member(n)))
    return ids


def test_five_complaints_against_one_gym_in_a_week_become_one_incident_at_the_city(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = start(world, "province", "city", "chengguan")
    days = ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-06", "2026-12-07"]
    ids = complaints_on(world, clock, days)
    world.sync("city", "chengguan")
    city = world["city"]

    assert detect(city) == 5
    assert detect(city) == 0  # a second run asks for nothing twice
    with world.officer("city") as officer:
        (incident,) = officer.queue().incidents
    assert list(incident.ticket_ids) == ids
    assert incident.incident_id.startswith("GI-20261201-")
    assert incident.to_unit == "620100" and incident.open_tickets == 5
    assert incident.respondent_key == f"uscc:{GYM.credit_code}"
    assert list(incident.holder_units) == ["620102"]
    capsys.readouterr()
    assert hotline(["queue", *city.cli("620100-01")]) == 0
    printed = capsys.readouterr().out
    assert "group incidents (群体投诉): 1" in printed
    assert f"{incident.incident_id}  兰州金城健身俱乐部有限公司  5 tickets (5 open)" in printed
    assert all(f"    {t}" in printed for t in ids)

    # The links reach the county that handles the tickets and the province above the city.
    world.sync("city", "chengguan")
    for name in ("chengguan", "province"):
        for ticket_id in ids:
            seen = state(world, name, ticket_id)
            assert seen.incident is not None, name
            assert seen.incident.incident_id == incident.incident_id
            assert seen.incident.to_unit == "620100"
            assert not seen.in_conflict
    with world.officer("chengguan") as handler:
        assert not handler.queue().incidents  # escalated to the city, not to the county

    # The signals view is a view: rebuilt from the log, the queue and the detection agree.
    with city.node.db.write() as conn:
        city.node.projection.rebuild(conn)
    with world.officer("city") as officer:
        assert list(officer.queue().incidents) == [incident]
    assert detect(city) == 0


@pytest.mark.parametrize(
    ("days", "why"),
    [
        (["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-07"], "four complaints"),
        (
            ["2026-12-01", "2026-12-03", "2026-12-05", "2026-12-07", "2026-12-09"],
            "five spread over eight days",
        ),
    ],
)
def test_fewer_complaints_or_a_longer_spread_make_no_incident(
    world: World, days: list[str], why: str
) -> None:
    clock = start(world, "province", "city")
    ids = complaints_on(world, clock, days)
    world.sync("city")
    assert detect(world["city"]) == 0, why
    with world.officer("city") as officer:
        assert not officer.queue().incidents
    assert all(state(world, "city", t).incident is None for t in ids)


def test_a_county_and_the_city_that_detect_apart_converge_on_one_incident(world: World) -> None:
    clock = start(world, "province", "city", "chengguan")
    county = world["chengguan"]
    cut_link(county)
    node = county.node
    node.jobs.jobs["group-complaints"] = group_detection(node)  # counties detect too, here
    # The gym closes. Five members walk into the county office, whose link is down; five more
    # call 12315 over the next days and the province routes their complaints.
    walk_ins = []
    for n in range(10, 15):
        clock.set(china("2026-12-01", n))
        walk_ins.append(file(world, "chengguan", member(n), route=False))
    called = complaints_on(
        world, clock, ["2026-12-02", "2026-12-03", "2026-12-03", "2026-12-04", "2026-12-04"]
    )
    world.sync("city")
    assert detect(county) == 5  # the walk-ins, as one incident
    assert detect(world["city"]) == 5  # the calls, as another
    at_county = state(world, "chengguan", walk_ins[0]).incident
    at_city = state(world, "city", called[0]).incident
    assert at_county is not None and at_city is not None
    assert at_county.incident_id < at_city.incident_id  # the walk-ins came first

    world.sync("chengguan")  # the link is back: each side learns the other's part
    detect(world["city"])  # one group now: what carries the larger id is linked again
    detect(county)
    world.sync("chengguan", "city", "chengguan")
    everyone = [*walk_ins, *called]
    for name in ("chengguan", "city", "province"):
        marks = [state(world, name, t) for t in everyone]
        assert {s.incident.incident_id for s in marks if s.incident} == {at_county.incident_id}
        assert all(s.incident is not None and not s.in_conflict for s in marks), name
    with world.officer("city") as officer:
        (incident,) = officer.queue().incidents
    assert sorted(incident.ticket_ids) == sorted(everyone)
    assert detect(world["city"]) == 0 and detect(county) == 0
    # The county's own links were taken in above it, not kept as evidence.
    linked_by = state(world, "province", walk_ins[0]).incident
    assert linked_by is not None and linked_by.origin_node == node.identity.node_id


def test_an_emergency_reaches_the_provinces_queue_at_once(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = start(world, "province", "city", "chengguan")
    masks = file(world, "province", dict(demo_tickets())["masks"])  # 哄抬价格 (price gouging)
    ordinary = file(world, "province", member(1))
    with world.officer("province") as centre:
        (entry,) = centre.queue().emergencies  # no sweep, no sync: registered, it is there
    assert entry.ticket_id == masks and list(entry.reasons) == ["keyword:哄抬价格"]
    assert entry.holder_unit == "620103" and entry.respondent_name == "七里河区康宁大药房"

    # A walk-in at the county: recorded there with the registration, the province sees it as
    # soon as the county's events come up.
    poisoned = replace(
        dict(demo_tickets())["noodles"],
        respondent=replace(NOODLES, operating_region="620102"),
        facts="在店内就餐后全家三人呕吐腹泻，医院诊断为食物中毒。",
    )
    clock.set(china("2026-12-01", 11))
    walk_in = file(world, "chengguan", poisoned, route=False)
    at_county = state(world, "chengguan", walk_in)
    assert at_county.emergency is not None and at_county.emergency.to_unit == "620000"
    world.sync("chengguan", "city")
    with world.officer("province") as centre:
        emergencies = centre.queue().emergencies
    assert [e.ticket_id for e in emergencies] == [masks, walk_in]
    assert list(emergencies[1].reasons) == ["keyword:食物中毒"]
    at_province = state(world, "province", walk_in)
    assert at_province.emergency == at_county.emergency and not at_province.in_conflict
    assert state(world, "province", ordinary).emergency is None
    with world.officer("city") as city:
        assert not city.queue().emergencies
    node = world["province"].cli("620000-01")
    assert hotline(["show", walk_in, *node]) == 0
    assert "EMERGENCY (紧急) in 620000's queue: keyword:食物中毒" in capsys.readouterr().out


def test_a_filer_with_many_tickets_across_businesses_is_flagged_for_a_uniform_answer(
    world: World,
) -> None:
    clock = start(world, "province", "city", "chengguan")
    claimant = Consumer("钱某", "13809310077", "兰州市")
    occasional = Consumer("孙某", "13809310088", "兰州市")
    tickets = []
    for day, business in enumerate((GYM, NOODLES, APPLIANCES, SCHOOL, SUPERMARKET), start=1):
        clock.set(china(f"2026-12-{day:02d}", 10))
        for who in (claimant, occasional) if business is not SUPERMARKET else (claimant,):
            ticket = replace(
                GYM_COMPLAINT,
                consumer=who,
                respondent=business,
                facts=f"购买的商品与宣传不符，要求十倍赔偿（{business.name}）。",
            )
            tickets.append((who, file(world, "province", ticket)))
    flagged = [t for who, t in tickets if who is claimant]
    others = [t for who, t in tickets if who is occasional]

    assert detect(world["province"]) == 5
    assert detect(world["province"]) == 0
    seen = state(world, "province", flagged[0]).claimant
    assert seen is not None
    assert seen.filer == "手机号相同 (same phone number)"  # no part of the number in the log
    assert (seen.tickets, seen.businesses, seen.window_days) == (5, 5, 30)
    assert seen.related_ticket_ids == tuple(flagged[1:])
    assert all(state(world, "province", t).claimant is None for t in others)  # 4 tickets only
    with world.officer("province") as centre:
        view = centre.get(flagged[0])
    assert "13809310077" not in str(view.claimant)

    world.sync("city", "chengguan")  # the flag reaches the county handling the gym ticket
    at_county = state(world, "chengguan", flagged[0])
    assert at_county.claimant == seen and not at_county.in_conflict

    # Later rounds look only at the filers of what was stored since: the sixth is flagged.
    clock.set(china("2026-12-06", 10))
    sixth = replace(GYM_COMPLAINT, consumer=claimant, respondent=NOODLES, facts="又一次索赔。")
    sixth_id = file(world, "province", sixth)
    assert detect(world["province"]) == 1
    later = state(world, "province", sixth_id).claimant
    assert later is not None and (later.tickets, later.businesses) == (6, 5)
