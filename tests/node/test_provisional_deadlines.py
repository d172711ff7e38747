"""A deadline counted over a year the calendar does not know says so, until the year arrives.

The ``chinese-calendar`` package installed here (1.11) stops at 2026, so a node counts 2027 by
weekends only until the province loads its holidays (``hotline rules holidays``). A complaint
walked in at Chengguan on Thursday 2026-12-31 owes its acceptance decision in 7 working days:

* weekends only: Fri 2027-01-01 (1), Mon 01-04 (2), 01-05, 01-06, 01-07, Fri 01-08 (6),
  Mon 01-11 (7): due 2027-01-11, **provisional** (暂定) in the registration's answer, the
  queue, the ticket's deadlines and the obligations view, at the county and above it;
* with 1-3 January 2027 rest days: 01-04 (1), 01-05, 01-06, 01-07, 01-08 (5), 01-11 (6),
  01-12 (7): due 2027-01-12, final, on every node once the province's rule book reaches it.

The nodes run in-process on a clock the test moves by hand; the commands of ``hotline`` run
in-process through ``node.cli.main.main``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from core.deadlines.holidays import package_years
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.devnet.samples import demo_tickets
from node.edge.client import CallError
from node.storage.tables import obligations
from proto.hotline.v1 import intake_pb2, rules_pb2
from sync.codec import to_message
from tests.helpers.clock import HandMovedTime, china, end_of
from tests.helpers.tickets import entries
from tests.helpers.world import World

SUPERVISOR = 1  # 刘洋, the province's supervisor: amends the rule book
NEW_YEAR_2027 = rules_pb2.HolidayYear(
    year=2027, rest_days=["2027-01-01", "2027-01-02", "2027-01-03"]
)


def walk_in(world: World) -> intake_pb2.RegisterTicketResponse:
    """The gym complaint, registered by Chengguan's handler for a business in Chengguan."""
    ticket = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
    with world.officer("chengguan") as handler:
        return handler.register(uuid.uuid4().hex, ticket)


def deadline_rows(world: World, node: str) -> list[tuple[str, str, int, str]]:
    """The obligations view of a node: (duty, unit, due instant, provisional years)."""
    with world[node].node.db.read() as conn:
        rows = conn.execute(
            select(
                obligations.c.duty,
                obligations.c.unit_code,
                obligations.c.due_ms,
                obligations.c.provisional,
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_deadline_over_an_unknown_year_is_provisional_until_its_holidays_arrive(
    world: World,
) -> None:
    assert 2027 not in package_years()  # else this test must move to a year it does not know
    time = HandMovedTime(china("2026-12-31", 10))  # Thursday
    world.start_line(clock=Clock(_real=time))

    registered = walk_in(world)
    ticket_id = registered.ticket_id
    (answer,) = registered.deadlines
    assert (answer.duty, answer.unit_code) == ("decide_acceptance", "620102")
    assert answer.due_ms == end_of("2027-01-11")  # weekends only
    assert answer.provisional and list(answer.unknown_years) == [2027]

    with world.officer("chengguan") as handler:
        (queued,) = entries(handler.queue())
        (shown,) = handler.deadlines(ticket_id).deadlines
    assert (queued.ticket_id, queued.due_ms) == (ticket_id, end_of("2027-01-11"))
    assert queued.provisional and list(queued.unknown_years) == [2027]
    assert shown == answer  # the registration answered with the row its transaction wrote
    assert deadline_rows(world, "chengguan") == [
        ("decide_acceptance", "620102", end_of("2027-01-11"), "2027")
    ]

    world.sync("chengguan", "city")  # the walk-in goes up: the province sees the same guess
    with world.officer("province") as centre:
        (above,) = centre.deadlines(ticket_id).deadlines
    assert above.due_ms == end_of("2027-01-11") and above.provisional

    with world.officer("province", SUPERVISOR) as supervisor:
        supervisor.amend_rules(rules_pb2.RuleAmendment(holiday_year=NEW_YEAR_2027))
    with world.officer("province") as centre:
        (above,) = centre.deadlines(ticket_id).deadlines
    assert above.due_ms == end_of("2027-01-12") and not above.provisional
    assert not above.unknown_years
    with world.officer("chengguan") as handler:  # the county has not heard yet
        (queued,) = entries(handler.queue())
    assert queued.due_ms == end_of("2027-01-11") and queued.provisional

    world.sync("city", "chengguan")  # the rule book goes down in the next round
    with world.officer("chengguan") as handler:
        (queued,) = entries(handler.queue())
        (shown,) = handler.deadlines(ticket_id).deadlines
    assert (queued.ticket_id, queued.due_ms) == (ticket_id, end_of("2027-01-12"))
    assert not queued.provisional and not queued.unknown_years
    assert shown.due_ms == end_of("2027-01-12") and not shown.provisional
    assert deadline_rows(world, "chengguan") == [
        ("decide_acceptance", "620102", end_of("2027-01-12"), "")
    ]
    with world.officer("city") as city:
        assert not city.deadlines(ticket_id).deadlines[0].provisional


def test_a_retried_registration_answers_with_the_same_deadlines_and_one_awaiting_dispatch_none(
    world: World,
) -> None:
    world.start_line(clock=Clock(_real=HandMovedTime(china("2026-12-31", 10))))
    ticket = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
    with world.officer("chengguan") as handler:
        first = handler.register("walk-in-0001", ticket)
        again = handler.register("walk-in-0001", ticket)
    assert again.replayed and again.ticket_id == first.ticket_id
    assert list(again.deadlines) == list(first.deadlines) and first.deadlines[0].provisional
    with world.officer("province") as centre:
        waiting = centre.register(uuid.uuid4().hex, ticket)
        assert not waiting.deadlines  # the province's dispatchers have not routed it yet
        assert not centre.deadlines(waiting.ticket_id).deadlines
    with world.officer("chengguan") as handler:
        with pytest.raises(CallError) as missing:
            handler.deadlines("no-such-ticket")
        assert missing.value.code == "NOT_FOUND"
        with pytest.raises(CallError) as empty:
            handler.deadlines("")
        assert empty.value.code == "INVALID_ARGUMENT" and "ticket_id" in empty.value.message


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """``hotline argv`` in-process; expects exit 0 and returns what it printed."""
    capsys.readouterr()
    status = hotline(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def test_register_queue_and_show_mark_the_guessed_date_and_print_the_final_one_later(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start_line(clock=Clock(_real=HandMovedTime(china("2026-12-31", 10))))
    county = world["chengguan"].cli("620102-07")
    registered = run(
        capsys, "register", *county, "--kind", "complaint", "--channel", "visit",
        "--source-line", "12315", "--consumer-name", "张伟", "--consumer-phone", "13909310001",
        "--respondent-name", "兰州金城健身俱乐部有限公司", "--respondent-operating-region",
        "620102", "--category", "预付式消费/健身", "--facts", "健身房停业，余额不退",
    )  # fmt: skip
    first, deadline, *_ = registered.splitlines()  # then the consumer's code
    ticket_id = first.split()[1].rstrip(":")
    guessed = "due 2027-01-11 24:00 +08:00 (provisional 暂定: 2027 holidays not loaded)"
    assert deadline == f"  decide_acceptance 受理/不予受理  owed by 620102  {guessed}"

    queue = run(capsys, "queue", *county)
    assert f"{ticket_id}  decide_acceptance 受理/不予受理  620102  {guessed}" in queue
    shown = run(capsys, "show", ticket_id, *county)
    heading = "deadlines (时限):\n  decide_acceptance 受理/不予受理  owed by 620102"
    assert f"{heading}  {guessed}\n" in shown
    assert shown.index("deadlines (时限)") < shown.index("history (fold order)")
    (as_json,) = json.loads(run(capsys, "show", ticket_id, *county, "--json"))["deadlines"]
    assert as_json["provisional"] is True and as_json["unknownYears"] == [2027]

    holidays = tmp_path / "2027.toml"
    holidays.write_text(
        'year = 2027\nrest_days = ["2027-01-01", "2027-01-02", "2027-01-03"]\nworkdays = []\n',
        encoding="utf-8",
    )
    province = world["province"].cli("620000-02")
    run(capsys, "rules", "holidays", str(holidays), *province)
    world.sync("city", "chengguan")
    queue = run(capsys, "queue", *county)
    final = "due 2027-01-12 24:00 +08:00"
    assert (
        f"{ticket_id}  decide_acceptance 受理/不予受理  620102  {final}  +7 working days" in queue
    )
    assert "provisional" not in queue
    shown = run(capsys, "show", ticket_id, *county)
    assert f"{heading}  {final}\n" in shown and "provisional" not in shown
