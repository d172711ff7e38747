"""What `hotline` prints for officers: tables with headers, tickets in words, China time.

The nodes run in-process on a clock pinned to Tuesday 2026-12-01 10:00 in China (02:00 UTC,
while the machine runs in UTC), so every time printed can be checked to the second; the
commands run in-process through ``node.cli.main.main``.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import socket
import time
import uuid
from dataclasses import replace

import pytest

from core.deadlines.china_time import CHINA_TZ
from node.app.clock import Clock
from node.app.levels import profile_of
from node.app.wiring import build_node
from node.cli.display import china_time, iso_china, width, yuan
from node.cli.main import main as hotline
from node.cli.serve import _run
from node.devnet.samples import demo_tickets
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message
from tests.helpers.world import World, spec

TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
"""When everything in these tests happens (the test certificates are valid then)."""

CENTRE = ["--officer", "620000-01"]
HANDLER = ["--officer", "620102-07"]
HEAD = ["--officer", "620102-01"]


def pinned() -> Clock:
    return Clock(_real=lambda: TUESDAY_10.timestamp())


def run(world: World, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """``hotline argv`` in-process, signed in as the officer it names; expects exit 0 and
    returns what it printed."""
    capsys.readouterr()
    status = hotline(world.signed_in(list(argv)))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def start(world: World) -> tuple[str, str]:
    """Province, city and county on the pinned clock; the client ports of province and county."""
    for name in ("province", "city", "chengguan"):
        world.start(spec(name), clock=pinned())
    return world["province"].target, world["chengguan"].target


def register_and_route(
    world: World, capsys: pytest.CaptureFixture[str], province: str, label: str
) -> str:
    """Register a sample ticket at the province and route it with ``hotline route-ticket``."""
    with world["province"].client("620000-01") as centre:
        ticket = to_message(dict(demo_tickets())[label], intake_pb2.NewTicket)
        ticket_id = centre.register(uuid.uuid4().hex, ticket).ticket_id
    run(world, capsys, "route-ticket", ticket_id, "--node", province, *CENTRE)
    return ticket_id


def test_china_time_is_shown_with_its_zone_whatever_the_machine_s_zone() -> None:
    at = int(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert china_time(at) == "2026-12-01 10:00:00 +08:00"
    assert china_time(at + 14 * 3_600_000) == "2026-12-02 00:00:00 +08:00"
    assert iso_china(at + 297) == "2026-12-01T10:00:00.297+08:00"
    assert china_time(0) == "never"
    assert yuan(300_000) == "3,000.00 yuan (元)" and yuan(5) == "0.05 yuan (元)"


def test_list_has_a_header_row_and_gives_json_and_csv(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    province, _ = start(world)
    gym = register_and_route(world, capsys, province, "gym")
    noodles = register_and_route(world, capsys, province, "noodles")

    lines = run(world, capsys, "list", "--node", province, *CENTRE).splitlines()
    assert lines[0].split() == [
        "TICKET", "KIND", "STATUS", "HOLDER", "STATION", "RECEIVED", "CATEGORY", "RESPONDENT",
        "CONFLICT",
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {gym, noodles} and lines[-1] == "2 ticket(s)"
    assert "complaint 投诉" in rows[gym] and "routed 已分流" in rows[gym]
    assert "2026-12-01 10:00:00 +08:00" in rows[gym]
    # columns line up under the header on a terminal, where a Chinese character is two wide
    row = rows[gym]
    assert width(row[: row.index("routed")]) == width(lines[0][: lines[0].index("STATUS")])
    assert width(row[: row.index("2026-")]) == width(lines[0][: lines[0].index("RECEIVED")])

    as_json = json.loads(run(world, capsys, "list", "--node", province, *CENTRE, "--json"))
    by_id = {t["ticket"]: t for t in as_json}
    assert by_id[gym]["status"] == "routed" and by_id[gym]["status_zh"] == "已分流"
    assert by_id[gym]["holder"] == "620102"
    assert by_id[gym]["received"] == "2026-12-01T10:00:00.000+08:00"

    as_csv = list(
        csv.reader(io.StringIO(run(world, capsys, "list", "--node", province, *CENTRE, "--csv")))
    )
    assert as_csv[0] == [
        "ticket", "kind", "status", "holder", "station", "received", "category", "respondent",
        "conflict",
    ]  # fmt: skip
    assert sorted(r[0] for r in as_csv[1:]) == sorted([gym, noodles])
    assert {r[0]: r[2] for r in as_csv[1:]}[gym] == "routed"


def test_show_prints_every_field_of_the_ticket_in_words(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    province, county = start(world)
    gym = register_and_route(world, capsys, province, "gym")
    old = register_and_route(world, capsys, province, "fridge")
    world.sync("city", "chengguan")
    at_county = ["--node", county]
    run(world, capsys, "accept-complaint", gym, *at_county, *HANDLER, "--note", "已受理")
    run(
        world, capsys, "end-mediation", gym, *at_county, *HANDLER, "--outcome", "agreement",
        "--agreement", "退款3000元", "--amount-recovered-fen", "300000",
    )  # fmt: skip
    run(
        world, capsys, "submit-result", gym, *at_county, *HANDLER, "--track", "complaint",
        "--summary", "经调解，商家退款3000元",
    )  # fmt: skip
    run(world, capsys, "approve-result", gym, *at_county, *HEAD, "--track", "complaint")
    run(
        world, capsys, "refuse-complaint", old, *at_county, *HANDLER, "--ground", "time_barred",
        "--notice", "超过三年，不予受理",
    )  # fmt: skip
    world.sync("chengguan", "city")
    run(
        world, capsys, "record-callback", gym, "--node", province, *CENTRE,
        "--satisfaction", "satisfied", "--note", "已收到退款",
    )  # fmt: skip

    shown = run(world, capsys, "show", gym, "--node", province, *CENTRE)
    assert shown.splitlines()[0] == (
        f"ticket {gym}: closed 已办结 at 620102 [complaint: closed 已办结]"
    )
    for words in (
        "kind: complaint 投诉",
        "channel: phone 电话",
        "filer (个人信息): 已脱敏 masked",
        "name 姓名: 张*",
        "phone 电话: 139****0001",
        "agreement (调解协议): 退款3000元",
        "amount recovered: 3,000.00 yuan (元)",
        "mediation outcome: agreement 达成调解协议",
        "rating (满意度): satisfied 满意",
        "note: 已收到退款",
        "summary: 经调解，商家退款3000元",
        "handler name: 李强",
        "accepted at: 2026-12-01 10:00:00 +08:00",
        "amount involved: 3,000.00 yuan (元)",
    ):
        assert words in shown, words
    history = shown[shown.index("history (fold order):") :]
    assert "TicketRegistered 登记" in history and "MediationEnded 调解终结" in history
    assert "by 李强 (620102-07, 620102)" in history and "signature ok" in history
    assert "CallbackRecorded 回访" in history and "2026-12-01 10:00:00 +08:00" in history
    assert "Z " not in shown and "UTC" not in shown
    assert "张伟" not in shown and "13909310001" not in shown

    refused = run(world, capsys, "show", old, "--node", county, *HANDLER)
    assert "refusal ground (不予受理理由): time_barred 超过三年" in refused
    assert "notice to the consumer: 超过三年，不予受理" in refused
    assert "stage: refused 不予受理" in refused


def test_assigning_to_a_station_the_county_does_not_know_says_to_add_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    province, county = start(world)
    gym = register_and_route(world, capsys, province, "gym")
    world.sync("city", "chengguan")
    run(world, capsys, "accept-complaint", gym, "--node", county, *HANDLER)
    capsys.readouterr()
    status = hotline(
        world.signed_in(
            ["assign-to-station", gym, "--node", county, *HANDLER, "--station-code", "620102001"]
        )
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert "unknown unit code '620102001'" in err[0]
    assert "hotline add-unit --code 620102001 --level station --parent 620102" in err[0]
    run(
        world, capsys, "add-unit", "--node", county, "--code", "620102001",
        "--name", "张掖路市场监管所", "--level", "station", "--parent", "620102",
    )  # fmt: skip
    assigned = run(
        world, capsys, "assign-to-station", gym, "--node", county, *HANDLER,
        "--station-code", "620102001",
    )  # fmt: skip
    assert "station 620102001" in assigned


def test_sync_status_queue_and_rules_show_times_in_china_time(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    province, county = start(world)
    register_and_route(world, capsys, province, "gym")
    world.sync("city", "chengguan")
    status = run(world, capsys, "sync", "status", "--node", county)
    assert "last success 2026-12-01 10:00:00 +08:00" in status
    assert "0 not yet down" in status
    queue = run(world, capsys, "queue", "--node", county, *HANDLER)
    assert "decide_acceptance 受理/不予受理" in queue
    assert "due 2026-12-10 24:00 +08:00" in queue  # the due date and its end, China time
    info = run(world, capsys, "info", "--node", county)
    assert "county 县(区)局" in info and "last success 2026-12-01 10:00:00 +08:00" in info


def test_a_port_taken_after_the_check_still_ends_in_one_line(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start(spec("province"))
    settings = world.settings["province"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        second = replace(settings, data_dir=world.root / "second", port=port, db=world.db_urls())
        world.hierarchy.enrol(second.data_dir, "620000", int(time.time() * 1000))
        node = build_node(second, profile_of(second.level))
        with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1"):
            asyncio.run(_run(node, second, None))
