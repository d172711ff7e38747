"""A ticket's filer on the command line: masked in ``hotline show``, in full on request.

``hotline show`` prints the filer as the node answers it, masked (张*, 139****0001), with what
the node holds of their personal data in Chinese and English (``personal_lines``), and every
look at a field in full: who, from which unit, which field, why, when (China time). ``hotline
reveal`` asks for one field in full with a purpose (查看个人信息); the node records the look as a
signed event before it answers, and the command says so beside the value.
"""

from __future__ import annotations

import argparse

from core.ticket.vocabulary import PersonalField
from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import china_time_of_hlc
from node.cli.session_file import node_client
from node.cli.terms import choices_with_terms, term
from proto.hotline.v1 import ticket_pb2
from sync.codec import enum_member, enum_number

STATUS_WORDS: dict[int, str] = {
    ticket_pb2.PERSONAL_DATA_STATUS_MASKED: "已脱敏 masked",
    ticket_pb2.PERSONAL_DATA_STATUS_NOT_HELD: "本节点未持有 not held here",
    ticket_pb2.PERSONAL_DATA_STATUS_ERASED: "已删除 erased",
}
"""What the answering node holds of a filer's personal data, in Chinese and English."""

FIELDS = ("name", "phone", "address", "id_number")
"""The consumer's personal fields, in the order shown."""


def personal_lines(ticket: ticket_pb2.Ticket) -> list[str]:
    """The filer as answered (masked), what the node holds of them, and every look in full."""
    status = STATUS_WORDS.get(ticket.personal_status, "unknown 未知")
    consumer = ticket.registration.consumer
    lines = [f"  filer (个人信息): {status}"]
    for name in FIELDS:
        if getattr(consumer, name):
            lines.append(f"    {term(PersonalField(name))}: {getattr(consumer, name)}")
    if not ticket.reveals:
        lines.append("  looks in full (查看记录): none")
        return lines
    lines.append("  looks in full (查看记录):")
    for r in ticket.reveals:
        which = enum_member(PersonalField, r.field, "field")
        lines.append(
            f"    {china_time_of_hlc(r.revealed_hlc)}  {r.officer_name} ({r.officer_id}, "
            f"{r.unit_code})  {term(which)}  purpose (用途): {r.purpose}"
        )
    return lines


def add_personal_commands(catalogue: Catalogue) -> None:
    """Register ``hotline reveal``."""
    reveal = catalogue.command(
        Audience.HANDLERS,
        "reveal",
        summary="see one personal field of a ticket's filer in full, for a stated purpose "
        "(查看个人信息)",
        description="Every page shows the filer masked. This asks the node for one field in "
        "full; the node records the look first, as an event signed in your name with your "
        "purpose, which goes up to the units above, and as a row of its access record. A "
        "report's filer (举报人) is shown only to the head of the unit holding the ticket.",
        examples=[
            "hotline reveal 620000-5d2c1a-000001 --node 127.0.0.1:7300 --officer 620102-07 "
            '--field phone --purpose "调解需联系消费者"'
        ],
        run=run_reveal,
    )
    reveal.add_argument("ticket", metavar="TICKET", help="the ticket id")
    node_flags(reveal, officer=True)
    required = required_flags(reveal)
    required.add_argument(
        "--field",
        required=True,
        choices=[f.value for f in PersonalField],
        metavar="FIELD",
        help=f"the field to see: {choices_with_terms(PersonalField)}",
    )
    required.add_argument(
        "--purpose",
        required=True,
        metavar="TEXT",
        help="why you look (4 to 200 characters); kept with the record of the look",
    )


def run_reveal(args: argparse.Namespace) -> int:
    """``hotline reveal TICKET --field F --purpose P``: the value, and the record of the look."""
    which = PersonalField(args.field)
    with node_client(args) as client:
        revealed = client.reveal(args.ticket, enum_number(which), args.purpose)
    print(f"{args.ticket} {term(which)}: {revealed.value}")
    print(f"已记录查看 (look recorded): event {revealed.event_id}")
    return 0
