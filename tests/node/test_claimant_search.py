"""The province's claimant search, round after round, finds what a full pass finds.

After a first full pass a round looks only at the filers with a signals row written since the
last recorded round (``province_hub.claimants``). These tests build the signals view of a
province, let tickets arrive between rounds (some from a county's late backlog, received weeks
ago, some leaving the province or turning out duplicates), and at every round compare the
incremental plan with a full pass over the same view at the same time; then record the flags
as the projection would (the row's ``claimant`` mark, written in storing order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event

from core.incidents import DAY_MS, ClaimantRule
from core.ticket.state import TicketStatus
from core.ticket.vocabulary import TicketKind
from core.units import Unit, UnitLevel
from node.jobs.detection import Plan, SearchMark
from node.storage.database import Database
from node.storage.tables import ticket_signals
from node.views.signals import write_signal_rows
from province_hub.claimants import ClaimantFinding, Claimants

PROVINCE = Unit("620000", "甘肃省市场监督管理局", UnitLevel.PROVINCE)
START_MS = 1_796_000_000_000
"""An instant late in 2026: the rounds' clock starts here."""
PHONES = ("p1", "p2", "p3", "")
IDS = ("i1", "i2", "")
BUSINESSES = ("uscc:a", "uscc:b", "uscc:c", "uscc:d")
HOLDERS = ("620102", "620100", "630100")  # two in the province, one in Qinghai


@dataclass(frozen=True)
class Arrival:
    """A ticket stored between two rounds, received ``days_ago`` days before the round."""

    phone: str
    id_number: str
    business: str
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
                    "respondent_key": arrival.business,
                    "name_key": "",
                    "respondent_name": arrival.business,
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
        """Record the plan's flags: each ticket's row now carries the claimant mark."""
        self.store([dict(self.rows[t], claimant=True) for t in sorted(plan.findings)])


class Province:
    """The province's search over the view, round after round, checked against a full pass."""

    def __init__(self, db: Database) -> None:
        self.view = SignalsView(db)
        self.search = Claimants(
            PROVINCE, ClaimantRule(min_tickets=3, min_businesses=2, window_days=7)
        )
        self.now_ms = START_MS
        self.searched: SearchMark | None = None

    def plan(self, after: SearchMark | None) -> Plan[ClaimantFinding]:
        with self.view.db.read() as conn:
            return self.search.plan(conn, self.now_ms, after)

    def round(self, step: Round) -> Plan[ClaimantFinding]:
        """Time passes, tickets arrive and change, then a round: its plan must be a full
        pass's; its flags are recorded."""
        self.now_ms += step.hours_later * 3_600_000
        for arrival in step.arrivals:
            self.view.arrive(self.now_ms, arrival)
        for change in step.changes if self.view.rows else ():
            self.view.change(change)
        incremental = self.plan(self.searched)
        assert incremental.findings == self.plan(None).findings
        self.view.flag(incremental)
        self.searched = incremental.searched
        return incremental


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    yield database
    database.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=rounds, rule_change_at=st.one_of(st.none(), st.integers(0, 6)))
def test_rounds_that_look_only_at_changed_filers_find_what_a_full_pass_finds(
    db: Database, script: list[Round], rule_change_at: int | None
) -> None:
    province = Province(db)
    for number, step in enumerate(script):
        if number == rule_change_at:  # the next round is a full pass
            province.search.rule = replace(province.search.rule, min_tickets=2)
        province.round(step)


def test_a_late_backlog_received_weeks_ago_is_searched_when_it_is_stored(db: Database) -> None:
    """A county offline for weeks sends its tickets at once: received long ago, stored now.
    Two were searched already; the backlog's three complete the filer's run."""
    province = Province(db)
    old = [Arrival("p1", "", b, 20, "620102", TicketKind.COMPLAINT) for b in BUSINESSES[:2]]
    assert province.round(Round(0, tuple(old), ())).findings == {}
    backlog = [Arrival("p1", "", b, 19, "620102", TicketKind.COMPLAINT) for b in BUSINESSES[1:]]
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
    province.search.rule = replace(province.search.rule, min_tickets=2)
    assert sorted(province.round(Round(1, (), ())).findings) == sorted(province.view.rows)


def test_a_round_after_a_recorded_one_searches_by_the_indexes(db: Database) -> None:
    """No statement of an incremental round scans the signals table (SQLite's query plans
    are read; PostgreSQL's depend on the table's statistics)."""
    if db.backend != "sqlite":
        pytest.skip("query plans are read on SQLite")
    province = Province(db)
    many = tuple(
        Arrival(f"p{n}", f"i{n}", BUSINESSES[n % 4], n % 20, "620102", TicketKind.COMPLAINT)
        for n in range(300)
    )
    province.round(Round(0, many, ()))
    province.view.arrive(province.now_ms, many[7])
    statements: list[tuple[str, object]] = []

    def seen(conn: object, cursor: object, sql: str, params: object, *_: object) -> None:
        if sql.startswith("SELECT"):
            statements.append((sql, params))

    engine = db.reader_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        found = province.plan(province.searched)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert found.findings == {}
    assert len(statements) == 3  # the last change, then the filers by phone and by ID
    with db.read() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        steps = [
            str(step[-1])
            for sql, params in statements
            for step in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)  # type: ignore[arg-type]
        ]
    assert not any(step.startswith("SCAN ticket_signals") for step in steps), steps
    assert any("ix_ticket_signals_change_seq" in step for step in steps), steps
