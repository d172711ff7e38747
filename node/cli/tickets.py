"""The ticket commands: ``register``, ``list``, ``show`` and one command per handling step.

Each handling step of DOMAIN.md is a sub-command named after its core command
(``AcceptComplaint`` -> ``accept-complaint``) whose flags are the command's fields
(``node.cli.ticket_flags``). Every one acts on a node's client port as a named officer.
"""

from __future__ import annotations

import argparse
import re
import typing
import uuid

from core.access.consumer_codes import grouped
from core.ticket import commands as c
from core.ticket.state import TicketStatus
from core.ticket.vocabulary import TicketKind
from node.cli.catalogue import Audience, Catalogue, node_flags
from node.cli.display import china_time_of, csv_text, iso_china, json_text, table
from node.cli.session_file import node_client
from node.cli.show import deadline_line, run_show, status_line
from node.cli.terms import chinese, term
from node.cli.ticket_flags import add_dataclass_flags, dataclass_from_flags
from node.edge.client import NodeClient
from proto.hotline.v1 import casework_pb2, intake_pb2
from sync.codec import enum_member, to_message

STEP_COMMANDS: tuple[type, ...] = typing.get_args(c.TicketCommand)

PROVINCE = "--node 127.0.0.1:7100 --officer 620000-01"
COUNTY = "--node 127.0.0.1:7300 --officer 620102-07"
HEAD = "--node 127.0.0.1:7300 --officer 620102-01"
TICKET = "620000-5d2c1a-000001"

STEPS: dict[type, tuple[Audience, str]] = {
    c.RouteTicket: (Audience.DISPATCHERS, f"{TICKET} {PROVINCE}"),
    c.ReturnTicket: (
        Audience.HANDLERS,
        f"{TICKET} {COUNTY} --reason address_unclear --note 地址不在本区",
    ),
    c.AcceptComplaint: (Audience.HANDLERS, f"{TICKET} {COUNTY} --note 已受理"),
    c.RefuseComplaint: (
        Audience.HANDLERS,
        f'{TICKET} {COUNTY} --ground time_barred --notice "超过三年，不予受理"',
    ),
    c.AssignToStation: (
        Audience.HANDLERS,
        f"{TICKET} {COUNTY} --station-code 620102001 --note 请现场核实",
    ),
    c.PauseMediation: (Audience.HANDLERS, f"{TICKET} {COUNTY} --reason 送检"),
    c.ResumeMediation: (Audience.HANDLERS, f"{TICKET} {COUNTY} --note 检测结果已出"),
    c.EndMediation: (
        Audience.HANDLERS,
        f"{TICKET} {COUNTY} --outcome agreement --agreement 退款3000元 "
        "--amount-recovered-fen 300000",
    ),
    c.VerifyReport: (
        Audience.HANDLERS,
        f"{TICKET} {COUNTY} --finding substantiated --evidence 现场检查属实",
    ),
    c.OpenCase: (Audience.HANDLERS, f"{TICKET} {COUNTY} --case-number 城市监立〔2026〕12号"),
    c.SubmitResult: (
        Audience.HANDLERS,
        f"{TICKET} {COUNTY} --track complaint --summary 经调解，商家退款3000元",
    ),
    c.ApproveResult: (Audience.HANDLERS, f"{TICKET} {HEAD} --track complaint"),
    c.RejectResult: (
        Audience.HANDLERS,
        f"{TICKET} {HEAD} --track complaint --reason 请补充退款凭证",
    ),
    c.AnswerInquiry: (
        Audience.OPERATORS,
        f"{TICKET} {PROVINCE} --answer 可凭发票向商家申请退换",
    ),
    c.RecordCallback: (
        Audience.OPERATORS,
        f"{TICKET} {PROVINCE} --satisfaction satisfied --note 已收到退款",
    ),
    c.RequestExtension: (
        Audience.HANDLERS,
        f"{TICKET} {COUNTY} --duty end_mediation --days 10 --reason 需送检",
    ),
    c.DecideExtension: (
        Audience.SUPERVISORS,
        f"{TICKET} --node 127.0.0.1:7200 --officer 620100-01 --duty end_mediation --approved",
    ),
    c.OrderSupervision: (
        Audience.SUPERVISORS,
        f"{TICKET} --node 127.0.0.1:7100 --officer 620000-02 --order-id D1 --to-unit 620102 "
        "--days 5 --instructions 请书面报告处理进展",
    ),
    c.ReportSupervision: (
        Audience.HANDLERS,
        f"{TICKET} {COUNTY} --order-id D1 --report 已约谈商家，退款中",
    ),
}
"""Who takes each step, and an example of it."""


def kebab(name: str) -> str:
    """``AcceptComplaint`` -> ``accept-complaint``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def plain(doc: str) -> str:
    """Docstring text for a terminal: a field in double backquotes becomes its flag."""
    return re.sub(r"``(\w+)``", lambda m: "--" + m.group(1).replace("_", "-"), doc)


def summary_of(cls: type) -> str:
    """The first line of a class's docstring as a summary: no markup, no capital, no stop."""
    first = plain((cls.__doc__ or "").strip().splitlines()[0]).rstrip(".")
    return first[:1].lower() + first[1:]


def add_ticket_commands(catalogue: Catalogue) -> None:
    """Register ``register``, ``list``, ``show`` and the handling steps."""
    reg = catalogue.command(
        Audience.OPERATORS,
        "register",
        summary="register a call, message or visit as a new ticket (登记)",
        description="Prints the ticket and the deadlines it owes at once (a walk-in at a county "
        "owes its acceptance decision; a ticket awaiting dispatch owes none yet). A due date "
        "counted over a year whose holidays the province has not loaded is marked "
        "'provisional 暂定' and moves when `hotline rules holidays` loads them.",
        examples=[
            f"hotline register {PROVINCE} --kind complaint --channel phone --source-line 12315 "
            "--consumer-name 张伟 --consumer-phone 13909310001 "
            "--respondent-name 兰州金城健身俱乐部有限公司 --respondent-operating-region 620102 "
            '--category 预付式消费/健身 --facts "健身房停业，余额不退"'
        ],
        run=run_register,
    )
    node_flags(reg, officer=True)
    add_dataclass_flags(reg, c.RegisterTicket)
    reg.add_argument(
        "--request-id",
        default=None,
        metavar="KEY",
        help="idempotency key: the same key registers once however often it is sent "
        "(default: a random one)",
    )

    lst = catalogue.command(
        Audience.OPERATORS,
        "list",
        summary="list the tickets a node holds, one line each with a header row",
        examples=[
            f"hotline list {PROVINCE}",
            f"hotline list {PROVINCE} --holder 6201 --csv > lanzhou.csv",
        ],
        run=run_list,
    )
    node_flags(lst, officer=True)
    lst.add_argument(
        "--holder", default="", metavar="PREFIX", help="only tickets held under this unit prefix"
    )
    lst.add_argument(
        "--conflicts", action="store_true", help="only tickets in conflict (for a supervisor)"
    )
    form = lst.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON (a list of objects)")
    form.add_argument("--csv", action="store_true", help="print CSV with a header row")

    show = catalogue.command(
        Audience.OPERATORS,
        "show",
        summary="everything about one ticket, in words, and its signed history",
        description="Between the ticket and its history: its open duties on this node, each "
        "with its due date (24:00 China time), marked 'provisional 暂定' where the date was "
        "counted over a year whose holidays are not loaded.",
        examples=[f"hotline show {TICKET} {PROVINCE}"],
        run=run_show,
    )
    show.add_argument("ticket", metavar="TICKET", help="the ticket id")
    node_flags(show, officer=True)
    show.add_argument("--json", action="store_true", help="print the ticket and history as JSON")

    for cls in STEP_COMMANDS:
        audience, example = STEPS[cls]
        name = kebab(cls.__name__)
        doc = plain((cls.__doc__ or "").strip())
        step = catalogue.command(
            audience,
            name,
            summary=summary_of(cls),
            description="\n".join(doc.splitlines()[1:]).strip(),
            examples=[f"hotline {name} {example}"],
            run=run_step,
        )
        step.add_argument("ticket", metavar="TICKET", help="the ticket id")
        node_flags(step, officer=True)
        add_dataclass_flags(step, cls)
        step.set_defaults(step_class=cls)


def _client(args: argparse.Namespace) -> NodeClient:
    return node_client(args)


def run_register(args: argparse.Namespace) -> int:
    """``hotline register``."""
    command = dataclass_from_flags(c.RegisterTicket, args)
    ticket = to_message(command, intake_pb2.NewTicket)
    with _client(args) as client:
        response = client.register(args.request_id or uuid.uuid4().hex, ticket)  # type: ignore[arg-type]
    note = " (already registered by this request)" if response.replayed else ""
    print(f"registered {response.ticket_id}{note}: {status_line(response.ticket)}")
    for deadline in response.deadlines:
        print(deadline_line(deadline))
    if response.consumer_code:
        print(
            f"consumer's verification code (查询码), shown once: tell it to the consumer: "
            f"{grouped(response.consumer_code)}"
            + (" (a new one: the earlier code no longer works)" if response.replayed else "")
        )
    return 0


LIST_COLUMNS = (
    "ticket",
    "kind",
    "status",
    "holder",
    "station",
    "received",
    "category",
    "respondent",
    "conflict",
)


def _row(t: intake_pb2.TicketSummary) -> dict[str, str]:
    return {
        "ticket": t.ticket_id,
        "kind": enum_member(TicketKind, t.kind, "kind").value if t.kind else "",
        "status": enum_member(TicketStatus, t.status, "status").value,
        "holder": t.holder_unit,
        "station": t.assigned_station,
        "received": iso_china(t.received_at.ToMilliseconds()) if t.HasField("received_at") else "",
        "category": t.category,
        "respondent": t.respondent_name,
        "conflict": "yes" if t.in_conflict else "",
    }


def run_list(args: argparse.Namespace) -> int:
    """``hotline list``: a table with a header row, or ``--json`` / ``--csv``."""
    with _client(args) as client:
        found = client.list_tickets(holder_prefix=args.holder, in_conflict_only=args.conflicts)
    rows = [_row(t) for t in found]
    if args.json:
        for row, t in zip(rows, found, strict=True):
            row["status_zh"] = chinese(TicketStatus(row["status"]))
            row["version"] = str(t.version)
        print(json_text(rows))
        return 0
    if args.csv:
        print(csv_text(LIST_COLUMNS, [[r[k] for k in LIST_COLUMNS] for r in rows]), end="")
        return 0
    shown = [
        [
            r["ticket"],
            term(TicketKind(r["kind"])) if r["kind"] else "",
            term(TicketStatus(r["status"])),
            r["holder"],
            r["station"] or "-",
            china_time_of(t.received_at, never="-"),
            r["category"],
            r["respondent"],
            "CONFLICT" if t.in_conflict else "",
        ]
        for r, t in zip(rows, found, strict=True)
    ]
    for line in table([h.upper() for h in LIST_COLUMNS], shown):
        print(line)
    print(f"{len(rows)} ticket(s)")
    return 0


def run_step(args: argparse.Namespace) -> int:
    """``hotline <step> TICKET ...``: one handling step."""
    cls = args.step_class
    command = dataclass_from_flags(cls, args)
    request = to_message(command, getattr(casework_pb2, f"{cls.__name__}Request"))
    request.ticket_id = args.ticket  # type: ignore[attr-defined]
    with _client(args) as client:
        response = client.step(cls.__name__, request)
    print(f"{args.ticket}: {status_line(response.ticket)}")
    return 0
