"""Detection round after round finds what a full pass finds (claimants and group complaints).

After a first full pass a round looks only at the filers (``province_hub.claimants``) or the
businesses (``city_node.group_complaints``) with a signals row written since the last
recorded round. These tests build the signals view of a node, let tickets arrive between
rounds (some from a county's late backlog, received weeks ago, some leaving the jurisdiction
or turning out duplicates, old ones leaving the lookback as time passes), and at every round
compare the incremental plan with a full pass over the same view at the same time; then record
what it found as the projection would (the row's ``claimant`` mark or ``incident_id``, written
in storing order).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event

from city_node.group_complaints import GroupComplaints
from core.incidents import DAY_MS, ClaimantRule, GroupRule
from core.ticket.events import GroupIncidentLinked
from core.ticket.state import TicketStatus
from core.ticket.vocabulary import TicketKind
from core.units import Unit, UnitLevel
from node.jobs.detection import Detector, Plan, SearchMark
from node.storage.database import Database
from node.storage.tables import ticket_signals
from node.views.signals import write_signal_rows
from province_hub.claimants import ClaimantFinding, Claimants

F = TypeVar("F")
PROVINCE = Unit("620000", "甘肃省市场监督管理局", UnitLevel.PROVINCE)
START_MS = 1_796_000_000_000
"""An instant late in 2026: the rounds' clock starts here."""
PHONES = ("p1", "p2", "p3", "")
IDS = ("i1", "i2", "")
CITY = Unit("620100", "兰州市市场监督管理局", UnitLevel.CITY, "620000")
BUSINESSES = (
    ("uscc:A", "name:gym@620102"),
    ("uscc:B", "name:gym@620102"),  # the same name under a second code: names resolve to none
    ("name:gym@620102", "name:gym@620102"),  # by name only
    ("uscc:C", "name:school@620102"),
    ("name:school@620102", "name:school@620102"),
    ("uscc:A", "name:fitness@620103"),  # the first code under another name, in another county
    ("name:fitness@620103", "name:fitness@620103"),
)
"""Businesses as the signals view keys them: (``respondent_key``, ``name_key``)."""
HOLDERS = ("620102", "620100", "620200", "630100")  # Lanzhou's county and city, Jiayuguan, Qinghai


@dataclass(frozen=True)
class Arrival:
    """A ticket stored between two rounds, received ``days_ago`` days before the round."""

    phone: str
    id_number: str
    business: tuple[str, str]
    days_ago: int
    holder: str
    kind: TicketKind


@dataclass(frozen=True)
class Change:
    """A stored ticket (the ``pick``-th, modulo) turns out a duplicate or changes holder."""

    pick: int
    holder: str
    duplicate: bool


@dataclass(frozen=True)
class Round:
    """What happens before a round: time passes, tickets arrive, some change."""

    hours_later: int
    arrivals: tuple[Arrival, ...]
    changes: tuple[Change, ...]


arrivals = st.builds(
    Arrival,
    phone=st.sampled_from(PHONES),
    id_number=st.sampled_from(IDS),
    business=st.sampled_from(BUSINESSES),
    days_ago=st.one_of(st.just(0), st.integers(0, 45)),  # a late backlog reaches 45 days
    holder=st.sampled_from(HOLDERS),
    kind=st.sampled_from((TicketKind.COMPLAINT, TicketKind.REPORT, TicketKind.CONSULTATION)),
)
changes = st.builds(
    Change, pick=st.integers(0, 1000), holder=st.sampled_from(HOLDERS), duplicate=st.booleans()
)
rounds = st.lists(
    st.builds(
        Round,
        hours_later=st.sampled_from((0, 1, 24, 24 * 10)),
        arrivals=st.lists(arrivals, max_size=6).map(tuple),
        changes=st.lists(changes, max_size=2).map(tuple),
    ),
    min_size=1,
    max_size=7,
)


class SignalsView:
    """The signals view of a province, written as the projection writes it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows: dict[str, dict[str, object]] = {}
        with db.write() as conn:
            conn.execute(delete(ticket_signals))

    def store(self, rows: list[dict[str, object]]) -> None:
        """One writer transaction writing ``rows``."""
        for row in rows:
            self.rows[str(row["ticket_id"])] = row
        with self.db.write() as conn:
            write_signal_rows(conn, [dict(r) for r in rows])

    def arrive(self, now_ms: int, arrival: Arrival) -> None:
        ticket_id = f"T{len(self.rows):04d}"
        self.store(
            [
                {
                    "ticket_id": ticket_id,
                    "kind": arrival.kind.value,
                    "status": TicketStatus.ROUTED.value,
                    "holder_unit": arrival.holder,
                    "received_ms": now_ms - arrival.days_ago * DAY_MS,
                    "respondent_key": arrival.business[0],
                    "name_key": arrival.business[1],
                    "respondent_name": arrival.business[1],
                    "phone_key": arrival.phone,
                    "id_key": arrival.id_number,
                    "incident_id": "",
                    "incident_key": "",
                    "incident_to": "",
                    "emergency_to": "",
                    "emergency_reasons": "",
                    "claimant": False,
                }
            ]
        )

    def change(self, change: Change) -> None:
        ticket_id = sorted(self.rows)[change.pick % len(self.rows)]
        row = dict(self.rows[ticket_id], holder_unit=change.holder)
        if change.duplicate:
            row["status"] = TicketStatus.DUPLICATE.value
        self.store([row])

    def flag(self, plan: Plan[ClaimantFinding]) -> None:
        """Record a claimant plan: each ticket's row now carries the claimant mark."""
        self.store([dict(self.rows[t], claimant=True) for t in sorted(plan.findings)])

    def link(self, plan: Plan[GroupIncidentLinked]) -> None:
        """Record a group plan: each ticket's row carries the smallest incident id it was
        linked to (the fold's rule)."""
        rows = []
        for ticket_id, links in sorted(plan.findings.items()):
            carried = [str(self.rows[ticket_id]["incident_id"])]
            smallest = min(i for i in [*carried, *(link.incident_id for link in links)] if i)
            rows.append(dict(self.rows[ticket_id], incident_id=smallest))
        self.store(rows)


class Rounds(ABC, Generic[F]):
    """A node's search over the view, round after round, checked against a full pass."""

    def __init__(
        self,
        db: Database,
        search: Detector[F],
        record: Callable[[SignalsView, Plan[F]], None],
    ) -> None:
        self.view = SignalsView(db)
        self.search = search
        self._record = record
        self.now_ms = START_MS
        self.searched: SearchMark | None = None

    def plan(self, after: SearchMark | None) -> Plan[F]:
        with self.view.db.read() as conn:
            return self.search.plan(conn, self.now_ms, after)

    def round(self, step: Round) -> Plan[F]:
        """Time passes, tickets arrive and change, then a round: its plan must be a full
        pass's; what it found is recorded."""
        self.now_ms += step.hours_later * 3_600_000
        for arrival in step.arrivals:
            self.view.arrive(self.now_ms, arrival)
        for change in step.changes if self.view.rows else ():
            self.view.change(change)
        incremental = self.plan(self.searched)
        assert incremental.findings == self.plan(None).findings
        self._record(self.view, incremental)
        self.searched = incremental.searched
        return incremental

    @abstractmethod
    def lower_threshold(self) -> None:
        """The rule changes: a lower threshold."""


class Province(Rounds[ClaimantFinding]):
    """The province's claimant search (3 tickets against 2 businesses in 7 days)."""

    def __init__(self, db: Database) -> None:
        rule = ClaimantRule(min_tickets=3, min_businesses=2, window_days=7)
        self.claimants = Claimants(PROVINCE, rule)
        super().__init__(db, self.claimants, SignalsView.flag)

    def lower_threshold(self) -> None:
        self.claimants.rule = replace(self.claimants.rule, min_tickets=2)


class City(Rounds[GroupIncidentLinked]):
    """The city's group search (3 consumers in 7 days)."""

    def __init__(self, db: Database) -> None:
        self.groups = GroupComplaints(CITY, GroupRule(min_consumers=3, window_days=7))
        super().__init__(db, self.groups, SignalsView.link)

    def lower_threshold(self) -> None:
        self.groups.rule = replace(self.groups.rule, min_consumers=2)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    yield database
    database.close()


@pytest.mark.parametrize("node", [Province, City], ids=["claimants", "groups"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=rounds, rule_change_at=st.one_of(st.none(), st.integers(0, 6)))
def test_rounds_that_look_only_at_what_was_written_since_find_what_a_full_pass_finds(
    db: Database,
    node: Callable[[Database], Rounds[object]],
    script: list[Round],
    rule_change_at: int | None,
) -> None:
    rounds = node(db)
    for number, step in enumerate(script):
        if number == rule_change_at:  # the next round is a full pass
            rounds.lower_threshold()
        rounds.round(step)


def test_a_late_backlog_received_weeks_ago_is_searched_when_it_is_stored(db: Database) -> None:
    """A county offline for weeks sends its tickets at once: received long ago, stored now.
    Two were searched already; the backlog's three complete the filer's run."""
    province = Province(db)
    old = [Arrival("p1", "", b, 20, "620102", TicketKind.COMPLAINT) for b in BUSINESSES[:2]]
    assert province.round(Round(0, tuple(old), ())).findings == {}
    backlog = [Arrival("p1", "", b, 19, "620102", TicketKind.COMPLAINT) for b in BUSINESSES[1:4]]
    flagged = province.round(Round(24, tuple(backlog), ())).findings
    assert sorted(flagged) == sorted(province.view.rows)
    assert {f[0].tickets for f in flagged.values()} == {5}
    # Only the flags were written since: the next round finds nothing more to flag.
    assert province.round(Round(1, (), ())).findings == {}


def test_a_changed_rule_is_applied_to_filers_searched_before(db: Database) -> None:
    """Two tickets against two businesses are below the rule's three; lowered to two, the
    next round flags them though nothing was stored since."""
    province = Province(db)
    two = tuple(Arrival("p1", "", b, 1, "620102", TicketKind.REPORT) for b in BUSINESSES[:2])
    assert province.round(Round(0, two, ())).findings == {}
    province.lower_threshold()
    assert sorted(province.round(Round(1, (), ())).findings) == sorted(province.view.rows)


def test_a_clock_set_back_makes_the_next_round_a_full_pass(db: Database) -> None:
    """Three tickets received 35 days ago lie beyond the lookback; with the clock set back ten
    days they are within it again, and the round finds them though nothing was written."""
    province = Province(db)
    old = tuple(
        Arrival("p1", "", BUSINESSES[b], 35, "620102", TicketKind.REPORT) for b in (0, 3, 3)
    )
    assert province.round(Round(0, old, ())).findings == {}
    assert sorted(province.round(Round(-10 * 24, (), ())).findings) == sorted(province.view.rows)


def complaint(consumer: str, business: int, days_ago: int = 0) -> Arrival:
    return Arrival(consumer, "", BUSINESSES[business], days_ago, "620102", TicketKind.COMPLAINT)


def test_a_complaint_by_name_joins_its_codes_group_under_another_name(db: Database) -> None:
    """Gym A has a second name in another county; a complaint that gives that name only is
    counted with A's (the one code known for the name): the third consumer makes the group,
    though none of A's earlier rows changed."""
    city = City(db)
    assert city.round(Round(0, (complaint("p1", 0), complaint("p2", 5)), ())).findings == {}
    found = city.round(Round(1, (complaint("p3", 6),), ())).findings
    assert len(found) == 3 and {links[0].respondent_key for links in found.values()} == {"uscc:A"}


def test_a_code_leaving_the_lookback_joins_the_names_complaints_to_the_other(
    db: Database,
) -> None:
    """Two codes for the gym's name keep its name-only complaints apart; when the second
    code's only complaint leaves the 30-day lookback they count with the first, and make a
    group though nothing was written since."""
    city = City(db)
    gym = (complaint("p1", 1, days_ago=20), complaint("p2", 0), *(complaint(p, 2) for p in "xy"))
    assert city.round(Round(0, gym, ())).findings == {}
    assert len(city.round(Round(11 * 24, (), ())).findings) == 3


@pytest.mark.parametrize("node", [Province, City], ids=["claimants", "groups"])
def test_a_round_after_a_recorded_one_reads_by_the_indexes(
    db: Database, node: Callable[[Database], Rounds[object]]
) -> None:
    """No statement of an incremental round scans the signals table or the lookback: rows
    are read by storing order and by key (SQLite's query plans are read; PostgreSQL's depend
    on the table's statistics)."""
    if db.backend != "sqlite":
        pytest.skip("query plans are read on SQLite")
    rounds = node(db)
    many = tuple(
        Arrival(f"p{n}", f"i{n}", BUSINESSES[n % 4], n % 20, "620102", TicketKind.COMPLAINT)
        for n in range(300)
    )
    rounds.round(Round(0, many, ()))
    rounds.view.arrive(rounds.now_ms, many[7])
    statements: list[tuple[str, object]] = []

    def seen(conn: object, cursor: object, sql: str, params: object, *_: object) -> None:
        if sql.startswith("SELECT"):
            statements.append((sql, params))

    engine = db.reader_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        rounds.plan(rounds.searched)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with db.read() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        steps = [
            str(step[-1])
            for sql, params in statements
            for step in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)  # type: ignore[arg-type]
        ]
    assert not any(step.startswith("SCAN ticket_signals") for step in steps), steps
    assert not any("(received_ms>?)" in step for step in steps), steps  # the whole lookback
    assert any("ix_ticket_signals_change_seq" in step for step in steps), steps
