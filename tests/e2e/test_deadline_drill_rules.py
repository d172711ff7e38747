"""The province's deadline rules on real node processes and a running drill clock (issue #4).

``tests/e2e/test_deadline_drill.py`` shows reminders and escalation on an accelerated clock;
this file shows the rest of issue 4's "Done when" on the same kind of drill: the province
620000, the city 620100 (Lanzhou) and the county 620102 (Chengguan) are ``hotline serve``
processes sharing only the drill clock flags (docs/drills.md) and the network. One drill per
backend runs a timeline through the National Day holiday (国庆节) of 2026, and each rule is
checked as its own subtest:

a. **Holidays and make-up workdays** (DOMAIN.md §5, the State Council's 2026 schedule as the
   ``chinese-calendar`` package carries it: 10-01..07 rest, Saturday 10-10 a make-up working
   day). A complaint received on Monday 09-28 is counted from 09-29: 09-29 (1), 09-30 (2),
   10-08 (3), 10-09 (4), Saturday 10-10 (5), 10-12 (6), 10-13 (7): due at the end of Tuesday
   10-13 in the county's queue. (Weekends only would say Wednesday 10-07; without the make-up
   day, Wednesday 10-14.) Its reminders come on working days: the handler on the make-up
   Saturday 10-10, the unit head on Monday 10-12, the supervising unit on the due day 10-13;
   nothing during the holiday or on Sunday 10-11. Overdue, it enters the city's supervision
   queue at 10-14 00:00, and three working days (10-14, 15, 16) later, at 10-17 00:00, the
   province's.
b. **An approved extension and a paused mediation clock move the deadline.** The county asks
   for 3 more working days on a second complaint of 09-28 and the province's supervisor, a unit
   above, approves: due at the end of Friday 10-16, reminded on 10-14, 15 and 16 and escalated
   only at 10-17 00:00. A third complaint is accepted on 09-28 (mediation ends within 45 WD:
   by Friday 12-04) and its mediation paused the same day for testing (送检); the report comes
   back during the holiday. The paused clock gives back the working days in (pause day,
   resumption day], 09-29 and 09-30 whatever holiday day it resumes: due Tuesday 12-08.
c. **Group complaints** (DOMAIN.md §6, docs/incidents.md: 5 consumers against one business in
   7 days). Four members of a gym that closed complain on 09-28 and a fifth during the
   holiday; the city's sweep, on the drill clock, links the five into one incident in the
   city's supervision queue. Four members of another gym complaining the same days make none.
d. **A campaign** switched on at the province with ``hotline campaign start`` by its
   supervisor 620000-02 before the complaints come in: a complaint tagged 新冠疫情 is routed at
   once by the province's node and due in 3 working days at the county (09-29, 09-30, 10-08:
   escalated at 10-09 00:00); an untagged one received at the same instant waits for a
   dispatcher and is due in 7 (10-13). ``hotline campaign stop`` during the holiday restores
   the normal table for later tickets: a tagged complaint received after it waits for a
   dispatcher and is due in 7 working days (10-15, not the 10-10 of a compressed limit).

The clock runs at 86,400x (a drill day each real second) from Monday 2026-09-28 10:00 China
time (inside the test certificates' validity, ``Hierarchy.throwaway``). Its anchor is a real
instant ``SETUP_SECONDS`` after the test begins: until then the clock stands at 10:00 on
09-28, so the nodes come up and every complaint of that day is received, the first accepted
and paused, at 10:00 sharp however long that takes. During the drill the test acts only
inside drill-time windows wide enough for a busy machine (the extension by 10-09, the
holiday steps between 10-01 and 10-05) and checks afterwards from the signed times that it
did. No fixed sleeps: the test lets the drill clock reach an instant, or polls with a
deadline; the ``network`` fixture kills every process at the end (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
import uuid
from dataclasses import dataclass, replace

import pytest

from core import hlc
from core.deadlines.china_time import CHINA_TZ, china_date
from core.ticket.commands import RegisterTicket
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import Consumer, Duty, ReminderLevel, Respondent
from node.cli.main import main as hotline
from node.devnet.processes import LocalNetwork
from node.devnet.samples import APPLIANCES, GANSU_WORLD, GYM, SUPERMARKET, credit_code, demo_tickets
from node.edge.client import NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2, supervision_pb2
from sync.codec import enum_number, to_message
from tests.helpers.clock import end_of
from tests.helpers.drill import Drill
from tests.helpers.tickets import entries, ticket_state

DRILL_START = dt.datetime(2026, 9, 28, 10, 0, tzinfo=CHINA_TZ)
"""Monday before the National Day holiday: every complaint of 09-28 is received then."""
SETUP_SECONDS = 45.0
"""Real seconds from the test's start to the drill's anchor: time to bring up three nodes,
switch the campaign on, register fifteen complaints and accept and pause one (about 4 s on
SQLite and 9 s on PostgreSQL on an idle 2-core machine, two to three times that in the
parallel suite) with room for a busier machine."""
SWEEP_INTERVAL = 0.1
"""Real seconds between a node's sweeps: 2.4 drill hours, ten sweeps a drill day."""
LATE = 3.0
"""Real seconds (drill days) a wait may run past the drill instant it waits for."""

CENTRE = "620000-01"  # 王芳, operator and dispatcher at the province
SUPERVISOR = "620000-02"  # 刘洋, operator and supervisor at the province
CITY = "620100-01"
HANDLER = "620102-07"  # 李强, handler at Chengguan
COUNTY, CITY_UNIT, PROVINCE = "620102", "620100", "620000"
DECIDE = "decide_acceptance"


def china(day: str, hour: int = 0) -> dt.datetime:
    """``hour`` o'clock on ``day``, China time."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA_TZ)


def when(hlc_value: int) -> dt.datetime:
    """The drill time an event was recorded at, China time."""
    return dt.datetime.fromtimestamp(hlc.to_millis(hlc_value) / 1000, CHINA_TZ)


def day_of(hlc_value: int) -> dt.date:
    """The China date an event was recorded on."""
    return china_date(hlc.to_millis(hlc_value))


def during(hlc_value: int, first: str, last: str) -> bool:
    """True when the event was recorded on one of the days ``first``..``last`` (China time)."""
    return china(first) <= when(hlc_value) < china(last) + dt.timedelta(days=1)


# -- the complaints -----------------------------------------------------------------------------

PHARMACY = Respondent(
    "城关区济生大药房",
    credit_code("620102", 4005),
    address="城关区皋兰路17号",
    operating_region="620102",
)
JEWELLER = Respondent(
    "兰州金典珠宝店",
    credit_code("620102", 8008),
    address="城关区张掖路201号",
    operating_region="620102",
)
OTHER_GYM = Respondent(
    "兰州力美健身工作室",
    credit_code("620102", 1002),
    address="城关区庆阳路120号",
    operating_region="620102",
)
_phones = itertools.count(1)


def complaint(
    respondent: Respondent,
    category: str,
    facts: str,
    *tags: str,
    who: str = "",
    request: str = "要求商家退款",
) -> RegisterTicket:
    """A phone complaint about ``respondent`` from a caller not heard from before (no ticket is a
    duplicate, and no caller files enough to be flagged as a professional claimant)."""
    n = next(_phones)
    return replace(
        dict(demo_tickets())["gym"],
        consumer=Consumer(who or f"来电人{n}", f"1379310{n:04d}", "兰州市城关区"),
        respondent=respondent,
        category=category,
        facts=facts,
        request=request,
        tags=tags,
    )


def gym_member(gym: Respondent, n: int) -> RegisterTicket:
    """Member ``n`` of ``gym`` complains: it closed with their prepaid card."""
    return complaint(
        gym,
        "预付式消费/健身",
        f"健身房突然停业，第{n}位会员的年卡余额无法退还。",
        who=f"会员{n}",
        request="退还预付卡余额",
    )


FRIDGE = (APPLIANCES, "家用电器/冰箱", "新买的冰箱一周后不制冷，商家拒绝退换。")
MILK = (SUPERMARKET, "食品/预包装食品", "购买的牛奶已过保质期两周仍在货架销售，要求退款。")
BRACELET = (JEWELLER, "珠宝首饰", "购买的足金手镯疑似含金量不足，商家拒绝退货。")
MASKS = (PHARMACY, "医疗器械/口罩", "购买的医用口罩没有合格证，佩戴后有刺鼻异味。")
VITAMINS = (PHARMACY, "药品", "药房出售的维生素片临近过期却未作任何提示。")
TEST_KITS = (PHARMACY, "医疗器械/检测试剂", "购买的抗原检测试剂盒说明书与实物不符。")
COVID_TAG = "新冠疫情"
CAMPAIGN = "covid"


def register(centre: NodeClient, ticket: RegisterTicket) -> str:
    """Register ``ticket``; its id."""
    return str(
        centre.register(uuid.uuid4().hex, to_message(ticket, intake_pb2.NewTicket)).ticket_id
    )


def register_and_route(centre: NodeClient, ticket: RegisterTicket) -> str:
    """Register ``ticket`` and have the dispatcher route it by jurisdiction."""
    ticket_id = register(centre, ticket)
    centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    return ticket_id


def owed(queue: supervision_pb2.Queue, ticket_id: str, duty: str) -> supervision_pb2.QueueEntry:
    """The unit's one entry for ``duty`` of ``ticket_id``."""
    (entry,) = [e for e in entries(queue) if (e.ticket_id, e.duty) == (ticket_id, duty)]
    return entry


def holds(client: NodeClient, *ticket_ids: str) -> bool:
    """True when the node holds every one of ``ticket_ids``."""
    held = {t.ticket_id for t in client.list_tickets()}
    return set(ticket_ids) <= held


# -- the drill clock ----------------------------------------------------------------------------


@pytest.fixture
def drill(network: LocalNetwork) -> Drill:
    """A drill clock anchored ``SETUP_SECONDS`` from now, given to every node of ``network``."""
    clock = Drill(
        start=DRILL_START,
        anchor=time.time() + SETUP_SECONDS,
        sweep_interval=SWEEP_INTERVAL,
        late=LATE,
    )
    network.node_args = clock.node_args()
    return clock


# -- the timeline -------------------------------------------------------------------------------


@dataclass
class Tickets:
    """The drill's complaints, by the rule they show."""

    holiday: str = ""
    extended: str = ""
    paused: str = ""
    campaign: str = ""
    """Tagged 新冠疫情, received while the campaign runs."""
    plain: str = ""
    """Untagged, received at the same instant."""
    after_campaign: str = ""
    """Tagged 新冠疫情, received after the campaign was switched off."""
    gym: tuple[str, ...] = ()
    other_gym: tuple[str, ...] = ()


def switch_campaign(network: LocalNetwork, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """``hotline campaign ARGS`` at the province, as its supervisor; what it printed."""
    capsys.readouterr()
    node = network["province"].cli(SUPERVISOR)
    assert hotline(["campaign", *args, *node]) == 0
    return capsys.readouterr().out


def receive_the_complaints_of_monday_0928(
    network: LocalNetwork, capsys: pytest.CaptureFixture[str]
) -> Tickets:
    """At the standing clock: the campaign is switched on, then the day's complaints come in."""
    printed = switch_campaign(
        network, capsys, "start", "--id", CAMPAIGN, "--name", "新冠疫情防控", "--tag", COVID_TAG
    )
    assert (
        f"campaign {CAMPAIGN} (新冠疫情防控) running, from 2026-09-28 10:00:00 +08:00: limits 3 WD"
        in printed
    )
    made = Tickets()
    with network.client("province", CENTRE) as centre:
        made.campaign = register(centre, complaint(*MASKS, COVID_TAG))
        routed_at_once = ticket_state(centre, made.campaign)
        made.plain = register(centre, complaint(*VITAMINS))
        left_for_dispatch = ticket_state(centre, made.plain)
        centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=made.plain))
        made.holiday = register_and_route(centre, complaint(*FRIDGE))
        made.extended = register_and_route(centre, complaint(*MILK))
        made.paused = register_and_route(centre, complaint(*BRACELET))
        made.gym = tuple(register_and_route(centre, gym_member(GYM, n)) for n in range(1, 5))
        made.other_gym = tuple(
            register_and_route(centre, gym_member(OTHER_GYM, n)) for n in range(1, 5)
        )
        last = ticket_state(centre, made.other_gym[-1])
    # Routed by the province's node itself, in the registration: no dispatcher was asked.
    assert (routed_at_once.status, routed_at_once.holder_unit) == (TicketStatus.ROUTED, COUNTY)
    assert left_for_dispatch.status is TicketStatus.REGISTERED
    # Every date below counts from receipt on 09-28: if start-up overran SETUP_SECONDS the
    # clock would have moved on.
    assert when(last.registered_hlc) == DRILL_START, (
        f"set-up took longer than {SETUP_SECONDS}s, or the province is not on the drill clock"
    )
    return made


def accept_and_pause_for_testing(network: LocalNetwork, drill: Drill, ticket_id: str) -> None:
    """The county accepts the jeweller complaint on 09-28 and sends the bracelet for testing."""
    with network.client("chengguan", HANDLER) as handler:
        drill.wait_for(
            "the county holds the jeweller complaint",
            lambda: holds(handler, ticket_id),
            by=DRILL_START,
        )
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        accepted = owed(handler.queue(), ticket_id, "end_mediation")
        handler.step("PauseMediation", cw.PauseMediationRequest(ticket_id=ticket_id, reason="送检"))
        paused = owed(handler.queue(), ticket_id, "end_mediation")
        (track,) = ticket_state(handler, ticket_id).tracks
    # 45 WD from 09-29 end on Friday 12-04; while the clock stands still the date stays.
    assert accepted.due_ms == paused.due_ms == end_of("2026-12-04")
    assert when(track.paused_since_hlc) == DRILL_START, (
        f"set-up took longer than {SETUP_SECONDS}s: the pause is not on 09-28"
    )


def extend_by_three_working_days(network: LocalNetwork, drill: Drill, ticket_id: str) -> None:
    """The county asks for 3 more working days to decide; the province's supervisor approves.

    Done before Saturday 10-10, when the first reminder of the original deadline would go out.
    """
    duty = enum_number(Duty.DECIDE_ACCEPTANCE)
    by = china("2026-10-06")
    with (
        network.client("chengguan", HANDLER) as handler,
        network.client("province", SUPERVISOR) as supervisor,
    ):
        drill.wait_for("the county holds the milk complaint", lambda: holds(handler, ticket_id), by)
        handler.step(
            "RequestExtension",
            cw.RequestExtensionRequest(
                ticket_id=ticket_id, duty=duty, days=3, reason="超市负责人出差，需调取进货记录"
            ),
        )
        drill.wait_for(
            "the province holds the county's request",
            lambda: (
                ticket_state(supervisor, ticket_id).pending_extension(Duty.DECIDE_ACCEPTANCE)
                is not None
            ),
            by,
        )
        supervisor.step(
            "DecideExtension",
            cw.DecideExtensionRequest(ticket_id=ticket_id, duty=duty, approved=True),
        )
        drill.wait_for(
            "the county judges by the approved extension",
            lambda: owed(handler.queue(), ticket_id, DECIDE).due_ms == end_of("2026-10-16"),
            by,
        )
        (extension,) = ticket_state(handler, ticket_id).extensions
    assert when(extension.decided_hlc) < china("2026-10-10"), (
        "the drill ran past the first reminder of the original deadline before the decision"
    )


def during_the_holiday(
    network: LocalNetwork, drill: Drill, capsys: pytest.CaptureFixture[str], made: Tickets
) -> None:
    """From 10-01: a fifth gym member complains, the testing report is back, the campaign ends
    and a tagged complaint comes in after it."""
    with network.client("city", CITY) as city:
        # Every complaint of 09-28 is at the city before the fifth member's: the city's sweep
        # that links the gym's five has the other gym's four before it too.
        drill.wait_for(
            "the city holds the complaints of 09-28",
            lambda: holds(city, *made.gym, *made.other_gym),
            by=china("2026-10-01"),
        )
    drill.sleep_until(china("2026-10-01"))
    with network.client("province", CENTRE) as centre:
        made.gym += (register_and_route(centre, gym_member(GYM, 5)),)
    with network.client("chengguan", HANDLER) as handler:
        handler.step(
            "ResumeMediation", cw.ResumeMediationRequest(ticket_id=made.paused, note="检测报告已出")
        )
    printed = switch_campaign(network, capsys, "stop", CAMPAIGN)
    assert f"campaign {CAMPAIGN} (新冠疫情防控) ended 2026-10-0" in printed
    with network.client("province", CENTRE) as centre:
        made.after_campaign = register(centre, complaint(*TEST_KITS, COVID_TAG))
        assert ticket_state(centre, made.after_campaign).status is TicketStatus.REGISTERED
        centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=made.after_campaign))
        fifth, after = ticket_state(centre, made.gym[-1]), ticket_state(centre, made.after_campaign)
    # Within a week of the first four (09-28 10:00), and on holiday days that the dates below
    # assume: a machine too busy to keep up with the drill fails here, not with odd dates.
    assert during(fifth.registered_hlc, "2026-10-01", "2026-10-04"), when(fifth.registered_hlc)
    assert during(after.registered_hlc, "2026-10-01", "2026-10-07"), when(after.registered_hlc)


# -- the rules, as seen at the end of the drill --------------------------------------------------


def assert_the_holiday_moves_the_deadline_and_reminders_fall_on_working_days(
    county_queue: supervision_pb2.Queue, seen: TicketState
) -> None:
    entry = owed(county_queue, seen.ticket_id, DECIDE)
    assert (entry.due_ms, entry.policy_version) == (end_of("2026-10-13"), "default-2026")
    assert [(r.level, day_of(r.sent_hlc), r.due_ms) for r in seen.reminders_sent] == [
        (ReminderLevel.HANDLER, dt.date(2026, 10, 10), end_of("2026-10-13")),  # make-up Saturday
        (ReminderLevel.UNIT_HEAD, dt.date(2026, 10, 12), end_of("2026-10-13")),
        (ReminderLevel.SUPERVISING_UNIT, dt.date(2026, 10, 13), end_of("2026-10-13")),
    ]
    assert [(e.level, e.to_unit, day_of(e.escalated_hlc)) for e in seen.escalations] == [
        (1, CITY_UNIT, dt.date(2026, 10, 14)),  # from 24:00 on 10-13
        (2, PROVINCE, dt.date(2026, 10, 17)),  # 10-14, 15, 16 later: from 24:00 on 10-16
    ]


def assert_the_extension_moves_the_deadline_its_reminders_and_escalation(
    county_queue: supervision_pb2.Queue, seen: TicketState
) -> None:
    (extension,) = seen.extensions
    assert (extension.approved, extension.days, extension.requested_unit) == (True, 3, COUNTY)
    assert extension.decided_unit == PROVINCE
    assert owed(county_queue, seen.ticket_id, DECIDE).due_ms == end_of("2026-10-16")
    # Nothing on the original dates (10-10, 12, 13, 14): the new ones, two days before, one
    # day before and on the extended due date, then overdue from 24:00 on 10-16.
    assert [(r.level, day_of(r.sent_hlc), r.due_ms) for r in seen.reminders_sent] == [
        (ReminderLevel.HANDLER, dt.date(2026, 10, 14), end_of("2026-10-16")),
        (ReminderLevel.UNIT_HEAD, dt.date(2026, 10, 15), end_of("2026-10-16")),
        (ReminderLevel.SUPERVISING_UNIT, dt.date(2026, 10, 16), end_of("2026-10-16")),
    ]
    assert [(e.level, e.to_unit, day_of(e.escalated_hlc)) for e in seen.escalations[:1]] == [
        (1, CITY_UNIT, dt.date(2026, 10, 17))
    ]


def assert_the_paused_clock_gives_back_the_working_days_it_stood_still(
    county_queue: supervision_pb2.Queue, seen: TicketState
) -> None:
    (track,) = seen.tracks
    (pause,) = track.pauses
    assert when(pause.started_hlc) == DRILL_START
    assert during(pause.ended_hlc, "2026-10-01", "2026-10-07"), when(pause.ended_hlc)
    # 09-29 and 09-30 given back: 45 WD end on Tuesday 12-08 instead of Friday 12-04.
    assert owed(county_queue, seen.ticket_id, "end_mediation").due_ms == end_of("2026-12-08")


def assert_five_consumers_against_one_gym_in_a_week_are_one_incident_at_the_city(
    city_queue: supervision_pb2.Queue, made: Tickets, city: NodeClient
) -> None:
    (incident,) = city_queue.incidents
    assert list(incident.ticket_ids) == list(made.gym)
    assert incident.incident_id.startswith("GI-20260928-")
    assert incident.respondent_key == f"uscc:{GYM.credit_code}"
    assert (incident.to_unit, incident.open_tickets) == (CITY_UNIT, 5)
    assert list(incident.holder_units) == [COUNTY]
    assert incident.first_received_ms == int(DRILL_START.timestamp() * 1000)
    assert china("2026-10-01").timestamp() * 1000 <= incident.last_received_ms
    city_node = city.info().node_id
    for ticket_id in made.gym:  # linked by the city's own sweep, once the fifth came in
        linked = ticket_state(city, ticket_id).incident
        assert linked is not None
        assert (linked.incident_id, linked.origin_node) == (incident.incident_id, city_node)
        assert during(linked.linked_hlc, "2026-10-01", "2026-10-03"), when(linked.linked_hlc)
    # The other gym's four members, at the city since 09-28: no incident.
    assert all(ticket_state(city, t).incident is None for t in made.other_gym)


def assert_the_campaign_compresses_the_limits_of_matching_tickets_only(
    county_queue: supervision_pb2.Queue, centre: NodeClient, made: Tickets, seen: TicketState
) -> None:
    owing = [
        owed(county_queue, t, DECIDE) for t in (made.campaign, made.plain, made.after_campaign)
    ]
    assert {e.ticket_id: (e.due_ms, e.policy_version) for e in owing} == {
        made.campaign: (end_of("2026-10-08"), "default-2026+campaign3"),  # 09-29, 09-30, 10-08
        made.plain: (end_of("2026-10-13"), "default-2026"),
        made.after_campaign: (end_of("2026-10-15"), "default-2026"),  # not 10-10
    }
    # Routed by the province node's system dispatcher in the registration, naming the campaign.
    (routed,) = [e for e in centre.history(made.campaign).entries if e.event_type == "TicketRouted"]
    assert routed.officer.officer_id == f"{PROVINCE}-sweep" and CAMPAIGN in routed.details
    # Compressed on the clock too: overdue from 24:00 on 10-08.
    assert [(e.level, day_of(e.escalated_hlc)) for e in seen.escalations[:1]] == [
        (1, dt.date(2026, 10, 9))
    ]


@pytest.mark.processes
def test_holidays_extensions_pauses_group_complaints_and_campaigns_on_a_running_drill(
    network: LocalNetwork,
    drill: Drill,
    capsys: pytest.CaptureFixture[str],
    subtests: pytest.Subtests,
) -> None:
    """A drill from Monday 09-28 to Saturday 10-17 on three node processes: the rules a-d of
    the module docstring, each a subtest checked on what the nodes hold at the end."""
    network.start_world(GANSU_WORLD, only={"province", "city", "chengguan"})
    made = receive_the_complaints_of_monday_0928(network, capsys)
    accept_and_pause_for_testing(network, drill, made.paused)
    extend_by_three_working_days(network, drill, made.extended)
    during_the_holiday(network, drill, capsys, made)
    with network.client("city", CITY) as city:
        drill.wait_for(
            "the city's sweep links the gym's five members into one incident",
            lambda: len(city.queue().incidents) == 1,
            by=china("2026-10-03"),
        )
    with network.client("chengguan", HANDLER) as handler:
        drill.wait_for(
            "the holiday complaint is escalated to the province and the extended one to the city",
            lambda: (
                len(ticket_state(handler, made.holiday).escalations) == 2
                and len(ticket_state(handler, made.extended).escalations) >= 1
            ),
            by=china("2026-10-17"),
        )
        county_queue = handler.queue()
        at_county = {
            name: ticket_state(handler, ticket_id)
            for name, ticket_id in (
                ("holiday", made.holiday),
                ("extended", made.extended),
                ("paused", made.paused),
                ("campaign", made.campaign),
            )
        }

    with subtests.test("a. holidays and the make-up Saturday"):
        assert_the_holiday_moves_the_deadline_and_reminders_fall_on_working_days(
            county_queue, at_county["holiday"]
        )
    with subtests.test("b. an approved extension"):
        assert_the_extension_moves_the_deadline_its_reminders_and_escalation(
            county_queue, at_county["extended"]
        )
    with subtests.test("b. a paused mediation clock"):
        assert_the_paused_clock_gives_back_the_working_days_it_stood_still(
            county_queue, at_county["paused"]
        )
    with subtests.test("c. a group complaint"), network.client("city", CITY) as city:
        assert_five_consumers_against_one_gym_in_a_week_are_one_incident_at_the_city(
            city.queue(), made, city
        )
    with subtests.test("d. a campaign"), network.client("province", CENTRE) as centre:
        assert_the_campaign_compresses_the_limits_of_matching_tickets_only(
            county_queue, centre, made, at_county["campaign"]
        )
