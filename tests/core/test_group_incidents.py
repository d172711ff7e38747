"""Group complaints, emergencies and professional claimants: the pure rules (DOMAIN.md §6).

Which complaints make a group, which tickets are emergencies, which filers look like
professional claimants; how the keys compare businesses and filers; and how links recorded by
nodes that saw different parts of a group converge on one incident whatever the order.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.incidents import (
    DAY_MS,
    ClaimantRule,
    Complaint,
    EmergencyRule,
    Filing,
    GroupRule,
    IncidentRules,
    emergency_destination,
    emergency_reasons,
    find_claimants,
    find_groups,
    in_qualifying_windows,
    incident_id_for,
    name_key,
    normalise_name,
    respondent_key,
)
from core.officers import Officer
from core.ticket.decisions import register_ticket
from core.ticket.events import (
    EmergencyEscalated,
    EventMeta,
    GroupIncidentLinked,
    ProfessionalClaimantFlagged,
    RecordedEvent,
    TicketRegistered,
)
from core.ticket.fold import fold
from core.ticket.state import TicketState
from core.ticket.vocabulary import BusinessForm, Respondent, TicketKind
from core.units import city_of
from proto.hotline.v1 import ticket_pb2
from sync.codec import from_message, to_message
from tests.helpers.domain import (
    HUB,
    History,
    closed_complaint,
    context,
    draft,
    officer,
    respondent,
    routed,
)

START = 1_796_054_400_000  # 2026-12-01 00:00 China time
GYM = respondent()
GYM_KEY = respondent_key(GYM)
GYM_NAME_KEY = name_key(GYM)
RULE = GroupRule()
LANZHOU = "620100"

CITY_SWEEP = officer("620100-sweep", "催办督办系统", "620100")
COUNTY_SWEEP = officer("620102-sweep", "催办督办系统", "620102")
OTHER_COUNTY_SWEEP = officer("620103-sweep", "催办督办系统", "620103")
TIANSHUI_SWEEP = officer("620502-sweep", "催办督办系统", "620502")
PROVINCE_SWEEP = officer("620000-sweep", "催办督办系统", "620000")
POISONING = EmergencyEscalated(("keyword:食物中毒",), "620000")
FIRE = EmergencyEscalated(("keyword:起火",), "620000")
FLAG = ProfessionalClaimantFlagged("手机 139****0001", 5, 3, 30, ("T2", "T3"))


def complaint(n: int, day: float, *, consumer: str = "", key: str = GYM_KEY) -> Complaint:
    """Complaint ``n`` against the gym, received ``day`` days after 2026-12-01 00:00."""
    return Complaint(
        ticket_id=f"T{n:03d}",
        received_ms=START + int(day * DAY_MS),
        kind=TicketKind.COMPLAINT,
        respondent_key=key,
        name_key=GYM_NAME_KEY,
        consumer_key=consumer or f"consumer-{n}",
    )


# -- keys --------------------------------------------------------------------------------------


def test_a_business_is_its_credit_code_when_given_else_its_normalised_name_and_county() -> None:
    assert respondent_key(GYM) == f"uscc:{GYM.credit_code}"
    named = Respondent("兰州 金城健身俱乐部（城关店）有限公司", operating_region="620102")
    assert respondent_key(named) == "name:兰州金城健身俱乐部城关店@620102"
    same = Respondent("兰州金城健身俱乐部(城关店)", operating_region="620102")
    assert respondent_key(same) == respondent_key(named)
    elsewhere = Respondent("兰州金城健身俱乐部(城关店)", operating_region="620103")
    assert respondent_key(elsewhere) != respondent_key(named)
    assert normalise_name("ＡＢＣ健身 有限责任公司") == "abc健身"
    assert normalise_name("有限公司") == "有限公司"  # nothing but a legal form: kept
    shop = Respondent(
        "某某旗舰店", form=BusinessForm.PLATFORM_SHOP, platform_name="某宝", shop_name="某某旗舰店"
    )
    assert respondent_key(shop) == "shop:某宝/某某旗舰店"
    assert respondent_key(Respondent("")) == ""


# -- windows -----------------------------------------------------------------------------------


def test_a_window_is_half_open_and_needs_enough_items_and_labels() -> None:
    times = [0, 1, 2, 3, 10]
    assert in_qualifying_windows(times, ["a", "b", "c", "d", "e"], 4, 4, 4) == {0, 1, 2, 3}
    assert in_qualifying_windows(times, ["a", "b", "c", "d", "e"], 3, 4, 4) == set()  # [0, 3)
    assert in_qualifying_windows(times, ["a", "a", "b", "b", "e"], 4, 4, 3) == set()
    assert in_qualifying_windows(times, ["a", "a", "b", "b", "e"], 4, 4, 2) == {0, 1, 2, 3}
    assert in_qualifying_windows([], [], 4, 1, 1) == set()


@given(
    st.lists(st.tuples(st.integers(0, 60), st.sampled_from("abcdef")), max_size=25),
    st.integers(1, 20),
    st.integers(1, 6),
    st.integers(1, 6),
)
def test_the_linear_window_scan_agrees_with_checking_every_window(
    items: list[tuple[int, str]], window: int, min_count: int, min_distinct: int
) -> None:
    items.sort()
    times, labels = [t for t, _ in items], [lab for _, lab in items]
    expected: set[int] = set()
    for start in times:
        inside = [i for i, t in enumerate(times) if start <= t < start + window]
        if len(inside) >= min_count and len({labels[i] for i in inside}) >= min_distinct:
            expected.update(inside)
    assert in_qualifying_windows(times, labels, window, min_count, min_distinct) == expected


# -- group complaints --------------------------------------------------------------------------


def test_five_consumers_against_one_gym_within_a_week_make_one_incident_for_the_city() -> None:
    five = [complaint(n, day) for n, day in enumerate([0.4, 1.5, 2.1, 4.9, 6.3])]
    (found,) = find_groups(five, RULE, LANZHOU)
    assert found.members == ("T000", "T001", "T002", "T003", "T004")
    assert found.to_link == found.members
    assert found.to_unit == LANZHOU and found.respondent_key == GYM_KEY
    assert found.incident_id == incident_id_for(LANZHOU, GYM_KEY, five[0])
    assert found.incident_id.startswith("GI-20261201-")
    assert find_groups(list(reversed(five)), RULE, LANZHOU) == [found]  # order does not matter


@pytest.mark.parametrize(
    ("days", "why"),
    [
        ([0, 1, 2, 3], "four complaints are not a group"),
        ([0, 2, 4, 6, 8], "five spread over more than seven days are not"),
        ([0, 1, 2, 3, 7], "the window is 7 x 24 hours: day 7 at the same hour is outside it"),
    ],
)
def test_too_few_complaints_in_one_window_make_no_group(days: list[float], why: str) -> None:
    assert find_groups([complaint(n, d) for n, d in enumerate(days)], RULE, LANZHOU) == [], why


def test_consumers_are_counted_not_tickets() -> None:
    same_person = [complaint(n, n / 2, consumer="consumer-1") for n in range(6)]
    assert find_groups(same_person, RULE, LANZHOU) == []
    four_people = [*same_person, *(complaint(10 + n, 1, consumer=f"c{n}") for n in range(3))]
    assert find_groups(four_people, RULE, LANZHOU) == []
    five_people = [*four_people, complaint(20, 2, consumer="c9")]
    (found,) = find_groups(five_people, RULE, LANZHOU)
    assert len(found.members) == 10


def test_only_the_kinds_of_the_rule_count_and_other_businesses_apart() -> None:
    five = [complaint(n, n) for n in range(5)]
    consultation = replace(five[4], kind=TicketKind.CONSULTATION)
    assert find_groups([*five[:4], consultation], RULE, LANZHOU) == []
    composite = replace(five[4], kind=TicketKind.COMPOSITE)
    assert len(find_groups([*five[:4], composite], RULE, LANZHOU)) == 1
    other = replace(five[4], respondent_key="uscc:OTHER", name_key="name:别家@620102")
    assert find_groups([*five[:4], other], RULE, LANZHOU) == []


def test_the_thresholds_are_data() -> None:
    three = [complaint(n, n) for n in range(3)]
    assert find_groups(three, RULE, LANZHOU) == []
    assert len(find_groups(three, GroupRule(min_consumers=3, window_days=3), LANZHOU)) == 1
    assert find_groups(three, GroupRule(min_consumers=3, window_days=2), LANZHOU) == []


def test_a_whole_window_between_two_bursts_makes_two_incidents() -> None:
    march = [complaint(n, n / 3) for n in range(5)]
    june = [complaint(10 + n, 30 + n / 3) for n in range(5)]
    first, second = find_groups([*june, *march], RULE, LANZHOU)
    assert first.members == tuple(c.ticket_id for c in march)
    assert second.members == tuple(c.ticket_id for c in june)
    assert first.incident_id != second.incident_id


def test_complaints_naming_the_business_only_join_those_with_its_credit_code() -> None:
    coded = [complaint(n, n) for n in range(3)]
    named = [complaint(10 + n, 3 + n / 2, key=GYM_NAME_KEY) for n in range(2)]
    (found,) = find_groups([*coded, *named], RULE, LANZHOU)
    assert found.respondent_key == GYM_KEY and len(found.members) == 5
    # Two codes under one name: the name alone cannot say which business is meant.
    twin = replace(coded[0], ticket_id="T099", respondent_key="uscc:TWIN", consumer_key="c99")
    assert find_groups([*coded, *named, twin], RULE, LANZHOU) == []


def test_members_already_linked_keep_the_smallest_id_and_only_the_others_are_linked() -> None:
    five = [complaint(n, n) for n in range(5)]
    linked = [
        replace(five[0], incident_id="GI-20261201-bbbbbbbbbbbb"),
        replace(five[1], incident_id="GI-20261201-aaaaaaaaaaaa"),
        *five[2:],
    ]
    (found,) = find_groups(linked, RULE, LANZHOU)
    assert found.incident_id == "GI-20261201-aaaaaaaaaaaa"
    assert found.to_link == ("T000", "T002", "T003", "T004")
    done = [replace(c, incident_id=found.incident_id) for c in five]
    assert find_groups(done, RULE, LANZHOU)[0].to_link == ()


def test_incidents_go_to_the_city_of_the_detecting_unit() -> None:
    assert city_of("620102") == "620100"
    assert city_of("620100") == "620100"
    assert city_of("620102001") == "620100"


# -- emergencies -------------------------------------------------------------------------------


def registration(**changes: object) -> TicketRegistered:
    """The registration of the gym complaint of ``tests.helpers.domain``, with ``changes``."""
    return register_ticket(draft(**changes), HUB, context(), ticket_id="T1")


def test_emergencies_are_found_by_keyword_or_category_and_go_to_the_province() -> None:
    rule = EmergencyRule()
    poisoned = registration(facts="在店内就餐后一家四口食物中毒，已送医。", category="餐饮服务")
    assert emergency_reasons(poisoned, rule) == ("keyword:食物中毒",)
    by_category = registration(facts="就餐后不适", category="食品/食物中毒")
    assert emergency_reasons(by_category, rule) == ("category:食物中毒",)
    by_request = registration(request="请尽快排查安全隐患")
    assert emergency_reasons(by_request, rule) == ("keyword:安全隐患",)
    gym = registration()
    assert emergency_reasons(gym, rule) == ()
    assert emergency_reasons(by_category, EmergencyRule(keywords=(), categories=())) == ()
    assert emergency_reasons(gym, EmergencyRule(keywords=("闭店",))) == ("keyword:闭店",)
    assert emergency_destination(poisoned) == "620000"
    hunan = registration(respondent=respondent(operating="430202"))
    assert emergency_destination(hunan) == "430000"


# -- professional claimants --------------------------------------------------------------------


def filing(n: int, day: float, business: str, filer: str = "filer") -> Filing:
    return Filing(
        f"T{n:03d}", START + int(day * DAY_MS), TicketKind.COMPLAINT, filer, f"uscc:{business}"
    )


def test_five_tickets_against_three_businesses_within_thirty_days_flag_the_filer() -> None:
    filings = [filing(n, n * 5, b) for n, b in enumerate("AABBC")]
    (found,) = find_claimants(filings, ClaimantRule())
    assert (found.tickets, found.businesses) == (5, 3)
    assert found.to_flag == found.members == ("T000", "T001", "T002", "T003", "T004")
    assert find_claimants([*filings, filing(9, 3, "D", "someone-else")], ClaimantRule()) == [found]
    flagged = [replace(f, flagged=True) if f.ticket_id < "T002" else f for f in filings]
    assert find_claimants(flagged, ClaimantRule())[0].to_flag == ("T002", "T003", "T004")


@pytest.mark.parametrize(
    ("filings", "why"),
    [
        ([filing(n, n, b) for n, b in enumerate("AABBA")], "two businesses only"),
        ([filing(n, n, b) for n, b in enumerate("ABCD")], "four tickets only"),
        ([filing(n, n * 8, b) for n, b in enumerate("ABCAB")], "spread over 32 days"),
    ],
)
def test_fewer_tickets_or_businesses_or_a_longer_spread_flag_nobody(
    filings: list[Filing], why: str
) -> None:
    assert find_claimants(filings, ClaimantRule()) == [], why


def test_rules_come_from_a_settings_table_with_defaults_for_the_rest() -> None:
    rules = IncidentRules.from_mapping(
        {
            "groups": {"min_consumers": 3, "window_days": 2},
            "emergencies": {"keywords": ["闭店"]},
            "claimants": {"kinds": ["report"]},
        }
    )
    assert rules.groups == GroupRule(min_consumers=3, window_days=2)
    assert rules.emergencies.keywords == ("闭店",)
    assert rules.emergencies.categories == EmergencyRule().categories
    assert rules.claimants.kinds == (TicketKind.REPORT,)
    assert IncidentRules.from_mapping({}) == IncidentRules()
    for bad, field in [
        ({"groups": {"min_consumers": 0}}, "groups.min_consumers"),
        ({"groups": {"window": 7}}, "incidents.groups"),
        ({"claimants": {"window_days": "30"}}, "incidents.claimants.window_days"),
        ({"claimants": {"kinds": ["complaint", "gossip"]}}, "incidents.claimants.kinds"),
        ({"campaigns": {}}, "incidents"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            IncidentRules.from_mapping(bad)
        assert caught.value.field == field


# -- the fold ----------------------------------------------------------------------------------


def recorded(
    h: History, by: Officer, event: object, *, hlc: int, version: int, node: str = ""
) -> RecordedEvent:
    """``event`` as recorded by ``by`` on ``node`` at a chosen clock and ticket version."""
    node = node or f"node-{by.unit_code}"
    meta = EventMeta(f"{node}-{hlc}", h.ticket_id, node, hlc, hlc, by.ref(), version)
    return RecordedEvent(meta, event)  # type: ignore[arg-type]


def link(incident_id: str, to_unit: str = LANZHOU) -> GroupIncidentLinked:
    return GroupIncidentLinked(incident_id, GYM_KEY, to_unit)


def test_a_ticket_keeps_the_smallest_incident_id_and_counts_one_id_once() -> None:
    h = routed()
    base = h.events[-1].meta.hlc
    h.events += [
        recorded(h, CITY_SWEEP, link("GI-20261202-bbbb"), hlc=base + 10, version=2),
        recorded(h, COUNTY_SWEEP, link("GI-20261201-aaaa"), hlc=base + 20, version=3),
        recorded(h, CITY_SWEEP, link("GI-20261201-aaaa"), hlc=base + 30, version=4),
        recorded(h, CITY_SWEEP, link("GI-20261203-cccc"), hlc=base + 40, version=5),
    ]
    state = h.state
    assert state.incident is not None
    assert state.incident.incident_id == "GI-20261201-aaaa"
    assert state.incident.origin_node == "node-620102"  # the first link to that id
    assert state.incident.linked_hlc == base + 20
    assert not state.in_conflict and state.version == 6


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_links_from_several_nodes_converge_whatever_order_they_arrive_in(
    data: st.DataObject,
) -> None:
    h = routed()
    base = h.events[-1].meta.hlc
    ids = data.draw(
        st.lists(st.sampled_from(["GI-1-a", "GI-1-b", "GI-2-a", "GI-3-z"]), min_size=1, max_size=6)
    )
    events = [
        recorded(
            h,
            data.draw(st.sampled_from([CITY_SWEEP, COUNTY_SWEEP])),
            link(i),
            hlc=base + data.draw(st.integers(1, 50)) * 10 + n,
            version=data.draw(st.integers(2, 6)),
        )
        for n, i in enumerate(ids)
    ]
    arrivals = data.draw(st.permutations([*h.events, *events]))
    state = fold(h.ticket_id, arrivals)
    assert state == fold(h.ticket_id, [*h.events, *events])
    assert state.incident is not None and state.incident.incident_id == min(ids)
    assert not state.in_conflict


def test_the_first_emergency_and_claimant_flag_count_and_later_ones_are_history() -> None:
    h = routed()
    base = h.events[-1].meta.hlc
    h.events += [
        recorded(
            h,
            PROVINCE_SWEEP,
            EmergencyEscalated(("keyword:食物中毒",), "620000"),
            hlc=base + 1,
            version=2,
        ),
        recorded(
            h,
            COUNTY_SWEEP,
            EmergencyEscalated(("keyword:起火",), "620000"),
            hlc=base + 2,
            version=3,
        ),
        recorded(h, PROVINCE_SWEEP, FLAG, hlc=base + 3, version=4),
        recorded(h, PROVINCE_SWEEP, replace(FLAG, tickets=9), hlc=base + 4, version=5),
    ]
    state = h.state
    assert state.emergency is not None and state.emergency.reasons == ("keyword:食物中毒",)
    assert state.emergency.to_unit == "620000" and state.emergency.origin_node == "node-620000"
    assert state.claimant is not None and state.claimant.tickets == 5
    assert state.claimant.related_ticket_ids == ("T2", "T3")
    assert not state.in_conflict


@pytest.mark.parametrize(
    ("by", "event", "reason"),
    [
        (CITY_SWEEP, link("GI-1", to_unit="620102"), "goes to a city"),
        (CITY_SWEEP, link(""), "needs an id"),
        (TIANSHUI_SWEEP, link("GI-1", to_unit="620500"), "has no part"),
        (TIANSHUI_SWEEP, link("GI-1"), "a city it is not in"),
        (OTHER_COUNTY_SWEEP, link("GI-1"), "has no part"),
        (COUNTY_SWEEP, EmergencyEscalated(("keyword:起火",), "620100"), "goes to a province"),
        (OTHER_COUNTY_SWEEP, EmergencyEscalated(("keyword:起火",), "620000"), "has no part"),
        (OTHER_COUNTY_SWEEP, ProfessionalClaimantFlagged("手机 1", 5, 3, 30), "has no part"),
    ],
)
def test_a_mark_that_is_malformed_or_from_a_unit_with_no_part_is_a_conflict(
    by: Officer, event: object, reason: str
) -> None:
    h = routed()
    h.events.append(recorded(h, by, event, hlc=h.events[-1].meta.hlc + 1, version=2))
    state = h.state
    (conflict,) = state.conflicts
    assert reason in conflict.reason
    assert (state.incident, state.emergency, state.claimant) == (None, None, None)


def test_marks_fit_a_closed_ticket_and_one_still_at_the_hub() -> None:
    at_hub = History.registered(HUB, draft())
    at_hub.events.append(
        recorded(at_hub, PROVINCE_SWEEP, FIRE, hlc=at_hub.events[-1].meta.hlc + 1, version=1)
    )
    assert at_hub.state.emergency is not None and not at_hub.state.in_conflict
    closed = closed_complaint()
    version = len(closed.events)
    closed.events.append(
        recorded(closed, CITY_SWEEP, link("GI-1"), hlc=closed.last_hlc + 1, version=version)
    )
    assert closed.state.incident is not None and not closed.state.in_conflict


# -- convergence across nodes ------------------------------------------------------------------


def detect(view: list[Complaint], links: dict[str, str]) -> dict[str, str]:
    """One node's detection over the complaints it holds, knowing ``links``: the new links."""
    known = [replace(c, incident_id=links.get(c.ticket_id, "")) for c in view]
    return {t: f.incident_id for f in find_groups(known, RULE, LANZHOU) for t in f.to_link}


def merged(*link_sets: dict[str, str]) -> dict[str, str]:
    """What every node holds once all links have travelled: each ticket's smallest id."""
    out: dict[str, str] = {}
    for links in link_sets:
        for ticket_id, incident_id in links.items():
            out[ticket_id] = min(out.get(ticket_id, incident_id), incident_id)
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 20), st.integers(0, 8), st.sampled_from(["county", "city", "both"])),
        max_size=18,
    ),
    st.randoms(use_true_random=False),
)
def test_a_county_and_a_city_that_saw_different_parts_converge_on_one_incident_id(
    tickets: list[tuple[float, int, str]], rng: random.Random
) -> None:
    complaints = [complaint(n, day, consumer=f"c{who}") for n, (day, who, _) in enumerate(tickets)]
    seen = [where for _, _, where in tickets]
    # Walk-ins only the county holds, calls only the city holds yet, and tickets both hold:
    # each detects on its own part before hearing of the other.
    county_view = [c for c, where in zip(complaints, seen, strict=True) if where != "city"]
    city_view = [c for c, where in zip(complaints, seen, strict=True) if where != "county"]
    first = [detect(county_view, {}), detect(city_view, {})]
    rng.shuffle(first)
    links = merged(*first)
    # Once the links have travelled both hold everything; each relinks at most once.
    again = [detect(complaints, links), detect(complaints, links)]
    assert again[0] == again[1]  # the same facts, whoever records them
    links = merged(links, *again)
    assert detect(complaints, links) == {}
    assert detect(county_view, links) == {} and detect(city_view, links) == {}
    ever_minted = merged(*first)
    for found in find_groups(
        [replace(c, incident_id=links.get(c.ticket_id, "")) for c in complaints], RULE, LANZHOU
    ):
        assert {links[t] for t in found.members} == {found.incident_id}
        minted = [ever_minted[t] for t in found.members if t in ever_minted]
        assert found.incident_id == (min(minted) if minted else found.incident_id)


def test_a_state_decoded_from_the_view_carries_the_marks() -> None:
    h = routed()
    base = h.events[-1].meta.hlc
    h.events += [
        recorded(h, CITY_SWEEP, link("GI-1"), hlc=base + 1, version=2),
        recorded(
            h,
            PROVINCE_SWEEP,
            EmergencyEscalated(("keyword:起火",), "620000"),
            hlc=base + 2,
            version=3,
        ),
        recorded(
            h,
            PROVINCE_SWEEP,
            ProfessionalClaimantFlagged("手机 1", 5, 3, 30, ("T9",)),
            hlc=base + 3,
            version=4,
        ),
    ]
    state = h.state
    assert from_message(TicketState, to_message(state, ticket_pb2.Ticket)) == state
