"""``hotline queue``: a unit's supervision queue, as a supervisor reads it (督办).

Overdue duties, duties due soon, tickets escalated to the unit from below, the rest; then the
group incidents (群体投诉) and emergencies (紧急) waiting in the unit's queue. Deadlines are
shown as their due date, ending at 24:00 China time, and a date counted over a year whose
holidays are not loaded says it is provisional (暂定).
"""

from __future__ import annotations

import argparse

from core.ticket.state import TicketStatus
from core.ticket.vocabulary import Duty
from node.cli.catalogue import Audience, Catalogue, node_flags
from node.cli.display import china_time, due_date, provisional_mark
from node.cli.session_file import node_client
from node.cli.terms import term_of


def _queue(args: argparse.Namespace) -> int:
    with node_client(args) as client:
        queue = client.queue(args.unit, args.within)
    sections = (
        ("OVERDUE", queue.overdue),
        (f"due within {args.within} working days", queue.due_soon),
        ("escalated to us (督办)", queue.escalated_to_us),
        ("later", queue.later),
    )
    print(f"queue of {queue.unit_code}")
    for title, entries in sections:
        print(f"{title}: {len(entries)}")
        for e in entries:
            climbed = (
                f", escalated {e.escalation_level}x to {e.escalated_to}" if e.escalated_to else ""
            )
            print(
                f"  {e.ticket_id}  {term_of(Duty, e.duty)}  {e.unit_code}  "
                f"due {due_date(e.due_ms)}{provisional_mark(e.unknown_years)}  "
                f"{e.working_days_left:+d} working days{climbed}"
            )
    print(f"group incidents (群体投诉): {len(queue.incidents)}")
    for i in queue.incidents:
        print(
            f"  {i.incident_id}  {i.respondent_name or i.respondent_key}  "
            f"{len(i.ticket_ids)} tickets ({i.open_tickets} open) received "
            f"{china_time(i.first_received_ms)} .. {china_time(i.last_received_ms)}  "
            f"at {', '.join(i.holder_units)}"
        )
        for ticket_id in i.ticket_ids:
            print(f"    {ticket_id}")
    print(f"emergencies (紧急): {len(queue.emergencies)}")
    for m in queue.emergencies:
        print(
            f"  {m.ticket_id}  {m.respondent_name}  {', '.join(m.reasons)}  "
            f"{term_of(TicketStatus, m.status)} at {m.holder_unit}  "
            f"received {china_time(m.received_ms)}"
        )
    return 0


def add_supervision_commands(catalogue: Catalogue) -> None:
    """Register ``queue``."""
    queue = catalogue.command(
        Audience.SUPERVISORS,
        "queue",
        summary="a unit's deadlines: overdue, due soon, escalated to it; incidents, emergencies",
        description="Each duty with its due date (24:00 China time) and the working days left; "
        "a date counted over a year whose holidays the province has not loaded is marked "
        "'provisional 暂定' and moves when `hotline rules holidays` loads them.",
        examples=[
            "hotline queue --node 127.0.0.1:7100 --officer 620000-02",
            "hotline queue --node 127.0.0.1:7300 --unit 620102 --within 5",
        ],
        run=_queue,
    )
    node_flags(queue, officer=False)
    queue.add_argument(
        "--unit", default="", metavar="CODE", help="the unit whose queue (default: the node's own)"
    )
    queue.add_argument(
        "--within",
        type=int,
        default=3,
        metavar="DAYS",
        help="horizon of 'due soon', in working days (default 3)",
    )
