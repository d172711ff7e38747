"""``hotline odr disputes|dispute``: the ODR disputes a node holds, as its officers read them.

The enterprise works its disputes in the portal or its own system through OdrService; the
bureau's officers follow them here (在线消费纠纷解决, DOMAIN.md §8): which complaints are with
which enterprise, where each stands (negotiating, awaiting the consumer, settled, converted,
withdrawn), when the ODR limit falls due, and each dispute's history. Read through
IntakeService (ListTickets, GetTicket), so the officer's own jurisdiction applies; the consumer
shows masked, as on every officer's page.
"""

from __future__ import annotations

import argparse

from core.odr.dispute import OdrStepKind, OdrStepRecord
from core.ticket.state import TicketState
from core.ticket.vocabulary import Duty, TicketKind
from node.cli.catalogue import Audience, Catalogue, node_flags
from node.cli.display import china_time, china_time_of_hlc, due_date, table, yuan
from node.cli.session_file import node_client
from node.cli.terms import term
from node.edge.client import NodeClient
from sync.codec import enum_number, from_message

COUNTY = "--node 127.0.0.1:7300 --officer 620102-01"


def _dispute_states(client: NodeClient, unit: str) -> list[TicketState]:
    """The complaints held under ``unit`` that went through the green channel."""
    found = []
    for summary in client.list_tickets(holder_prefix=unit):
        if summary.kind != enum_number(TicketKind.COMPLAINT):
            continue
        ticket = client.get(summary.ticket_id)
        if ticket.HasField("dispute"):
            found.append(from_message(TicketState, ticket))
    return found


def _due(client: NodeClient, ticket_id: str) -> str:
    for d in client.deadlines(ticket_id).deadlines:
        if d.duty == Duty.ODR_ANSWER.value:
            return due_date(d.due_ms)
    return "-"


def _disputes(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        states = _dispute_states(client, args.unit)
        rows = []
        for state in states:
            dispute = state.dispute
            assert dispute is not None
            if not args.all and not dispute.open:
                continue
            rows.append(
                [
                    state.ticket_id,
                    term(dispute.status),
                    dispute.enterprise_name or dispute.credit_code,
                    dispute.enterprise_unit,
                    china_time_of_hlc(dispute.opened_hlc),
                    _due(client, state.ticket_id) if dispute.open else "-",
                    dispute.converted_to_unit or "-",
                ]
            )
    headers = ["ticket", "status", "enterprise", "enrolled at", "opened", "ODR due", "now at"]
    print(f"ODR disputes (在线消费纠纷): {len(rows)}")
    for line in table(headers, rows):
        print(line)
    return 0


def _step_line(step: OdrStepRecord) -> str:
    parts = [china_time_of_hlc(step.recorded_hlc), term(step.kind), f"by {step.by_name}"]
    if step.kind is OdrStepKind.CONTACT and step.method is not None:
        when = china_time(int(step.contacted_at.timestamp() * 1000)) if step.contacted_at else ""
        parts.append(f"{term(step.method)} at {when}")
    if step.kind is OdrStepKind.PROPOSAL:
        parts.append(yuan(step.amount_fen))
    if step.kind is OdrStepKind.ANSWER:
        parts.append("accepted 接受" if step.accepted else "rejected 不接受")
    if step.conversion is not None:
        parts.append(f"{term(step.conversion)} -> {step.to_unit}")
    if step.text:
        parts.append(step.text)
    return "  ".join(parts)


def _dispute(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        state = from_message(TicketState, client.get(args.ticket_id))
        dispute = state.dispute
        if dispute is None:
            print(f"{args.ticket_id} is no ODR dispute (未选择绿色通道)")
            return 1
        due = _due(client, state.ticket_id) if dispute.open else "-"
    print(f"ticket {state.ticket_id}  {term(dispute.status)}")
    print(
        f"enterprise {dispute.enterprise_name} ({dispute.credit_code}), enrolled at "
        f"{dispute.enterprise_unit}"
    )
    print(f"opened {china_time_of_hlc(dispute.opened_hlc)}  ODR due {due}")
    if dispute.proposal_terms:
        print(f"proposal 和解方案: {dispute.proposal_terms} ({yuan(dispute.proposal_amount_fen)})")
    if dispute.converted_to_unit:
        print(f"converted 已转为投诉 to {dispute.converted_to_unit}")
    print("history 协商记录:")
    for step in dispute.steps:
        print(f"  {_step_line(step)}")
    if dispute.ended_hlc:
        print(f"ended {china_time_of_hlc(dispute.ended_hlc)}")
    return 0


def add_odr_dispute_commands(odr: Catalogue) -> None:
    """Register ``odr disputes`` and ``odr dispute`` in the ``odr`` family."""
    disputes = odr.command(
        Audience.HANDLERS,
        "disputes",
        summary="the complaints with ODR enterprises: status, enterprise, ODR due date",
        description="Open disputes only unless --all; the ODR limit ends at 24:00 China time "
        "of its due date, when the county's sweep turns an unsettled dispute into a complaint.",
        examples=[f"hotline odr disputes {COUNTY}", f"hotline odr disputes {COUNTY} --all"],
        run=_disputes,
    )
    node_flags(disputes, officer=True)
    disputes.add_argument(
        "--unit", default="", metavar="CODE", help="only tickets held under this unit code"
    )
    disputes.add_argument(
        "--all", action="store_true", help="settled, converted and withdrawn disputes too"
    )
    one = odr.command(
        Audience.HANDLERS,
        "dispute",
        summary="one ODR dispute: the enterprise, the proposal, the history of its steps",
        examples=[f"hotline odr dispute 620000-3f9a0c-000001 {COUNTY}"],
        run=_dispute,
    )
    one.add_argument("ticket_id", metavar="TICKET", help="the ticket's id")
    node_flags(one, officer=True)
